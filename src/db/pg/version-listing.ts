import { sql, type SQL } from 'drizzle-orm';
import { withTx, type PgDb, type PgTx } from './client.js';
import { run } from './run.js';
import { beforeNul, hasNul, objectColumnList } from './commit.js';
import { prefixUpperBound } from '../listing.js';
import { S3Error } from '../../s3/errors.js';
import { compareKeys } from '../../s3/list-params.js';
import { paginateVersionsAsync, type VersionCursor, type VersionListParams, type VersionPage } from '../../s3/version-list.js';
import type { ObjectRow } from '../../store/types.js';

// ListObjectVersions on PostgreSQL: index seeks on objects_versions (bucket_id, key, id desc),
// the paging rules paginateVersions's, the whole page in one read-only snapshot.

const OBJ = objectColumnList();

async function rows(tx: PgTx, query: SQL): Promise<ObjectRow[]> {
  return run<ObjectRow>(tx, query);
}

export function pgVersionPage(db: PgDb, bucketId: number, given: VersionListParams): Promise<VersionPage<ObjectRow>> {
  if (hasNul(given.prefix)) return Promise.resolve({ entries: [], commonPrefixes: [], isTruncated: false });
  const p: VersionListParams = { ...given, delimiter: given.delimiter && !hasNul(given.delimiter) ? given.delimiter : undefined };
  return withTx(
    db,
    async (tx) => {
      const start = await startCursor(tx, bucketId, p);
      const upper = p.prefix ? prefixUpperBound(p.prefix) : undefined;
      return paginateVersionsAsync(p, start, (cursor, limit) => next(tx, bucketId, p.prefix, upper, cursor, limit));
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}

async function startCursor(tx: PgTx, bucketId: number, p: VersionListParams): Promise<VersionCursor> {
  if (p.keyMarker === undefined) return undefined;
  if (p.versionIdMarker === undefined || hasNul(p.keyMarker)) return { afterKey: beforeNul(p.keyMarker) };
  const r = await run<{ id: number }>(tx, sql`select id from objects where bucket_id = ${bucketId} and key = ${p.keyMarker} and version_id = ${p.versionIdMarker}`);
  const row = r[0];
  if (!row) throw new S3Error('InvalidArgument', { ArgumentName: 'version-id-marker', ArgumentValue: p.versionIdMarker }, 'Invalid version id specified');
  return { key: p.keyMarker, id: row.id };
}

/** Up to `limit` versions after the cursor within [prefix, upper), by key then newest first. */
async function next(tx: PgTx, bucketId: number, prefix: string, upper: string | undefined, cursor: VersionCursor, limit: number): Promise<ObjectRow[]> {
  const out: ObjectRow[] = [];
  let from: { op: 'gt' | 'gte'; key: string } | undefined = prefix ? { op: 'gte', key: prefix } : undefined;
  if (cursor && 'id' in cursor) {
    out.push(...(await rows(tx, sql`select ${sql.raw(OBJ)} from objects where bucket_id = ${bucketId} and key = ${cursor.key} and id < ${cursor.id} order by id desc limit ${limit}`)));
    if (out.length >= limit) return out;
    from = { op: 'gt', key: cursor.key };
  } else if (cursor) {
    from = { op: 'gt', key: cursor.afterKey };
  }
  // One lower bound (the larger one), as listing.ts explains.
  if (from?.op === 'gt' && prefix && compareKeys(from.key, prefix) < 0) from = { op: 'gte', key: prefix };
  const lower = from === undefined ? sql`` : from.op === 'gt' ? sql` and key > ${from.key}` : sql` and key >= ${from.key}`;
  const up = upper === undefined ? sql`` : sql` and key < ${upper}`;
  out.push(...(await rows(tx, sql`select ${sql.raw(OBJ)} from objects where bucket_id = ${bucketId}${lower}${up} order by key, id desc limit ${limit - out.length}`)));
  return out;
}
