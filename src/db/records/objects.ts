import { and, asc, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { ObjectRecord, ObjectSummary } from './shapes.js';
import { buckets, chunks, objectChunks, objectParts, objects } from '../schema.js';
import { prefixUpperBound } from '../listing.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { FILTER_LIST, NO_MATCH, type SortField, type SqlKit, type Where } from './filters.js';
import type { ObjectQuery } from './query.js';

// Object records: pure reads over the drizzle Db. Sorting and keyset paging use (sort column, id)
// indexes, so a page costs an index seek whatever its depth.

const SORT_COLUMNS = { key: objects.key, size: objects.size, modified: objects.lastModified } as const satisfies Record<SortField, unknown>;

/** The SQL pieces the filters' `where` compile with (filters.ts cannot import them: the console bundles it). */
function sqlKit(db: Db): SqlKit {
  return {
    objects,
    eq,
    gte,
    lt,
    lte,
    sql,
    startsWith: (column, prefix) => {
      const upper = prefixUpperBound(prefix);
      return upper === undefined ? [gte(column, prefix)] : [gte(column, prefix), lt(column, upper)];
    },
    bucketId: (name) => db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, name)).get()?.id,
  };
}

/**
 * The compiled query (exported for tests that check its plan). Undefined when nothing can
 * match (the bucket does not exist).
 */
export function objectsQuery(db: Db, q: ObjectQuery) {
  const conds: SQL[] = [];
  const kit = sqlKit(db);
  for (const { name, def } of FILTER_LIST) {
    const value = q[name];
    if (value === undefined) continue;
    // parseObjectQuery gave each filter the value its own parser makes, which its `where` takes.
    const where = (def.where as (value: unknown, kit: SqlKit) => Where)(value, kit);
    if (where === NO_MATCH) return undefined;
    if (Array.isArray(where)) conds.push(...where);
    else if (where !== undefined) conds.push(where);
  }

  const col = SORT_COLUMNS[q.sort];
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, q);
    // A row value comparison is a single index range on (column, rowid): the page seeks, never skips.
    conds.push(q.order === 'asc' ? sql`(${col}, ${objects.id}) > (${c.v}, ${c.i})` : sql`(${col}, ${objects.id}) < (${c.v}, ${c.i})`);
  }
  const dir = q.order === 'asc' ? asc : desc;
  return db
    .select()
    .from(objects)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(dir(col), dir(objects.id))
    .limit(q.limit + 1);
}

export function findObjects(db: Db, q: ObjectQuery): { objects: ObjectSummary[]; nextCursor?: string } {
  const query = objectsQuery(db, q);
  if (!query) return { objects: [] };
  const rows = query.all();
  const more = rows.length > q.limit;
  if (more) rows.length = q.limit;
  const names = bucketNames(db, rows.map((r) => r.bucketId));
  const out: { objects: ObjectSummary[]; nextCursor?: string } = { objects: rows.map((r) => summary(r, names.get(r.bucketId)!)) };
  if (more) {
    const last = rows[rows.length - 1]!;
    const v = q.sort === 'key' ? last.key : q.sort === 'size' ? last.size : last.lastModified;
    out.nextCursor = encodeCursor(q, { v, i: last.id });
  }
  return out;
}

type ObjectRow = typeof objects.$inferSelect;

function bucketNames(db: Db, ids: number[]): Map<number, string> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  return new Map(db.select({ id: buckets.id, name: buckets.name }).from(buckets).where(inArray(buckets.id, unique)).all().map((b) => [b.id, b.name]));
}

function summary(r: ObjectRow, bucket: string): ObjectSummary {
  return {
    bucket,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: new Date(r.lastModified).toISOString(),
    // What a GET answers for an object stored without a type (http/attributes.ts).
    contentType: r.contentType ?? 'binary/octet-stream',
    storageClass: r.storageClass,
    checksumAlgorithm: r.checksumAlgorithm,
    checksumValue: r.checksumValue,
    checksumType: r.checksumType,
    partCount: r.partCount,
    metadata: JSON.parse(r.userMetadata) as Record<string, string>,
  };
}

/** Where a chunk's bytes are, without reading them. */
const storedAs = sql<'file' | 'inline'>`CASE WHEN ${chunks.data} IS NULL THEN 'file' ELSE 'inline' END`;

export function objectRecord(db: Db, bucket: string, key: string): ObjectRecord | undefined {
  const b = db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, bucket)).get();
  if (!b) return undefined;
  const r = db.select().from(objects).where(and(eq(objects.bucketId, b.id), eq(objects.key, key))).get();
  if (!r) return undefined;
  const list = db
    .select({ seq: objectChunks.seq, offset: objectChunks.offset, size: objectChunks.size, sha256: objectChunks.chunkHash, crc32c: chunks.crc32c, refcount: chunks.refcount, stored: storedAs })
    .from(objectChunks)
    .innerJoin(chunks, eq(chunks.hash, objectChunks.chunkHash))
    .where(eq(objectChunks.objectId, r.id))
    .orderBy(asc(objectChunks.seq))
    .all();
  // A chunk repeated inside this object holds one reference per use: shared only beyond those.
  const own = new Map<string, number>();
  for (const c of list) own.set(c.sha256, (own.get(c.sha256) ?? 0) + 1);
  const parts = db
    .select({ partNumber: objectParts.partNumber, offset: objectParts.offset, size: objectParts.size, checksum: objectParts.checksumValue })
    .from(objectParts)
    .where(eq(objectParts.objectId, r.id))
    .orderBy(asc(objectParts.partNumber))
    .all();
  return {
    ...summary(r, bucket),
    contentEncoding: r.contentEncoding,
    contentDisposition: r.contentDisposition,
    contentLanguage: r.contentLanguage,
    cacheControl: r.cacheControl,
    expires: r.expires,
    chunks: list.map((c) => ({ ...c, shared: c.refcount > own.get(c.sha256)! })),
    parts,
  };
}
