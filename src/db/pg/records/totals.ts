import { sql, type SQL } from 'drizzle-orm';
import type { PgDb } from '../client.js';
import { hasNul } from '../commit.js';
import { accountColumn } from './objects.js';
import type { BucketRow } from '../../../store/types.js';
import type { BucketFilter } from '../../records/totals.js';
import type { BucketSummary, StoreStats } from '../../records/shapes.js';
import { bucketSummaryOf, storeStatsOf, type VersionTotals } from '../../records/assemble.js';

// Totals on PostgreSQL: per-bucket and store-wide sums as plain aggregate queries. They run on
// the server (the gateway's event loop only waits for the answer), each as one statement, so
// each answer is one snapshot. A bucket's or an account's totals read only its buckets' rows
// (the objects_versions index leads with bucket_id).

// A row is a version (a delete marker has size 0): one pass counts current objects and every version.
const VERSION_SUMS = sql.raw(
  'count(*) filter (where is_current) as "objects", coalesce(sum(size) filter (where is_current), 0) as "logicalBytes", ' +
    'count(*) filter (where not delete_marker) as "versions", count(*) filter (where delete_marker) as "deleteMarkers", ' +
    'coalesce(sum(size), 0) as "versionBytes"',
);

// Raw statements bypass the pool's int8/numeric parsers (drizzle passes its own): counts, sums and
// times arrive as decimal strings (or null from a left join) and are mapped here.
const n = (v: string | number | null): number => (v === null ? 0 : Number(v));

type Numeric = string | number | null;
type SummaryRow = Pick<BucketRow, 'name' | 'region' | 'ownerId' | 'acl' | 'ownership' | 'policy' | 'defaultEncryption'> &
  { [K in keyof VersionTotals | 'createdAt' | 'physicalBytes']: Numeric } & { ownerName: string | null };

/** The summaries of the buckets `scope` (a condition on buckets `b`) keeps, by name. */
async function summaries(db: PgDb, scope: SQL): Promise<BucketSummary[]> {
  // Distinct (bucket, chunk) pairs. A placement always covers its whole chunk (a partial range is
  // written as a new chunk), so object_chunks.size is the chunk's size: no lookup into chunks.
  const result = await db.execute<SummaryRow>(sql`
    with scope as (select id from buckets b where ${scope}),
    logical as (select bucket_id, ${VERSION_SUMS} from objects where bucket_id in (select id from scope) group by bucket_id),
    physical as (
      select bucket_id, sum(size) as bytes from (
        select o.bucket_id, oc.chunk_hash, max(oc.size) as size from objects o join object_chunks oc on oc.object_id = o.id
        where o.bucket_id in (select id from scope) group by o.bucket_id, oc.chunk_hash) d
      group by bucket_id)
    select b.name, b.region, b.owner_id as "ownerId", b.acl, b.ownership, b.policy, b.default_encryption as "defaultEncryption",
      b.created_at as "createdAt", a.name as "ownerName", l."objects", l."logicalBytes", l."versions", l."deleteMarkers", l."versionBytes",
      p.bytes as "physicalBytes"
    from buckets b join scope s on s.id = b.id
      left join accounts a on a.id = b.owner_id
      left join logical l on l.bucket_id = b.id
      left join physical p on p.bucket_id = b.id
    order by b.name`);
  return result.rows.map((r) =>
    bucketSummaryOf(
      { ...r, createdAt: n(r.createdAt) },
      new Map(r.ownerName === null ? [] : [[r.ownerId, r.ownerName]]),
      { objects: n(r.objects), logicalBytes: n(r.logicalBytes), versions: n(r.versions), deleteMarkers: n(r.deleteMarkers), versionBytes: n(r.versionBytes) },
      n(r.physicalBytes),
    ),
  );
}

/** Every bucket with its totals, by name; `owner` (an account's canonical id or name): only its buckets. */
export async function bucketSummaries(db: PgDb, filter: BucketFilter = {}): Promise<BucketSummary[]> {
  if (filter.owner === undefined) return summaries(db, sql`true`);
  // An account that does not exist owns nothing; no account's name or id holds NUL.
  if (hasNul(filter.owner)) return [];
  return summaries(db, sql`b.owner_id in (select id from accounts where ${accountColumn(filter.owner)} = ${filter.owner})`);
}

export async function bucketSummary(db: PgDb, name: string): Promise<BucketSummary | undefined> {
  if (hasNul(name)) return undefined;
  return (await summaries(db, sql`b.name = ${name}`))[0];
}

export async function storeStats(db: PgDb): Promise<StoreStats> {
  const result = await db.execute<Record<keyof Omit<StoreStats, 'dedupRatio'>, Numeric>>(sql`
    select (select count(*) from buckets) as "buckets", v.*, (select count(*) from chunks) as "chunks",
      (select coalesce(sum(size), 0) from chunks) as "physicalBytes", (select count(*) from multipart_uploads) as "multipartUploads",
      (select count(*) from upload_parts) as "multipartParts"
    from (select ${VERSION_SUMS} from objects) v`);
  const t = result.rows[0]!;
  return storeStatsOf({
    buckets: n(t.buckets),
    objects: n(t.objects),
    logicalBytes: n(t.logicalBytes),
    versions: n(t.versions),
    deleteMarkers: n(t.deleteMarkers),
    versionBytes: n(t.versionBytes),
    physicalBytes: n(t.physicalBytes),
    chunks: n(t.chunks),
    multipartUploads: n(t.multipartUploads),
    multipartParts: n(t.multipartParts),
  });
}
