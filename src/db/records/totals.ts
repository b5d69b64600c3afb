import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { BucketSummary, StoreStats } from './shapes.js';
import { buckets, objectChunks, objects } from '../schema.js';
import { accountIdOf, accountNames } from './owners.js';
import { bucketSummaryOf, NO_VERSIONS, storeStatsOf, type VersionTotals } from './assemble.js';

// Totals: per-bucket and store-wide sums (the buckets list, stats).

// Aggregates are full passes over the rows (no index can shortcut a sum), ~0.1-1.5 s per million
// objects. They are plain SQL so the admin server can run them on a worker thread with its own
// read-only connection (aggregates.ts) instead of stalling S3 requests on the event loop.

// A row is a version (a delete marker has size 0): one pass counts current objects and every version.
const VERSION_SUMS =
  'coalesce(sum(is_current), 0) as objects, coalesce(sum(case when is_current = 1 then size else 0 end), 0) as logicalBytes, ' +
  'coalesce(sum(1 - delete_marker), 0) as versions, coalesce(sum(delete_marker), 0) as deleteMarkers, coalesce(sum(size), 0) as versionBytes';

export const AGGREGATE_SQL = {
  logicalByBucket: `select bucket_id as bucketId, ${VERSION_SUMS} from objects group by bucket_id`,
  // Distinct (bucket, chunk) pairs. A placement always covers its whole chunk (a partial range is
  // written as a new chunk), so object_chunks.size is the chunk's size: no lookup into chunks.
  physicalByBucket:
    'select bucket_id as bucketId, sum(size) as bytes from (select o.bucket_id, oc.chunk_hash, max(oc.size) as size ' +
    'from object_chunks oc join objects o on o.id = oc.object_id group by o.bucket_id, oc.chunk_hash) group by bucket_id',
  totals:
    `select (select count(*) from buckets) as buckets, v.*, (select count(*) from chunks) as chunks, ` +
    '(select coalesce(sum(size), 0) from chunks) as physicalBytes, (select count(*) from multipart_uploads) as multipartUploads, ' +
    `(select count(*) from upload_parts) as multipartParts from (select ${VERSION_SUMS} from objects) v`,
} as const;


/** Runs read-only SQL statements (no parameters) and returns each one's rows. */
export type AggregateRunner = (statements: string[]) => Promise<unknown[][]>;

const runHere = (db: Db, statements: string[]): unknown[][] => statements.map((q) => db.all(q));

/** Which buckets a summary lists: every one, or those of one account (its canonical id or name). */
export interface BucketFilter {
  owner?: string;
}

export function bucketSummaries(db: Db, filter: BucketFilter = {}): BucketSummary[] {
  return summarizeBuckets(db, runHere(db, [AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]), filter);
}

/** bucketSummaries with the aggregate passes run elsewhere (a worker thread). */
export async function bucketSummariesVia(db: Db, run: AggregateRunner, filter: BucketFilter = {}): Promise<BucketSummary[]> {
  return summarizeBuckets(db, await run([AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]), filter);
}

function summarizeBuckets(db: Db, [logicalRows, physicalRows]: unknown[][], filter: BucketFilter): BucketSummary[] {
  const logical = new Map((logicalRows as Array<VersionTotals & { bucketId: number }>).map(({ bucketId, ...t }) => [bucketId, t]));
  const physical = new Map((physicalRows as Array<{ bucketId: number; bytes: number }>).map((r) => [r.bucketId, r.bytes]));
  let ownerId: string | undefined;
  if (filter.owner !== undefined) {
    ownerId = accountIdOf(db, filter.owner);
    // An account that does not exist owns nothing.
    if (ownerId === undefined) return [];
  }
  const rows = db
    .select()
    .from(buckets)
    .where(ownerId === undefined ? undefined : eq(buckets.ownerId, ownerId))
    .orderBy(asc(buckets.name))
    .all();
  const names = accountNames(db, rows.map((b) => b.ownerId));
  return rows.map((b) => bucketSummaryOf(b, names, logical.get(b.id) ?? NO_VERSIONS, physical.get(b.id) ?? 0));
}

/** One bucket (after a change): the same numbers as bucketSummaries, over that bucket's rows only. */
export function bucketSummary(db: Db, name: string): BucketSummary | undefined {
  const b = db.select().from(buckets).where(eq(buckets.name, name)).get();
  if (!b) return undefined;
  const logical = db.get<VersionTotals>(sql`select ${sql.raw(VERSION_SUMS)} from ${objects} where ${objects.bucketId} = ${b.id}`);
  const physical = db.get<{ bytes: number | null }>(
    sql`select sum(size) as bytes from (select oc.chunk_hash, max(oc.size) as size from ${objects} o
        join ${objectChunks} oc on oc.object_id = o.id where o.bucket_id = ${b.id} group by oc.chunk_hash)`,
  );
  return bucketSummaryOf(b, accountNames(db, [b.ownerId]), logical!, physical?.bytes ?? 0);
}

export function storeStats(db: Db): StoreStats {
  return summarizeStats(runHere(db, [AGGREGATE_SQL.totals]));
}

export async function storeStatsVia(run: AggregateRunner): Promise<StoreStats> {
  return summarizeStats(await run([AGGREGATE_SQL.totals]));
}

function summarizeStats([rows]: unknown[][]): StoreStats {
  return storeStatsOf((rows as Array<Omit<StoreStats, 'dedupRatio'>>)[0]!);
}
