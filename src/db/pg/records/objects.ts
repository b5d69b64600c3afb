import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { PgDb } from '../client.js';
import { withTx } from '../client.js';
import { accounts, buckets, chunks, objectChunks, objectParts, objectTags, objects } from '../schema.js';
import { hasNul } from '../commit.js';
import { decodeCursor } from '../../records/cursor.js';
import { QueryError } from '../../records/errors.js';
import type { SqlKit } from '../../records/filters.js';
import type { ObjectQuery } from '../../records/query.js';
import type { ObjectRecord, ObjectSummary } from '../../records/shapes.js';
import { afterCursor, chunkEntryColumns, compileFilters, keysetOrder, pageOf, sqlKit, versionColumns } from '../../records/compile.js';
import { isCanonicalId, objectRecordOf, objectSummary, ownerRef, VERSIONS_LISTED } from '../../records/assemble.js';

// Object records on PostgreSQL: the filters of filters.ts compiled with this engine's SqlKit, a
// page read in one statement (rows, bucket names, owners and whether a delete marker is the
// newest version: one snapshot), and an object's record in one read-only snapshot.

/** The names the filters look up (a bucket's id, an account's id), resolved before compiling. */
interface Lookups {
  bucketId(name: string): number | undefined;
  accountId(idOrName: string): string | undefined;
}

function pgKit(lookups: Lookups, now: number): SqlKit {
  return sqlKit(objects, now, {
    bucketId: (name) => lookups.bucketId(name),
    accountId: (idOrName) => lookups.accountId(idOrName),
    current: sql`${objects.isCurrent}`,
    isTrue: (column) => sql`${column}`,
    contains: (column, text) => sql`strpos(${column}, ${text}) > 0`,
    jsonMember: (column, name) => sql`(${column}::jsonb ->> ${name})`,
    // content_type has the database's collation, which need not be byte order (keys have "C").
    bytes: (column) => sql`${column} collate "C"`,
  });
}

/** The column that finds an account by its canonical id or its name. */
export function accountColumn(idOrName: string) {
  return isCanonicalId(idOrName) ? accounts.id : accounts.name;
}

/**
 * The query's conditions, or undefined when nothing can match. A first pass collects the names
 * the filters look up, which are then read (the kit's lookups are synchronous), and a second
 * compiles with them.
 */
async function conditions(db: PgDb, q: ObjectQuery, now: number): Promise<SQL[] | undefined> {
  const bucketNames = new Map<string, number | undefined>();
  const accountNames = new Map<string, string | undefined>();
  compileFilters(q, pgKit({ bucketId: (n) => (bucketNames.set(n, undefined), 0), accountId: (a) => (accountNames.set(a, undefined), '') }, now));
  await Promise.all([
    ...[...bucketNames.keys()].map(async (n) => {
      const [b] = await db.select({ id: buckets.id }).from(buckets).where(eq(buckets.name, n));
      bucketNames.set(n, b?.id);
    }),
    ...[...accountNames.keys()].map(async (a) => {
      const [r] = await db.select({ id: accounts.id }).from(accounts).where(eq(accountColumn(a), a));
      accountNames.set(a, r?.id);
    }),
  ]);
  const filters = compileFilters(q, pgKit({ bucketId: (n) => bucketNames.get(n), accountId: (a) => accountNames.get(a) }, now));
  if (!filters) return undefined;
  if (q.cursor === undefined) return filters;
  const cursor = decodeCursor(q.cursor, q);
  // This engine never makes a cursor past a key with NUL (no key holds one).
  if (typeof cursor.v === 'string' && hasNul(cursor.v)) throw new QueryError('cursor', 'not a cursor returned by this API');
  return [afterCursor(q, cursor, objects), ...filters];
}

/** Every string a query holds (filter values, pair names and values). */
function queryStrings(q: ObjectQuery): string[] {
  return Object.values(q).flatMap((v) => (typeof v === 'string' ? [v] : v !== null && typeof v === 'object' && !(v instanceof Date) ? Object.entries(v).flat() : []));
}

/**
 * Whether a version that is a delete marker is still the newest of its key (a version that is
 * not a marker is the newest exactly when it is current). Only markers pay for the look.
 */
