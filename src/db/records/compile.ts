import { asc, desc, eq, gte, lt, lte, sql, type Column, type SQL } from 'drizzle-orm';
import { prefixUpperBound } from '../listing.js';
import { encodeCursor, type Cursor } from './cursor.js';
import { FILTER_LIST, NO_MATCH, type SortField, type SqlKit, type Where } from './filters.js';
import type { ObjectQuery } from './query.js';

// A records query as SQL conditions and a keyset order, for either engine: the filters come from
// filters.ts through the engine's SqlKit, the paging from the engine's objects table. Sorting and
// keyset paging use (sort column, id) indexes, so a page costs an index seek whatever its depth.

/** The objects table's columns that sorting and paging use. */
export interface KeysetColumns {
  id: Column;
  key: Column;
  size: Column;
  lastModified: Column;
}

function sortColumn(q: Pick<ObjectQuery, 'sort'>, cols: KeysetColumns): Column {
  const bySort: Record<SortField, Column> = { key: cols.key, size: cols.size, modified: cols.lastModified };
  return bySort[q.sort];
}

/** What an engine gives the filters' SqlKit: its lookups and the SQL that differs between engines. */
export type EngineSql = Pick<SqlKit, 'bucketId' | 'accountId' | 'current' | 'isTrue' | 'contains' | 'jsonMember'> & {
  /** The column as a prefix range compares it: in byte order (a prefix's upper bound is a byte-order bound). */
  bytes(column: Column): SQL;
};

/** The SQL pieces the filters' `where` compile with (filters.ts cannot import them: the console bundles it). */
export function sqlKit(objects: SqlKit['objects'], now: number, engine: EngineSql): SqlKit {
  const { bytes, ...rest } = engine;
  return {
    objects,
    eq,
    gte,
    lt,
    lte,
    sql,
    now,
    ...rest,
    startsWith: (column, prefix) => {
      const c = bytes(column);
      const upper = prefixUpperBound(prefix);
      return upper === undefined ? [gte(c, prefix)] : [gte(c, prefix), lt(c, upper)];
    },
  };
}

/** Every filter's conditions (ANDed); undefined when nothing can match (a bucket that does not exist). */
export function compileFilters(q: ObjectQuery, kit: SqlKit): SQL[] | undefined {
  const conds: SQL[] = [];
  for (const { name, def } of FILTER_LIST) {
    const value = q[name];
    if (value === undefined) continue;
    // parseObjectQuery gave each filter the value its own parser makes, which its `where` takes.
    const where = (def.where as (value: unknown, kit: SqlKit) => Where)(value, kit);
    if (where === NO_MATCH) return undefined;
    if (Array.isArray(where)) conds.push(...where);
    else if (where !== undefined) conds.push(where);
  }
  return conds;
}

/**
 * Rows after the cursor. By key, ties run against the sort (newest first when ascending: the
 * order of objects_key and objects_versions); the other sorts tie on id in their own direction.
 */
export function afterCursor(q: ObjectQuery, c: Cursor, cols: KeysetColumns): SQL {
  const col = sortColumn(q, cols);
  if (q.sort === 'key') {
    return q.order === 'asc'
      ? sql`(${col} >= ${c.v} and (${col} > ${c.v} or ${cols.id} < ${c.i}))`
      : sql`(${col} <= ${c.v} and (${col} < ${c.v} or ${cols.id} > ${c.i}))`;
  }
  // A row value comparison is a single index range on (column, id): the page seeks, never skips.
  return q.order === 'asc' ? sql`(${col}, ${cols.id}) > (${c.v}, ${c.i})` : sql`(${col}, ${cols.id}) < (${c.v}, ${c.i})`;
}

/** ORDER BY of a page: the sort column, then id (see afterCursor for the direction of ties). */
export function keysetOrder(q: ObjectQuery, cols: KeysetColumns): SQL[] {
  const dir = q.order === 'asc' ? asc : desc;
  const tie = q.sort !== 'key' ? dir : q.order === 'asc' ? desc : asc;
  return [dir(sortColumn(q, cols)), tie(cols.id)];
}

/** Cuts the limit + 1 rows fetched to the page, and names the next page when there is one. */
export function pageOf<R extends { id: number; key: string; size: number; lastModified: number }>(q: ObjectQuery, rows: R[]): { rows: R[]; nextCursor?: string } {
  if (rows.length <= q.limit) return { rows };
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1]!;
  const v = q.sort === 'key' ? last.key : q.sort === 'size' ? last.size : last.lastModified;
  return { rows: page, nextCursor: encodeCursor(q, { v, i: last.id }) };
}

// The columns an object record reads, picked from either engine's tables (same names in both).

const VERSION_COLUMNS = ['id', 'versionId', 'deleteMarker', 'size', 'etag', 'lastModified', 'lockMode', 'lockUntil', 'legalHold', 'encryption', 'sseCustomerKeyMd5'] as const;
type VersionColumn = (typeof VERSION_COLUMNS)[number];

/** A version as the key's version list shows it (assemble.ts VersionRow). */
export function versionColumns<T extends Record<VersionColumn, Column>>(objects: T): Pick<T, VersionColumn> {
  return Object.fromEntries(VERSION_COLUMNS.map((name) => [name, objects[name]])) as Pick<T, VersionColumn>;
}

/** A chunk list entry: the placement and its chunk's row, without reading the chunk's bytes. */
export function chunkEntryColumns<P extends Record<'seq' | 'offset' | 'size' | 'chunkHash', Column>, C extends Record<'crc32c' | 'refcount' | 'data', Column>>(
  placements: P,
  chunks: C,
): { seq: P['seq']; offset: P['offset']; size: P['size']; sha256: P['chunkHash']; crc32c: C['crc32c']; refcount: C['refcount']; stored: SQL<'file' | 'inline'> } {
  return {
    seq: placements.seq,
    offset: placements.offset,
    size: placements.size,
    sha256: placements.chunkHash,
    crc32c: chunks.crc32c,
    refcount: chunks.refcount,
    stored: sql<'file' | 'inline'>`case when ${chunks.data} is null then 'file' else 'inline' end`,
  };
}
