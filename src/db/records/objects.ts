import { and, asc, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { LockState, ObjectRecord, ObjectSummary, OwnerRef, VersionEntry } from './shapes.js';
import { buckets, chunks, objectChunks, objectParts, objectTags, objects } from '../schema.js';
import { prefixUpperBound } from '../listing.js';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.js';
import { FILTER_LIST, NO_MATCH, type SortField, type SqlKit, type Where } from './filters.js';
import type { ObjectQuery } from './query.js';
import { accountIdOf, accountNames, ownerRef } from './owners.js';
import { encryptionInfo } from './encryption.js';

// Object records: pure reads over the drizzle Db. Sorting and keyset paging use (sort column, id)
// indexes, so a page costs an index seek whatever its depth. A row is a version: the `versions`
// filter (filters.ts) keeps only current ones unless the query asks for every version.

const SORT_COLUMNS = { key: objects.key, size: objects.size, modified: objects.lastModified } as const satisfies Record<SortField, unknown>;

/** An object record lists at most this many of the key's versions. */
export const VERSIONS_LISTED = 1000;

/** The SQL pieces the filters' `where` compile with (filters.ts cannot import them: the console bundles it). */
function sqlKit(db: Db, now: number): SqlKit {
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
    accountId: (idOrName) => accountIdOf(db, idOrName),
    now,
  };
}

/**
 * Rows after the cursor. By key, ties run against the sort (newest first when ascending: the
 * order of objects_key and objects_versions); the other sorts tie on id in their own direction.
 */
function afterCursor(q: ObjectQuery, c: Cursor): SQL {
  const col = SORT_COLUMNS[q.sort];
  if (q.sort === 'key') {
    return q.order === 'asc'
      ? sql`(${col} >= ${c.v} and (${col} > ${c.v} or ${objects.id} < ${c.i}))`
      : sql`(${col} <= ${c.v} and (${col} < ${c.v} or ${objects.id} > ${c.i}))`;
  }
  // A row value comparison is a single index range on (column, rowid): the page seeks, never skips.
  return q.order === 'asc' ? sql`(${col}, ${objects.id}) > (${c.v}, ${c.i})` : sql`(${col}, ${objects.id}) < (${c.v}, ${c.i})`;
}

/**
 * The compiled query (exported for tests that check its plan). Undefined when nothing can
 * match (the bucket does not exist).
 */
export function objectsQuery(db: Db, q: ObjectQuery, now = Date.now()) {
  const conds: SQL[] = [];
  // First: SQLite seeks by the first range term on a column, and the cursor's is the tightest
  // (a prefix's or a size filter's bound first would make a deep page walk from that bound).
  if (q.cursor !== undefined) conds.push(afterCursor(q, decodeCursor(q.cursor, q)));
  const kit = sqlKit(db, now);
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
  const dir = q.order === 'asc' ? asc : desc;
  const tie = q.sort !== 'key' ? dir : q.order === 'asc' ? desc : asc;
  return db
    .select()
    .from(objects)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(dir(col), tie(objects.id))
    .limit(q.limit + 1);
}

export function findObjects(db: Db, q: ObjectQuery): { objects: ObjectSummary[]; nextCursor?: string } {
  const query = objectsQuery(db, q);
  if (!query) return { objects: [] };
  const rows = query.all();
  const more = rows.length > q.limit;
  if (more) rows.length = q.limit;
  const bucketsById = bucketInfo(db, rows.map((r) => r.bucketId));
  const owners = accountNames(db, rows.map((r) => r.ownerId ?? bucketsById.get(r.bucketId)!.ownerId));
  const latest = latestMarkers(db, rows);
  const out: { objects: ObjectSummary[]; nextCursor?: string } = {
    objects: rows.map((r) => {
      const b = bucketsById.get(r.bucketId)!;
      return summary(r, b.name, r.isCurrent || latest.has(r.id), ownerRef(r.ownerId ?? b.ownerId, owners));
    }),
  };
  if (more) {
    const last = rows[rows.length - 1]!;
    const v = q.sort === 'key' ? last.key : q.sort === 'size' ? last.size : last.lastModified;
    out.nextCursor = encodeCursor(q, { v, i: last.id });
  }
  return out;
}

type ObjectRow = typeof objects.$inferSelect;