const isLatest = sql<boolean>`case when ${objects.isCurrent} then true when ${objects.deleteMarker} then not exists (
  select 1 from objects n where n.bucket_id = ${objects.bucketId} and n.key = ${objects.key} and n.id > ${objects.id}) else false end`;

export async function findObjects(db: PgDb, q: ObjectQuery): Promise<{ objects: ObjectSummary[]; nextCursor?: string }> {
  // No stored text holds NUL (PostgreSQL text cannot), so no row matches a filter with it.
  if (queryStrings(q).some(hasNul)) return { objects: [] };
  const conds = await conditions(db, q, Date.now());
  if (!conds) return { objects: [] };
  const found = await db
    .select({ row: objects, bucket: buckets.name, bucketOwner: buckets.ownerId, ownerName: accounts.name, latest: isLatest })
    .from(objects)
    .innerJoin(buckets, eq(buckets.id, objects.bucketId))
    .leftJoin(accounts, eq(accounts.id, sql`coalesce(${objects.ownerId}, ${buckets.ownerId})`))
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(...keysetOrder(q, objects))
    .limit(q.limit + 1);
  const page = pageOf(
    q,
    found.map((f) => ({ ...f, id: f.row.id, key: f.row.key, size: f.row.size, lastModified: f.row.lastModified })),
  );
  const out: { objects: ObjectSummary[]; nextCursor?: string } = {
    objects: page.rows.map((f) => {
      const owner = f.row.ownerId ?? f.bucketOwner;
      return objectSummary(f.row, f.bucket, f.latest, ownerRef(owner, new Map(f.ownerName === null ? [] : [[owner, f.ownerName]])));
    }),
  };
  if (page.nextCursor !== undefined) out.nextCursor = page.nextCursor;
  return out;
}

/**
 * An object's record: the current version, or the version `versionId` (a delete marker too),
 * with its chunk list, parts and the key's versions, read in one snapshot. Undefined when there is none.
 */
export async function objectRecord(db: PgDb, bucket: string, key: string, versionId?: string): Promise<ObjectRecord | undefined> {
  if (hasNul(bucket) || hasNul(key) || (versionId !== undefined && hasNul(versionId))) return undefined;
  return withTx(
    db,
    async (tx) => {
      const version = versionId === undefined ? objects.isCurrent : eq(objects.versionId, versionId);
      const [found] = await tx
        .select({ row: objects, bucketOwner: buckets.ownerId })
        .from(objects)
        .innerJoin(buckets, eq(buckets.id, objects.bucketId))
        .where(and(eq(buckets.name, bucket), eq(objects.key, key), version));
      if (!found) return undefined;
      const r = found.row;
      const byKey = and(eq(objects.bucketId, r.bucketId), eq(objects.key, key));
      const versions = await tx
        .select(versionColumns(objects))
        .from(objects)
        .where(byKey)
        .orderBy(desc(objects.id))
        .limit(VERSIONS_LISTED + 1);
      const list = await tx
        .select(chunkEntryColumns(objectChunks, chunks))
        .from(objectChunks)
        .innerJoin(chunks, eq(chunks.hash, objectChunks.chunkHash))
        .where(eq(objectChunks.objectId, r.id))
        .orderBy(asc(objectChunks.seq));
      const parts = await tx
        .select({ partNumber: objectParts.partNumber, offset: objectParts.offset, size: objectParts.size, checksum: objectParts.checksumValue })
        .from(objectParts)
        .where(eq(objectParts.objectId, r.id))
        .orderBy(asc(objectParts.partNumber));
      const tags = r.tagCount > 0 ? await tx.select({ key: objectTags.key, value: objectTags.value }).from(objectTags).where(eq(objectTags.objectId, r.id)).orderBy(asc(objectTags.key)) : [];
      const owner = r.ownerId ?? found.bucketOwner;
      const [named] = await tx.select({ name: accounts.name }).from(accounts).where(eq(accounts.id, owner));
      return objectRecordOf({ row: r, bucket, owner: ownerRef(owner, new Map(named ? [[owner, named.name]] : [])), versions, chunks: list, parts, tags });
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
