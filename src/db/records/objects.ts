import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { ObjectRecord, ObjectSummary } from './shapes.js';
import { buckets, chunks, objectChunks, objectParts, objectTags, objects } from '../schema.js';
import { decodeCursor } from './cursor.js';
import type { ObjectQuery } from './query.js';
import { accountIdOf, accountNames } from './owners.js';
import { afterCursor, chunkEntryColumns, compileFilters, keysetOrder, pageOf, sqlKit, versionColumns, type EngineSql } from './compile.js';
import { objectRecordOf, objectSummary, ownerRef, VERSIONS_LISTED } from './assemble.js';

// Object records on SQLite: pure reads over the drizzle Db. A row is a version: the `versions`
// filter (filters.ts) keeps only current ones unless the query asks for every version.

export { VERSIONS_LISTED } from './assemble.js';

/** SQLite's part of the filters' SqlKit. */
function sqliteSql(db: Db): EngineSql {
  return {
    bucketId: (name) => db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, name)).get()?.id,
    accountId: (idOrName) => accountIdOf(db, idOrName),
    // Written out, not bound: SQLite uses the partial index objects_current only for this literal.
    current: sql`is_current = 1`,
    isTrue: (column) => sql`${column} = 1`,
    contains: (column, text) => sql`instr(${column}, ${text}) > 0`,
    jsonMember: (column, name) => sql`json_extract(${column}, ${`$."${name}"`})`,
    // Text compares by bytes (BINARY) unless a column says otherwise.
    bytes: (column) => sql`${column}`,
  };
}

/**
 * The compiled query (exported for tests that check its plan). Undefined when nothing can
 * match (the bucket does not exist).
 */
export function objectsQuery(db: Db, q: ObjectQuery, now = Date.now()) {
  // First: SQLite seeks by the first range term on a column, and the cursor's is the tightest
  // (a prefix's or a size filter's bound first would make a deep page walk from that bound).
  const conds: SQL[] = q.cursor !== undefined ? [afterCursor(q, decodeCursor(q.cursor, q), objects)] : [];
  const filters = compileFilters(q, sqlKit(objects, now, sqliteSql(db)));
  if (!filters) return undefined;
  conds.push(...filters);
  return db
    .select()
    .from(objects)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(...keysetOrder(q, objects))
    .limit(q.limit + 1);
}

export function findObjects(db: Db, q: ObjectQuery): { objects: ObjectSummary[]; nextCursor?: string } {
  const query = objectsQuery(db, q);
  if (!query) return { objects: [] };
  const { rows, nextCursor } = pageOf(q, query.all());
  const bucketsById = bucketInfo(db, rows.map((r) => r.bucketId));
  const owners = accountNames(db, rows.map((r) => r.ownerId ?? bucketsById.get(r.bucketId)!.ownerId));
  const latest = latestMarkers(db, rows);
  const out: { objects: ObjectSummary[]; nextCursor?: string } = {
    objects: rows.map((r) => {
      const b = bucketsById.get(r.bucketId)!;
      return objectSummary(r, b.name, r.isCurrent || latest.has(r.id), ownerRef(r.ownerId ?? b.ownerId, owners));
    }),
  };
  if (nextCursor !== undefined) out.nextCursor = nextCursor;
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
    .select(versionColumns(objects))
    .from(objects)
    .where(byKey)
    .orderBy(desc(objects.id))
    .limit(VERSIONS_LISTED + 1)
    .all();
  const list = db
    .select(chunkEntryColumns(objectChunks, chunks))
    .from(objectChunks)
    .innerJoin(chunks, eq(chunks.hash, objectChunks.chunkHash))
    .where(eq(objectChunks.objectId, r.id))
    .orderBy(asc(objectChunks.seq))
    .all();
  const parts = db
    .select({ partNumber: objectParts.partNumber, offset: objectParts.offset, size: objectParts.size, checksum: objectParts.checksumValue })
    .from(objectParts)
    .where(eq(objectParts.objectId, r.id))
    .orderBy(asc(objectParts.partNumber))
    .all();
  const owner = r.ownerId ?? b.ownerId;
  return objectRecordOf({
    row: r,
    bucket,
    owner: ownerRef(owner, accountNames(db, [owner])),
    versions,
    chunks: list,
    parts,
    tags: r.tagCount > 0 ? db.select({ key: objectTags.key, value: objectTags.value }).from(objectTags).where(eq(objectTags.objectId, r.id)).orderBy(asc(objectTags.key)).all() : [],
  });
}
