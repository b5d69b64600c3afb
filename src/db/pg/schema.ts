import { sql } from 'drizzle-orm';
import { pgTable, bigint, bigserial, boolean, text, customType, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core';

// The PostgreSQL schema: the same tables and columns as src/db/schema.ts (test/unit/schema-parity
// holds that), in PostgreSQL's types. Times, sizes and CRCs are bigint (ms since the epoch, byte
// counts, unsigned 32-bit), read back as JS numbers. Keys and names are `text COLLATE "C"`: byte
// order of their UTF-8, which is S3's listing order whatever the database's default collation.

/** text compared byte-wise (S3's key order). */
const ctext = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
const num = (name: string) => bigint(name, { mode: 'number' });

const attributeColumns = () => ({
  contentType: text('content_type'),
  contentEncoding: text('content_encoding'),
  contentDisposition: text('content_disposition'),
  contentLanguage: text('content_language'),
  cacheControl: text('cache_control'),
  expires: text('expires'),
  storageClass: text('storage_class').notNull().default('STANDARD'),
  userMetadata: text('user_metadata').notNull().default('{}'),
});

export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  email: text('email').unique(),
  createdAt: num('created_at').notNull(),
});

export const buckets = pgTable('buckets', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: ctext('name').notNull().unique(),
  region: text('region').notNull(),
  createdAt: num('created_at').notNull(),
  ownerId: text('owner_id').notNull().default(''),
  acl: text('acl'),
  ownership: text('ownership', { enum: ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] }).notNull().default('ObjectWriter'),
  policy: text('policy'),
  versioning: text('versioning', { enum: ['Enabled', 'Suspended'] }),
  objectLock: boolean('object_lock').notNull().default(false),
  lockDefaultMode: text('lock_default_mode', { enum: ['GOVERNANCE', 'COMPLIANCE'] }),
  lockDefaultDays: num('lock_default_days'),
  lockDefaultYears: num('lock_default_years'),
  defaultEncryption: text('default_encryption', { enum: ['AES256'] }),
  tags: text('tags'),
  lifecycle: text('lifecycle'),
});

const lockColumns = () => ({
  lockMode: text('lock_mode', { enum: ['GOVERNANCE', 'COMPLIANCE'] }),
  lockUntil: num('lock_until'),
  legalHold: boolean('legal_hold').notNull().default(false),
});

const encryptionColumns = () => ({
  encryption: text('encryption', { enum: ['AES256', 'SSE-C'] }),
  sseCustomerKeyMd5: text('sse_customer_key_md5'),
});

const aclColumns = () => ({
  ownerId: text('owner_id'),
  acl: text('acl'),
});

export const objects = pgTable(
  'objects',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    bucketId: num('bucket_id')
      .notNull()
      .references(() => buckets.id),
    key: ctext('key').notNull(),
    size: num('size').notNull(),
    etag: text('etag').notNull(),
    ...attributeColumns(),
    checksumAlgorithm: text('checksum_algorithm'),
    checksumValue: text('checksum_value'),
    checksumType: text('checksum_type'),
    partCount: num('part_count'),
    lastModified: num('last_modified').notNull(),
    versionId: text('version_id').notNull().default('null'),
    isCurrent: boolean('is_current').notNull().default(true),
    deleteMarker: boolean('delete_marker').notNull().default(false),
    ...lockColumns(),
    ...aclColumns(),
    ...encryptionColumns(),
    tagCount: num('tag_count').notNull().default(0),
  },
  (t) => [
    uniqueIndex('objects_current').on(t.bucketId, t.key).where(sql`is_current`),
    uniqueIndex('objects_version').on(t.bucketId, t.key, t.versionId),
    index('objects_versions').on(t.bucketId, t.key, sql`${t.id} desc`),
    index('objects_bucket_size').on(t.bucketId, t.size, t.id),
    index('objects_bucket_modified').on(t.bucketId, t.lastModified, t.id),
    index('objects_key').on(t.key, sql`${t.id} desc`),
    index('objects_size').on(t.size, t.id),
    index('objects_modified').on(t.lastModified, t.id),
    index('objects_content_type').on(t.contentType, t.id),
    index('objects_etag').on(t.etag, t.id),
  ],
);

export const chunks = pgTable('chunks', {
  hash: text('hash').primaryKey(),
  size: num('size').notNull(),
  crc32c: num('crc32c').notNull(),
  refcount: num('refcount').notNull(),
  createdAt: num('created_at').notNull(),
  data: bytea('data'),
});

export const objectChunks = pgTable(
  'object_chunks',
  {
    objectId: num('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    seq: num('seq').notNull(),
    offset: num('offset').notNull(),
    size: num('size').notNull(),
    chunkHash: text('chunk_hash')
      .notNull()
      .references(() => chunks.hash),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.seq] }), uniqueIndex('object_chunks_offset').on(t.objectId, t.offset), index('object_chunks_hash').on(t.chunkHash)],
);

