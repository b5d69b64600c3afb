import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, blob, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Times are integer milliseconds since the epoch: sortable, indexable, no timezone parsing.

/** Headers and metadata stored with an object, and with an upload until it completes. */
const attributeColumns = () => ({
  contentType: text('content_type'),
  contentEncoding: text('content_encoding'),
  contentDisposition: text('content_disposition'),
  contentLanguage: text('content_language'),
  cacheControl: text('cache_control'),
  expires: text('expires'),
  storageClass: text('storage_class').notNull().default('STANDARD'),
  /** x-amz-meta-* as a JSON object of lower-case names; small (<= 2 KB) and read whole. */
  userMetadata: text('user_metadata').notNull().default('{}'),
});

/** Who owns buckets and objects; access keys act for one account. */
export const accounts = sqliteTable('accounts', {
  /** Canonical id: 64 lower-case hex characters (S3's canonical user id). */
  id: text('id').primaryKey(),
  /** Display name, unique: how the CLI and the admin API name the account. */
  name: text('name').notNull().unique(),
  /** Lower case; resolves `emailAddress=` grantees. */
  email: text('email').unique(),
  createdAt: integer('created_at').notNull(),
});

export const buckets = sqliteTable('buckets', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  region: text('region').notNull(),
  createdAt: integer('created_at').notNull(),
  /** The owning account (accounts.id). */
  ownerId: text('owner_id').notNull().default(''),
  /** The bucket ACL's grants (src/s3/acl.ts encodeAcl); null = private (the owner alone). */
  acl: text('acl'),
  /** Object ownership (PutBucketOwnershipControls). */
  ownership: text('ownership', { enum: ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] }).notNull().default('ObjectWriter'),
  /** The bucket policy as the owner sent it (validated JSON); null = none. */
  policy: text('policy'),
  /** PutBucketVersioning: null while it was never set (unversioned), then 'Enabled' or 'Suspended'. */
  versioning: text('versioning', { enum: ['Enabled', 'Suspended'] }),
  /** Created with x-amz-bucket-object-lock-enabled: versioning stays Enabled for good. */
  objectLock: integer('object_lock', { mode: 'boolean' }).notNull().default(false),
  /** The object lock configuration's default retention for new versions (Days or Years). */
  lockDefaultMode: text('lock_default_mode', { enum: ['GOVERNANCE', 'COMPLIANCE'] }),
  lockDefaultDays: integer('lock_default_days'),
  lockDefaultYears: integer('lock_default_years'),
  /** PutBucketEncryption: the default server-side encryption of new writes ('AES256' = SSE-S3); null = none. */
  defaultEncryption: text('default_encryption', { enum: ['AES256'] }),
  /** PutBucketTagging: the bucket's tag set as JSON [[key, value], ...] in the order sent; null = none. */
  tags: text('tags'),
  /** PutBucketLifecycleConfiguration: the validated rules as JSON (src/s3/lifecycle.ts); null = none. */
  lifecycle: text('lifecycle'),
});

/** Retention and legal hold of a version (object lock), also carried by an upload until it completes. */
const lockColumns = () => ({
  lockMode: text('lock_mode', { enum: ['GOVERNANCE', 'COMPLIANCE'] }),
  /** Retain-until date, ms; meaningful with lockMode. */
  lockUntil: integer('lock_until'),
  legalHold: integer('legal_hold', { mode: 'boolean' }).notNull().default(false),
});

/**
 * Server-side encryption of a version (or of the version an upload will make): 'AES256' (SSE-S3,
 * the server's key) or 'SSE-C' (the client's key, never stored: only its MD5, to check the key a
 * later request brings). Null = stored in clear. docs/encryption.md.
 */
const encryptionColumns = () => ({
  encryption: text('encryption', { enum: ['AES256', 'SSE-C'] }),
  sseCustomerKeyMd5: text('sse_customer_key_md5'),
});

