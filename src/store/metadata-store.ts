import type { CorsRule } from '../s3/cors.js';
import type { ListParams } from '../s3/list-params.js';
import type {
  AccessKeyInfo,
  AccountRow,
  BucketAccessChange,
  NewBucket,
  NewKeyOptions,
  BucketRow,
  ChunkPlacement,
  ChunkReadRow,
  ChunkRow,
  CommitResult,
  CompletedPart,
  CompletedUploadRow,
  DeleteOptions,
  DeleteResult,
  GatewayRow,
  Grant,
  LockMode,
  NewObject,
  NewUpload,
  ObjectChunkRow,
  ObjectPartInput,
  ObjectPartRow,
  ObjectRow,
  PartRow,
  TagSet,
  UploadRow,
  VersioningStatus,
  WriteOptions,
} from './types.js';
import type { VersionListParams, VersionPage } from '../s3/version-list.js';
import type { LifecycleStore } from './lifecycle.js';
import type { ChunkClaims } from './claims.js';

import type { BucketFilter, BucketSummary, ChunkRecord, ObjectQuery, ObjectRecord, ObjectSummary, StoreStats } from '../db/records/index.js';

export type * from './types.js';
export type * from './lifecycle.js';
export type { ChunkClaims } from './claims.js';
export type { BucketFilter, BucketSummary, ChunkRecord, ObjectQuery, ObjectRecord, ObjectSummary, StoreStats };

// The metadata store: everything cairn records about buckets, objects, chunk lists and their
// reference counts, multipart uploads and access keys. The services (src/services/, and the
// object and multipart services in src/storage/) are its only callers. SQLite is the first
// engine (src/db/sqlite-store.ts); a second one implements this interface and passes the same
// contract suite (test/store/contract.ts).
//
// Every method is asynchronous so that an engine over the network fits. What every engine
// promises:
// - A write that resolved is durable (with durability 'fsync') and seen by every later read.
// - Each write is atomic: readers see the state before it or after it, never a mix.
// - Chunk reference counts: each chunk-list row of an object or part holds one reference; a
//   commit that takes a chunk's count to zero deletes its row and returns its hash in `freed`,
//   and the caller removes the file. The chunk files must be durable before the commit.
// - Keys are compared in UTF-8 byte order (S3's listing order).
//
// One more promise the chunk removal relies on (ObjectService.removeFreed, ChunkStore's discard
// and collectOrphan): between `isChunkReferenced` resolving and the caller's next synchronous
// step, no commit of this process can complete. The SQLite engine resolves without doing I/O
// on the event loop, so only microtasks run in between. An engine that answers over the network
// cannot promise that: with it the chunk store runs in shared mode (ChunkStore's `shared`), where
// nothing is removed inline and the collector removes chunks under the claims of `claims`.

export interface BucketStore {
  get(name: string): Promise<BucketRow | undefined>;
  /** Every bucket, by name. */
  list(): Promise<BucketRow[]>;
  /** Every bucket an account owns, by name. */
  listOwned(ownerId: string): Promise<BucketRow[]>;
  /** False when the name is taken (nothing changed). Object lock turns versioning on for good. */
  create(b: NewBucket): Promise<boolean>;
  setVersioning(id: number, status: VersioningStatus): Promise<void>;
  /** The object lock configuration's default retention (null: none). */
  setLockDefault(id: number, rule: { mode: LockMode; days?: number; years?: number } | null): Promise<void>;
  /** Deletes a bucket with no versions (objects or delete markers) and no multipart uploads, with its CORS rules. */
  delete(id: number): Promise<'deleted' | 'not-empty'>;
  /** PutBucketEncryption / DeleteBucketEncryption: the default encryption of new writes (null: none). */
  setDefaultEncryption(id: number, algorithm: 'AES256' | null): Promise<void>;
  /** Sets the given fields of the bucket's ACL, ownership and policy. */
  setAccess(id: number, change: BucketAccessChange): Promise<void>;
  /** The bucket's CORS rules; undefined when it has no configuration. */
  getCors(id: number): Promise<CorsRule[] | undefined>;
  /** getCors by bucket name (every request with an Origin asks). */
  getCorsByName(name: string): Promise<CorsRule[] | undefined>;
  /** Sets (replaces) the rules; false when the bucket is gone. */
  putCors(id: number, rules: CorsRule[]): Promise<boolean>;
  deleteCors(id: number): Promise<void>;
  /** PutBucketTagging (a validated set) / DeleteBucketTagging (null or []): BucketRow.tags becomes its JSON or null. */
  setTags(id: number, tags: TagSet | null): Promise<void>;
  /** PutBucketLifecycleConfiguration: the validated rules' JSON (src/s3/lifecycle.ts); null removes them. */
  setLifecycle(id: number, json: string | null): Promise<void>;
}

