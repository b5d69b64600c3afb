// The records queries (admin API, CLI, console): what they answer is docs/admin-contract.md.
export { QueryError } from './errors.js';
export { DEFAULT_LIMIT, MAX_LIMIT, parseObjectQuery, type ObjectQuery, type SortField, type SortOrder } from './query.js';
export { findObjects, objectRecord, objectsQuery, VERSIONS_LISTED } from './objects.js';
export type { BucketSummary, ChunkEntry, ChunkRecord, LockState, ObjectRecord, ObjectSummary, OwnerRef, StoreStats, VersionEntry } from './shapes.js';
export { CHUNK_REFERENCES_LISTED, chunkRecord, isSha256 } from './chunks.js';
export {
  AGGREGATE_SQL,
  bucketSummaries,
  bucketSummariesVia,
  bucketSummary,
  storeStats,
  storeStatsVia,
  type AggregateRunner,
  type BucketFilter,
} from './totals.js';