/** Owner and ACL of a version (or of the version an upload will make). */
const aclColumns = () => ({
  /** The account that wrote it; null = the bucket's owner (most rows: nothing stored). */
  ownerId: text('owner_id'),
  /** Its ACL's grants (encodeAcl); null = private (its owner alone). */
  acl: text('acl'),
});

export const objects = sqliteTable(
  'objects',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bucketId: integer('bucket_id')
      .notNull()
      .references(() => buckets.id),
    // SQLite compares TEXT with memcmp over UTF-8, which is exactly S3's listing order.
    key: text('key').notNull(),
    size: integer('size').notNull(),
    etag: text('etag').notNull(),
    ...attributeColumns(),
    checksumAlgorithm: text('checksum_algorithm'),
    checksumValue: text('checksum_value'),
    checksumType: text('checksum_type'),
    /** Number of parts for a multipart object (ETag suffix), null for a single PUT. */
    partCount: integer('part_count'),
    lastModified: integer('last_modified').notNull(),
    /** 'null' for the version written while the bucket was unversioned or suspended. */
    versionId: text('version_id').notNull().default('null'),
    /**
     * The newest version of its key and not a delete marker: what GET, HEAD and ListObjects see.
     * The newest version is the one with the highest id (a new `null` version gets a new row).
     */
    isCurrent: integer('is_current', { mode: 'boolean' }).notNull().default(true),
    /** A delete marker: no data, size 0, etag ''. */
    deleteMarker: integer('delete_marker', { mode: 'boolean' }).notNull().default(false),
    ...lockColumns(),
    ...aclColumns(),
    ...encryptionColumns(),
    /** How many tags the version has (x-amz-tagging-count on GET and HEAD without a lookup); the tags are in object_tags. */
    tagCount: integer('tag_count').notNull().default(0),
  },
  (t) => [
    // Every query of current objects says `is_current = 1` literally, so SQLite uses this index.
    uniqueIndex('objects_current').on(t.bucketId, t.key).where(sql`is_current = 1`),
    uniqueIndex('objects_version').on(t.bucketId, t.key, t.versionId),
    // A key's versions newest first (ListObjectVersions, the newest version of a key).
    index('objects_versions').on(t.bucketId, t.key, sql`${t.id} desc`),
    index('objects_bucket_size').on(t.bucketId, t.size),
    index('objects_bucket_modified').on(t.bucketId, t.lastModified),
    // Record queries across buckets (admin API, `cairn find`): each sort order and the selective
    // filters get an index; SQLite appends the rowid, so (column, id) keyset pages seek directly.
    // By key, ties (one key's versions, or the same key in other buckets) come newest first, the
    // order objects_versions gives a bucket's versions: one tie rule whether or not a bucket is named.
    index('objects_key').on(t.key, sql`${t.id} desc`),
    index('objects_size').on(t.size),
    index('objects_modified').on(t.lastModified),
    index('objects_content_type').on(t.contentType),
    index('objects_etag').on(t.etag),
  ],
);

export const chunks = sqliteTable('chunks', {
  /** SHA-256 of the chunk's bytes, hex: also its file name under chunks/ab/cd/. */
  hash: text('hash').primaryKey(),
  /**
   * The stored bytes' count (the file's size). An encrypted chunk stores a header and a tag
   * besides its ciphertext, so this exceeds the plaintext size the chunk lists record.
   */
  size: integer('size').notNull(),
  /** CRC32C of the stored bytes: verified on every read, far cheaper than re-hashing SHA-256. */
  crc32c: integer('crc32c').notNull(),
  /** Number of (object, seq) rows that point at this chunk. At 0 the row and file go. */
  refcount: integer('refcount').notNull(),
  createdAt: integer('created_at').notNull(),
  /**
   * The bytes of a small chunk, stored in the row instead of a file (CAIRN_INLINE_MAX): a 4 KiB
   * object then costs one SQLite commit instead of a file write, fsync, rename and directory
   * fsync, and its GET no file open. NULL for chunks kept as files.
   */
  data: blob('data', { mode: 'buffer' }).$type<Buffer>(),
});