export const multipartUploads = pgTable(
  'multipart_uploads',
  {
    id: text('id').primaryKey(),
    bucketId: num('bucket_id')
      .notNull()
      .references(() => buckets.id),
    key: ctext('key').notNull(),
    initiated: num('initiated').notNull(),
    ...attributeColumns(),
    checksumAlgorithm: text('checksum_algorithm'),
    checksumType: text('checksum_type'),
    ...lockColumns(),
    ...aclColumns(),
    ...encryptionColumns(),
    tags: text('tags'),
  },
  (t) => [index('multipart_uploads_bucket_key').on(t.bucketId, t.key, t.id), index('multipart_uploads_initiated').on(t.initiated)],
);

export const uploadParts = pgTable(
  'upload_parts',
  {
    uploadId: text('upload_id')
      .notNull()
      .references(() => multipartUploads.id, { onDelete: 'cascade' }),
    partNumber: num('part_number').notNull(),
    size: num('size').notNull(),
    etag: text('etag').notNull(),
    checksumValue: text('checksum_value'),
    lastModified: num('last_modified').notNull(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

export const partChunks = pgTable(
  'part_chunks',
  {
    uploadId: text('upload_id').notNull(),
    partNumber: num('part_number').notNull(),
    seq: num('seq').notNull(),
    offset: num('offset').notNull(),
    size: num('size').notNull(),
    chunkHash: text('chunk_hash')
      .notNull()
      .references(() => chunks.hash),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber, t.seq] }), index('part_chunks_hash').on(t.chunkHash)],
);

export const objectParts = pgTable(
  'object_parts',
  {
    objectId: num('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    partNumber: num('part_number').notNull(),
    offset: num('offset').notNull(),
    size: num('size').notNull(),
    checksumValue: text('checksum_value'),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.partNumber] })],
);

export const objectTags = pgTable(
  'object_tags',
  {
    objectId: num('object_id')
      .notNull()
      .references(() => objects.id, { onDelete: 'cascade' }),
    key: ctext('key').notNull(),
    value: ctext('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.key] }), index('object_tags_key_value').on(t.key, t.value, t.objectId)],
);

export const lifecycleRuns = pgTable('lifecycle_runs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  startedAt: num('started_at').notNull(),
  finishedAt: num('finished_at'),
  trigger: text('trigger').notNull(),
  evaluatedAt: num('evaluated_at').notNull(),
  versionsExpired: num('versions_expired').notNull().default(0),
  markersAdded: num('markers_added').notNull().default(0),
  markersRemoved: num('markers_removed').notNull().default(0),
  uploadsAborted: num('uploads_aborted').notNull().default(0),
  bytesExpired: num('bytes_expired').notNull().default(0),
  lockedKept: num('locked_kept').notNull().default(0),
  error: text('error'),
});

export const completedUploads = pgTable('completed_uploads', {
  uploadId: text('upload_id').primaryKey(),
  bucketId: num('bucket_id').notNull(),
  key: ctext('key').notNull(),
  etag: text('etag').notNull(),
  completedAt: num('completed_at').notNull(),
  versionId: text('version_id').notNull().default('null'),
});

export const accessKeys = pgTable('access_keys', {
  id: text('id').primaryKey(),
  secret: text('secret').notNull(),
  description: text('description').notNull().default(''),
  createdAt: num('created_at').notNull(),
  accountId: text('account_id').notNull().default(''),
});

export const keyGrants = pgTable(
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

export const bucketCors = pgTable('bucket_cors', {
  bucketId: num('bucket_id')
    .primaryKey()
    .references(() => buckets.id, { onDelete: 'cascade' }),
  rules: text('rules').notNull(),
  updatedAt: num('updated_at').notNull(),
});

export const gateways = pgTable('gateways', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: num('pid').notNull(),
  s3Url: text('s3_url').notNull().default(''),
  adminUrl: text('admin_url').notNull().default(''),
  version: text('version').notNull().default(''),
  startedAt: num('started_at').notNull(),
  heartbeatAt: num('heartbeat_at').notNull(),
});

export const chunkClaims = pgTable(
  'chunk_claims',
  {
    hash: text('hash').notNull(),
    holder: text('holder').notNull(),
    kind: text('kind', { enum: ['use', 'delete'] }).notNull(),
    expiresAt: num('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hash, t.holder, t.kind] }), index('chunk_claims_expires').on(t.expiresAt)],
);

export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: num('expires_at').notNull(),
});

export const settings = pgTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updatedAt: num('updated_at').notNull(),
});
