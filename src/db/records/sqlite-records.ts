import type { Db } from '../client.js';
import type { RecordsStore } from '../../store/metadata-store.js';
import type { AggregateWorkers } from './aggregates.js';
import { chunkRecord } from './chunks.js';
import { findObjects, objectRecord } from './objects.js';
import { bucketSummaries, bucketSummariesVia, bucketSummary, storeStats, storeStatsVia } from './totals.js';

/** The records queries on SQLite: totals on the aggregate workers when the database is a file. */
export function sqliteRecords(db: Db, aggregates: AggregateWorkers): RecordsStore {
  return {
    buckets: async (filter) => (aggregates.available ? bucketSummariesVia(db, aggregates.run, filter) : bucketSummaries(db, filter)),
    bucket: async (name) => bucketSummary(db, name),
    stats: async () => (aggregates.available ? storeStatsVia(aggregates.run) : storeStats(db)),
    findObjects: async (q) => findObjects(db, q),
    object: async (bucket, key, versionId) => objectRecord(db, bucket, key, versionId),
    chunk: async (sha256) => chunkRecord(db, sha256),
  };
}