export interface ListPage {
  contents: ObjectRow[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix of the page (the next page starts after it). */
  lastKey?: string;
}

export interface ObjectStore {
  /** The current version of a key (never a delete marker). */
  get(bucketId: number, key: string): Promise<ObjectRow | undefined>;
  /** get for GET and HEAD: the row may be shared with other reads (a cache); never modify it. */
  getForRead(bucketId: number, key: string): Promise<ObjectRow | undefined>;
  /** One version of a key, delete markers included. */
  getVersion(bucketId: number, key: string, versionId: string): Promise<ObjectRow | undefined>;
  /** The newest version of a key, which may be a delete marker. */
  latest(bucketId: number, key: string): Promise<ObjectRow | undefined>;
  /** One ListObjectVersions page (paginateVersions's rules): one snapshot. */
  listVersions(bucketId: number, p: VersionListParams): Promise<VersionPage<ObjectRow>>;
  /**
   * The chunks holding bytes [start, end] of the version `obj` was read as, in order (shared rows,
   * read only). An overwrite of a null version keeps its row: when the row no longer holds the
   * version `obj` describes, this throws VersionChangedError rather than answer another
   * version's chunks under `obj`'s headers.
   */
  chunksForRead(obj: ObjectRow, start: number, end: number): Promise<ChunkReadRow[]>;
  /** The chunks holding bytes [start, end] of a row, by id alone (no version check: chunksForRead is the one reads use). */
  chunksForRange(objectId: number, start: number, end: number): Promise<ChunkReadRow[]>;
  /** The whole chunk list, in order. */
  chunkList(objectId: number): Promise<ObjectChunkRow[]>;
  /** Part boundaries of a multipart object (empty for a single PUT). */
  parts(objectId: number): Promise<ObjectPartRow[]>;
  part(objectId: number, partNumber: number): Promise<ObjectPartRow | undefined>;
  /** One ListObjects page under S3's rules (prefix, delimiter, start after, max keys), current versions: one snapshot. */
  listPage(bucketId: number, p: ListParams): Promise<ListPage>;
  /** Up to `limit` rows with keys > afterKey within prefix, in key order. */
  listKeys(bucketId: number, prefix: string, afterKey: string | undefined, limit: number): Promise<ObjectRow[]>;
  /**
   * Makes a version the newest of its key: checks `opts.condition` against the current version
   * (S3Error ConditionalRequestConflict when it fails), adds references to its chunks, writes its
   * row, chunk list and part layout, and removes the version it replaces (row.versionId 'null'
   * replaces the null version, subject to object lock), in one atomic step.
   */
  commit(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], parts?: ObjectPartInput[], opts?: WriteOptions): Promise<CommitResult>;
  /**
   * CopyObject in one atomic step: reads the source, lets `build` check it and give the new
   * row (throwing refuses the copy, nothing changes), and commits the destination sharing the
   * source's chunks and part layout. The copy gets the source version's tags unless the row
   * `build` gives has `tags` (x-amz-tagging-directive REPLACE; [] for none). Undefined when there is no source object.
   */
  copy(
    src: { bucketId: number; key: string; versionId?: string },
    dst: { bucketId: number; key: string },
    build: (source: ObjectRow) => NewObject,
    opts?: WriteOptions,
  ): Promise<(CommitResult & { source: ObjectRow }) | undefined>;
  /** Removes a version or adds a delete marker (DeleteOptions); a locked version is refused (AccessDenied). */
  delete(bucketId: number, key: string, opts?: DeleteOptions): Promise<DeleteResult>;
  /**
   * Sets or removes (null) a version's retention (the current one without versionId) under
   * object lock's rules; undefined when there is no such version.
   */
  setRetention(bucketId: number, key: string, versionId: string | undefined, next: { mode: LockMode; until: number } | null, bypassGovernance: boolean): Promise<ObjectRow | undefined>;
  setLegalHold(bucketId: number, key: string, versionId: string | undefined, on: boolean): Promise<ObjectRow | undefined>;
  /** PutObjectAcl: sets a version's ACL (the current one without versionId); undefined when there is no such version. */
  setAcl(bucketId: number, key: string, versionId: string | undefined, acl: string | null): Promise<ObjectRow | undefined>;
  /**
   * A version's tags (by ObjectRow.id), in key order: S3 promises no order, and the engine keeps
   * none (the tag count is ObjectRow.tagCount). Empty for a version without tags.
   */
  getTags(objectId: number): Promise<TagSet>;
  /**
   * Put/DeleteObjectTagging: replaces the tags of a version (the current one without versionId)
   * with a validated set, or removes them (null or []), and its tagCount with them; the updated
   * row, undefined when there is no such version. A delete marker throws S3Error
   * MethodNotAllowed (as the other per-version settings). Allowed on locked versions (no data changes).
   */
  setTags(bucketId: number, key: string, versionId: string | undefined, tags: TagSet | null): Promise<ObjectRow | undefined>;
  /** Whether any object or part still references the chunk (see the note above). */
  isChunkReferenced(hash: string): Promise<boolean>;
}

