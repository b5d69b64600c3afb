import type { RecordsStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';
import { chunkRecord } from './records/chunk.js';
import { findObjects, objectRecord } from './records/objects.js';
import { bucketSummaries, bucketSummary, storeStats } from './records/totals.js';

/**
 * The records queries on PostgreSQL (docs/admin-contract.md): the same filters, cursors and
 * shapes as SQLite (src/db/records), compiled and read the PostgreSQL way.
 */
export function pgRecordsStore(db: PgDb): RecordsStore {
  return {
    buckets: (filter) => bucketSummaries(db, filter),
    bucket: (name) => bucketSummary(db, name),
    stats: () => storeStats(db),
    findObjects: (q) => findObjects(db, q),
    object: (bucket, key, versionId) => objectRecord(db, bucket, key, versionId),
    chunk: (sha256) => chunkRecord(db, sha256),
  };
}