export const objectChunks = sqliteTable(
  'object_chunks',
  {
    objectId: integer('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    offset: integer('offset').notNull(),
    size: integer('size').notNull(),
    chunkHash: text('chunk_hash')
      .notNull()
      .references(() => chunks.hash),
  },
  (t) => [
    primaryKey({ columns: [t.objectId, t.seq] }),
    // A range read seeks to the chunk holding its first byte.
    uniqueIndex('object_chunks_offset').on(t.objectId, t.offset),
    index('object_chunks_hash').on(t.chunkHash),
  ],
);

/** Upload in progress. Invisible to GET and listings until CompleteMultipartUpload. */
export const multipartUploads = sqliteTable(
  'multipart_uploads',
  {
    /** Random, unguessable id handed to the client. */
    id: text('id').primaryKey(),
    bucketId: integer('bucket_id')
      .notNull()
      .references(() => buckets.id),
    key: text('key').notNull(),
    initiated: integer('initiated').notNull(),
    ...attributeColumns(),
    checksumAlgorithm: text('checksum_algorithm'),
    checksumType: text('checksum_type'),
    ...lockColumns(),
    ...aclColumns(),
    ...encryptionColumns(),
    /** x-amz-tagging of CreateMultipartUpload, JSON [[key, value], ...]: the tags the completed version gets; null = none. */
    tags: text('tags'),
  },
  (t) => [index('multipart_uploads_bucket_key').on(t.bucketId, t.key, t.id), index('multipart_uploads_initiated').on(t.initiated)],
);

export const uploadParts = sqliteTable(
  'upload_parts',
  {
    uploadId: text('upload_id')
      .notNull()
      .references(() => multipartUploads.id, { onDelete: 'cascade' }),
    partNumber: integer('part_number').notNull(),
    size: integer('size').notNull(),
    etag: text('etag').notNull(),
    /** Base64 checksum of the part in the upload's algorithm, when it has one. */
    checksumValue: text('checksum_value'),
    lastModified: integer('last_modified').notNull(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

/** A part's chunk list (offsets within the part). Holds chunk references like object_chunks. */
export const partChunks = sqliteTable(
  'part_chunks',
  {
    uploadId: text('upload_id').notNull(),
    partNumber: integer('part_number').notNull(),
    seq: integer('seq').notNull(),
    offset: integer('offset').notNull(),
    size: integer('size').notNull(),
    chunkHash: text('chunk_hash')
      .notNull()
      .references(() => chunks.hash),
  },
  (t) => [
    primaryKey({ columns: [t.uploadId, t.partNumber, t.seq] }),
    // Which uploads hold a chunk (chunk records, GC, scrub) without scanning every part.
    index('part_chunks_hash').on(t.chunkHash),
  ],
);

/** Part boundaries of a multipart object: GET ?partNumber=N and composite checksums. */
export const objectParts = sqliteTable(
  'object_parts',
  {
    objectId: integer('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    partNumber: integer('part_number').notNull(),
    offset: integer('offset').notNull(),
    size: integer('size').notNull(),
    checksumValue: text('checksum_value'),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.partNumber] })],
);

/**
 * A version's tags (object tagging). Rows go with their version (ON DELETE CASCADE); the
 * (key, value) index serves the records' tag filter and lifecycle's tag filters.
 */
export const objectTags = sqliteTable(
  'object_tags',
  {
    objectId: integer('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.key] }), index('object_tags_key_value').on(t.key, t.value, t.objectId)],
);

/** What each lifecycle pass did (the worker's and `cairn lifecycle run`'s): /v1/stats and the dashboard show the latest. */
export const lifecycleRuns = sqliteTable('lifecycle_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  /** 'worker' or 'cli'. */
  trigger: text('trigger').notNull(),
  /** The clock the rules were evaluated at (ms; `--at` may set it). */
  evaluatedAt: integer('evaluated_at').notNull(),
  /** Versions removed for good (current expiry on unversioned buckets, noncurrent expiry). */
  versionsExpired: integer('versions_expired').notNull().default(0),
  /** Delete markers added (current expiry on versioned buckets). */
  markersAdded: integer('markers_added').notNull().default(0),
  /** Expired object delete markers removed. */
  markersRemoved: integer('markers_removed').notNull().default(0),
  uploadsAborted: integer('uploads_aborted').notNull().default(0),
  /** Bytes of the versions and uploads removed. */
  bytesExpired: integer('bytes_expired').notNull().default(0),
  /** Versions a rule selected that object lock or legal hold kept. */
  lockedKept: integer('locked_kept').notNull().default(0),
  /** Set when the pass stopped on an error (message only). */
  error: text('error'),
});

/** Recently completed uploads, so a retried Complete gets the same answer as the first. */
export const completedUploads = sqliteTable('completed_uploads', {
  uploadId: text('upload_id').primaryKey(),
  bucketId: integer('bucket_id').notNull(),
  key: text('key').notNull(),
  etag: text('etag').notNull(),
  completedAt: integer('completed_at').notNull(),
  versionId: text('version_id').notNull().default('null'),
});

/** Access keys besides the root pair. The secret is kept: SigV4 verification needs it. */
export const accessKeys = sqliteTable('access_keys', {
  id: text('id').primaryKey(),
  secret: text('secret').notNull(),
  description: text('description').notNull().default(''),
  createdAt: integer('created_at').notNull(),
  /** The account the key acts for (accounts.id). */
  accountId: text('account_id').notNull().default(''),
});

/** What a key may do: per bucket ('*' = every bucket), 'read' or 'write' (write includes read). */
export const keyGrants = sqliteTable(
  'key_grants',
  {
    accessKeyId: text('access_key_id')
      .notNull()
      .references(() => accessKeys.id, { onDelete: 'cascade' }),
    bucket: text('bucket').notNull(),
    permission: text('permission', { enum: ['read', 'write', 'bypass'] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.accessKeyId, t.bucket] })],
);

/** A bucket's CORS configuration (PutBucketCors): its rules as JSON, in document order; read whole. */
export const bucketCors = sqliteTable('bucket_cors', {
  bucketId: integer('bucket_id')
    .primaryKey()
    .references(() => buckets.id, { onDelete: 'cascade' }),
  /** CorsRule[] (src/s3/cors.ts). */
  rules: text('rules').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Gateways sharing this metadata (one row per running process): each refreshes heartbeat_at;
 * /v1/stats, the dashboard and /metrics list them, and a row older than the gateway timeout is
 * a dead gateway whose claims and temp files may be released.
 */
export const gateways = sqliteTable('gateways', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  s3Url: text('s3_url').notNull().default(''),
  adminUrl: text('admin_url').notNull().default(''),
  version: text('version').notNull().default(''),
  startedAt: integer('started_at').notNull(),
  heartbeatAt: integer('heartbeat_at').notNull(),
});

/**
 * Claims on chunk hashes, with expiry, shared by every gateway: kind 'use' is a writer about to
 * reference a chunk it found stored (dedup), kind 'delete' a collector removing the file. Each
 * side writes its own row, then looks for the other's (docs/architecture.md, "Chunk claims").
 */
export const chunkClaims = sqliteTable(
  'chunk_claims',
  {
    hash: text('hash').notNull(),
    /** The gateway's id. */
    holder: text('holder').notNull(),
    kind: text('kind', { enum: ['use', 'delete'] }).notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hash, t.holder, t.kind] }), index('chunk_claims_expires').on(t.expiresAt)],
);

/** Named leases with expiry (one garbage collector, one lifecycle pass at a time across gateways). */
export const leases = sqliteTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** Settings every gateway shares (the root credentials, the admin token's hash), when kept in the metadata engine. */
export const settings = sqliteTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