export interface MultipartStore {
  create(row: NewUpload): Promise<void>;
  get(uploadId: string): Promise<UploadRow | undefined>;
  /**
   * Records a part (replacing an earlier one of the same number, whose chunks are freed);
   * undefined when the upload is gone.
   */
  commitPart(uploadId: string, part: Omit<PartRow, 'uploadId'>, placements: ChunkPlacement[]): Promise<{ freed: string[] } | undefined>;
  /** Parts after `afterPart`, by number (ListParts). */
  listParts(uploadId: string, afterPart: number, limit: number): Promise<PartRow[]>;
  allParts(uploadId: string): Promise<PartRow[]>;
  /** Uploads of a bucket after (key, uploadId), in that order. */
  list(bucketId: number, prefix: string, after: { key: string; uploadId: string } | undefined, limit: number): Promise<UploadRow[]>;
  count(bucketId: number): Promise<number>;
  /** A completed upload's record, for answering a retried Complete. */
  getCompleted(uploadId: string): Promise<CompletedUploadRow | undefined>;
  /**
   * Completes an upload atomically: `decide` checks the listed parts against the stored ones
   * (throwing refuses, nothing changes) and gives the object row and the parts used; their
   * chunks become the object's, the rest are freed. Undefined when there is no such upload.
   */
  complete(
    uploadId: string,
    decide: (upload: UploadRow, parts: PartRow[]) => { row: NewObject; used: CompletedPart[] },
    opts?: WriteOptions,
  ): Promise<CommitResult | undefined>;
  /** Removes an upload and its parts; undefined when there is no such upload. */
  abort(uploadId: string): Promise<{ freed: string[] } | undefined>;
  /** Ids of uploads initiated at or before `before` (ms), oldest first. */
  expired(before: number, limit: number): Promise<string[]>;
  /** Forgets completed-upload records older than `before`. */
  pruneCompleted(before: number): Promise<void>;
}

export interface KeyStore {
  /**
   * Validates the grants, description and an imported pair (KeyValidationError; `conflict` when
   * the id is taken) and creates a key for the account (default: the root account) with a new id
   * and secret, or the imported pair.
   */
  create(opts: NewKeyOptions): Promise<AccessKeyInfo & { secret: string }>;
  /** Every key, or an account's. */
  list(accountId?: string): Promise<AccessKeyInfo[]>;
  get(id: string): Promise<AccessKeyInfo | undefined>;
  secretFor(id: string): Promise<string | undefined>;
  /** get and secretFor in one read, where an engine has it (one round trip on PostgreSQL). */
  withSecret?(id: string): Promise<{ key: AccessKeyInfo; secret: string } | undefined>;
  /** False when there is no such key. */
  revoke(id: string): Promise<boolean>;
}