function bucketInfo(db: Db, ids: number[]): Map<number, { name: string; ownerId: string }> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = db.select({ id: buckets.id, name: buckets.name, ownerId: buckets.ownerId }).from(buckets).where(inArray(buckets.id, unique)).all();
  return new Map(rows.map((b) => [b.id, b]));
}

/**
 * The delete markers among `rows` that are the newest version of their key. A version that is
 * not a marker is the newest exactly when it is current, so only markers need a look.
 */
function latestMarkers(db: Db, rows: ObjectRow[]): Set<number> {
  const out = new Set<number>();
  const markers = rows.filter((r) => r.deleteMarker);
  if (markers.length === 0) return out;
  const p = sql.placeholder;
  const newest = db
    .select({ id: objects.id })
    .from(objects)
    .where(and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key'))))
    .orderBy(desc(objects.id))
    .limit(1)
    .prepare();
  for (const r of markers) if (newest.get({ bucketId: r.bucketId, key: r.key })?.id === r.id) out.add(r.id);
  return out;
}

function lockState(r: Pick<ObjectRow, 'lockMode' | 'lockUntil' | 'legalHold'>): LockState {
  const held = r.lockMode !== null && r.lockUntil !== null;
  return { mode: held ? r.lockMode : null, retainUntil: held ? new Date(r.lockUntil!).toISOString() : null, legalHold: r.legalHold };
}

function summary(r: ObjectRow, bucket: string, isLatest: boolean, owner: OwnerRef): ObjectSummary {
  return {
    bucket,
    key: r.key,
    versionId: r.versionId,
    owner,
    isLatest,
    deleteMarker: r.deleteMarker,
    lock: lockState(r),
    encryption: encryptionInfo(r),
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

/**
 * An object's record: the current version, or the version `versionId` (a delete marker too),
 * with its chunk list, parts and the key's versions. Undefined when there is none.
 */
export function objectRecord(db: Db, bucket: string, key: string, versionId?: string): ObjectRecord | undefined {
  const b = db.select({ id: buckets.id, ownerId: buckets.ownerId }).from(buckets).where(eq(buckets.name, bucket)).get();
  if (!b) return undefined;
  const byKey = and(eq(objects.bucketId, b.id), eq(objects.key, key));
  // `is_current = 1` written out, so SQLite uses the partial index objects_current.
  const r = db
    .select()
    .from(objects)
    .where(versionId === undefined ? and(byKey, sql`is_current = 1`) : and(byKey, eq(objects.versionId, versionId)))
    .get();
  if (!r) return undefined;
  const versions = db
    .select({
      id: objects.id,
      versionId: objects.versionId,
      deleteMarker: objects.deleteMarker,
      size: objects.size,
      etag: objects.etag,
      lastModified: objects.lastModified,
      lockMode: objects.lockMode,
      lockUntil: objects.lockUntil,
      legalHold: objects.legalHold,
      encryption: objects.encryption,
      sseCustomerKeyMd5: objects.sseCustomerKeyMd5,
    })
    .from(objects)
    .where(byKey)
    .orderBy(desc(objects.id))
    .limit(VERSIONS_LISTED + 1)
    .all();
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
  const record: ObjectRecord = {
    ...summary(r, bucket, versions[0]?.id === r.id, ownerRef(r.ownerId ?? b.ownerId, accountNames(db, [r.ownerId ?? b.ownerId]))),
    contentEncoding: r.contentEncoding,
    contentDisposition: r.contentDisposition,
    contentLanguage: r.contentLanguage,
    cacheControl: r.cacheControl,
    expires: r.expires,
    chunks: list.map((c) => ({ ...c, shared: c.refcount > own.get(c.sha256)! })),
    parts,
    tags: r.tagCount > 0 ? db.select({ key: objectTags.key, value: objectTags.value }).from(objectTags).where(eq(objectTags.objectId, r.id)).orderBy(asc(objectTags.key)).all() : [],
    versions: versions.slice(0, VERSIONS_LISTED).map(
      (v, i): VersionEntry => ({
        versionId: v.versionId,
        isLatest: i === 0,
        deleteMarker: v.deleteMarker,
        size: v.size,
        etag: v.etag,
        lastModified: new Date(v.lastModified).toISOString(),
        lock: lockState(v),
        encryption: encryptionInfo(v),
      }),
    ),
  };
  if (versions.length > VERSIONS_LISTED) record.versionsTruncated = true;
  return record;
}
