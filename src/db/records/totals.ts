import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { BucketSummary, StoreStats } from './shapes.js';
import { buckets, objectChunks, objects } from '../schema.js';

// Totals: per-bucket and store-wide sums (the buckets list, stats).

// Aggregates are full passes over the rows (no index can shortcut a sum), ~0.1-1.5 s per million
// objects. They are plain SQL so the admin server can run them on a worker thread with its own
// read-only connection (aggregates.ts) instead of stalling S3 requests on the event loop.
export const AGGREGATE_SQL = {
  logicalByBucket: 'select bucket_id as bucketId, count(*) as n, coalesce(sum(size), 0) as bytes from objects group by bucket_id',
  // Distinct (bucket, chunk) pairs. A placement always covers its whole chunk (a partial range is
  // written as a new chunk), so object_chunks.size is the chunk's size: no lookup into chunks.
  physicalByBucket:
    'select bucket_id as bucketId, sum(size) as bytes from (select o.bucket_id, oc.chunk_hash, max(oc.size) as size ' +
    'from object_chunks oc join objects o on o.id = oc.object_id group by o.bucket_id, oc.chunk_hash) group by bucket_id',
  totals:
    'select (select count(*) from buckets) as buckets, (select count(*) from objects) as objects, ' +
    '(select coalesce(sum(size), 0) from objects) as logicalBytes, (select count(*) from chunks) as chunks, ' +
    '(select coalesce(sum(size), 0) from chunks) as physicalBytes, (select count(*) from multipart_uploads) as multipartUploads, ' +
    '(select count(*) from upload_parts) as multipartParts',
} as const;

/** Runs read-only SQL statements (no parameters) and returns each one's rows. */
export type AggregateRunner = (statements: string[]) => Promise<unknown[][]>;

const runHere = (db: Db, statements: string[]): unknown[][] => statements.map((q) => db.all(q));

export function bucketSummaries(db: Db): BucketSummary[] {
  return summarizeBuckets(db, runHere(db, [AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]));
}

/** bucketSummaries with the aggregate passes run elsewhere (a worker thread). */
export async function bucketSummariesVia(db: Db, run: AggregateRunner): Promise<BucketSummary[]> {
  return summarizeBuckets(db, await run([AGGREGATE_SQL.logicalByBucket, AGGREGATE_SQL.physicalByBucket]));
}

function summarizeBuckets(db: Db, [logicalRows, physicalRows]: unknown[][]): BucketSummary[] {
  const logical = new Map((logicalRows as Array<{ bucketId: number; n: number; bytes: number }>).map((r) => [r.bucketId, r]));
  const physical = new Map((physicalRows as Array<{ bucketId: number; bytes: number }>).map((r) => [r.bucketId, r.bytes]));
  return db
    .select()
    .from(buckets)
    .orderBy(asc(buckets.name))
    .all()
    .map((b) => ({
      name: b.name,
      region: b.region,
      public: b.publicRead,
      createdAt: new Date(b.createdAt).toISOString(),
      objects: logical.get(b.id)?.n ?? 0,
      logicalBytes: logical.get(b.id)?.bytes ?? 0,
      physicalBytes: physical.get(b.id) ?? 0,
    }));
}

/** One bucket (after a change): the same numbers as bucketSummaries, over that bucket's rows only. */
export function bucketSummary(db: Db, name: string): BucketSummary | undefined {
  const b = db.select().from(buckets).where(eq(buckets.name, name)).get();
  if (!b) return undefined;
  const logical = db
    .select({ n: sql<number>`count(*)`, bytes: sql<number>`coalesce(sum(${objects.size}), 0)` })
    .from(objects)
    .where(eq(objects.bucketId, b.id))
    .get()!;
  const physical = db.get<{ bytes: number | null }>(
    sql`select sum(size) as bytes from (select oc.chunk_hash, max(oc.size) as size from ${objects} o
        join ${objectChunks} oc on oc.object_id = o.id where o.bucket_id = ${b.id} group by oc.chunk_hash)`,
  );
  return {
    name: b.name,
    region: b.region,
    public: b.publicRead,
    createdAt: new Date(b.createdAt).toISOString(),
    objects: logical.n,
    logicalBytes: logical.bytes,
    physicalBytes: physical?.bytes ?? 0,
  };
}

export function storeStats(db: Db): StoreStats {
  return summarizeStats(runHere(db, [AGGREGATE_SQL.totals]));
}

export async function storeStatsVia(run: AggregateRunner): Promise<StoreStats> {
  return summarizeStats(await run([AGGREGATE_SQL.totals]));
}

function summarizeStats([rows]: unknown[][]): StoreStats {
  const t = (rows as Array<Omit<StoreStats, 'dedupRatio'>>)[0]!;
  return {
    buckets: t.buckets,
    objects: t.objects,
    logicalBytes: t.logicalBytes,
    physicalBytes: t.physicalBytes,
    chunks: t.chunks,
    dedupRatio: t.physicalBytes === 0 ? 1 : Math.round((t.logicalBytes / t.physicalBytes) * 1000) / 1000,
    multipartUploads: t.multipartUploads,
    multipartParts: t.multipartParts,
  };
}