/** Accounts: who owns buckets and objects (AccountValidationError for bad input to create). */
export interface AccountStore {
  list(): Promise<AccountRow[]>;
  get(id: string): Promise<AccountRow | undefined>;
  byName(name: string): Promise<AccountRow | undefined>;
  /** Case-insensitive. */
  byEmail(email: string): Promise<AccountRow | undefined>;
  /** The first account: the root key's. */
  root(): Promise<AccountRow>;
  create(opts: { name?: unknown; email?: unknown }): Promise<AccountRow>;
  /** With its keys; not the root account, not one owning a bucket. */
  delete(id: string): Promise<'deleted' | 'not-found' | 'owns-buckets' | 'root'>;
}

/** The whole-store walks of GC and scrub. */
export interface MaintenanceStore {
  countChunks(): Promise<number>;
  /** Chunk rows with hash > after, in hash order. */
  chunkPage(after: string, limit: number): Promise<ChunkRow[]>;
  objectsUsing(hash: string, limit: number): Promise<{ objects: Array<{ bucket: string; key: string }>; count: number }>;
  uploadsUsing(hash: string): Promise<Array<{ uploadId: string; bucket: string; key: string; partNumber: number }>>;
  /** Chunk rows whose count went to 0 or below: recounted, or removed when nothing uses them. */
  repairRefcounts(opts: { dryRun: boolean }): Promise<{ fixed: number; removed: number }>;
  countUploadsInitiatedBefore(before: number): Promise<number>;
  /** Which of these chunk hashes have a row. */
  knownChunks(hashes: string[]): Promise<Set<string>>;
}

/**
 * The records queries (admin API, CLI, console): their shapes and filters are
 * docs/admin-contract.md, the filters defined once in src/db/records/filters.ts. The totals sum
 * over every row: an engine runs them where they do not hold up S3 requests.
 */
export interface RecordsStore {
  /** Every bucket with its totals, by name; `owner` (an account's id or name): only its buckets. */
  buckets(filter?: BucketFilter): Promise<BucketSummary[]>;
  bucket(name: string): Promise<BucketSummary | undefined>;
  stats(): Promise<StoreStats>;
  /** One page of objects matching the query, and the cursor of the next one. */
  findObjects(q: ObjectQuery): Promise<{ objects: ObjectSummary[]; nextCursor?: string }>;
  /** The current version of an object, or the version `versionId`, with its chunk list and the key's versions. */
  object(bucket: string, key: string, versionId?: string): Promise<ObjectRecord | undefined>;
  /** A chunk with the objects and uploads that use it. */
  chunk(sha256: string): Promise<ChunkRecord | undefined>;
}

/**
 * Settings every gateway shares (root credentials, the admin token), written once: gateways
 * starting together all insert, one wins, and every one reads the winner back.
 */
export interface SettingsStore {
  get(name: string): Promise<string | undefined>;
  /** Stores `value` unless the name has one; returns the stored value (this one or the earlier). */
  putIfAbsent(name: string, value: string): Promise<string>;
}

/** The gateway registry: each gateway's row, refreshed by its heartbeat. */
export interface GatewayStore {
  /** Inserts or replaces the row of `row.id`. */
  heartbeat(row: GatewayRow): Promise<void>;
  /** Every registered gateway, by id. */
  list(): Promise<GatewayRow[]>;
  remove(id: string): Promise<void>;
}

export interface MetadataStore {
  /** 'sqlite' or 'postgres'. */
  readonly engine: string;
  readonly buckets: BucketStore;
  readonly objects: ObjectStore;
  readonly multipart: MultipartStore;
  readonly keys: KeyStore;
  readonly accounts: AccountStore;
  readonly maintenance: MaintenanceStore;
  readonly records: RecordsStore;
  /** The lifecycle worker's reads and the record of its passes. */
  readonly lifecycle: LifecycleStore;
  readonly settings: SettingsStore;
  readonly gateways: GatewayStore;
  /** Claims on chunks and leases shared by every gateway on this metadata (src/store/claims.ts). */
  readonly claims: ChunkClaims;
  /** Finishes pending commits and closes the engine's connections. */
  close(): Promise<void>;
}
