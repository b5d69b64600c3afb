// The metadata store's row shapes: plain data, the same for every engine. The SQLite schema
// (src/db/schema.ts) produces exactly these; a second engine maps its rows onto them.

export interface BucketRow {
  id: number;
  name: string;
  region: string;
  createdAt: number;
  /** The owning account's canonical id. */
  ownerId: string;
  /** The bucket ACL (src/s3/acl.ts encodeAcl); null = private. */
  acl: string | null;
  ownership: ObjectOwnership;
  /** The bucket policy's JSON text; null = none. */
  policy: string | null;
  /** Null while versioning was never set on the bucket. */
  versioning: VersioningStatus | null;
  /** Created with object lock: versioning is Enabled for good. */
  objectLock: boolean;
  /** The default retention of new versions (object lock configuration): Days or Years. */
  lockDefaultMode: LockMode | null;
  lockDefaultDays: number | null;
  lockDefaultYears: number | null;
  /** PutBucketEncryption's default for new writes ('AES256' = SSE-S3); null = none. */
  defaultEncryption: 'AES256' | null;
  /** PutBucketTagging's tag set (JSON [[key, value], ...]); null = none. */
  tags: string | null;
  /** PutBucketLifecycleConfiguration's rules (JSON, src/s3/lifecycle.ts); null = none. */
  lifecycle: string | null;
}

/** A tag set in the order it was given: [key, value] pairs, keys unique (src/s3/tagging.ts validates). */
export type TagSet = [string, string][];

export type VersioningStatus = 'Enabled' | 'Suspended';

/** What CreateBucket records. Object lock turns versioning on for good. */
export interface NewBucket {
  name: string;
  region: string;
  ownerId: string;
  acl?: string | null;
  ownership?: ObjectOwnership;
  objectLock?: boolean;
}

/** A change of who may do what on a bucket (PutBucketAcl, ownership controls, policy). */
export type BucketAccessChange = Partial<Pick<BucketRow, 'acl' | 'ownership' | 'policy'>>;
/** The columns setBucketAccess may write (its own and the default encryption). */
export type BucketColumnsChange = BucketAccessChange & Partial<Pick<BucketRow, 'defaultEncryption'>> & Partial<Pick<BucketRow, 'lifecycle'>>;
/** PutBucketOwnershipControls: who owns what others write, and whether ACLs apply (not with BucketOwnerEnforced). */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/** How a version is encrypted at rest: 'AES256' = SSE-S3, 'SSE-C' = the client's key; null = in clear. */
export type Encryption = 'AES256' | 'SSE-C';

/** Encryption of a version, or of the version an upload will make (docs/encryption.md). */
export interface EncryptionColumns {
  encryption: Encryption | null;
  /** SSE-C: base64 MD5 of the client's key (the key itself is never stored); null otherwise. */
  sseCustomerKeyMd5: string | null;
}

/** Owner and ACL of a version, or of the version an upload will make. */
export interface AclColumns {
  /** The account that wrote it; null = the bucket's owner. */
  ownerId: string | null;
  /** Its ACL (encodeAcl); null = private. */
  acl: string | null;
}

export interface AccountRow {
  /** Canonical id: 64 lower-case hex characters. */
  id: string;
  name: string;
  email: string | null;
  createdAt: number;
}
export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Object lock state of a version (or of an upload, for the version it will make). */
export interface LockColumns {
  lockMode: LockMode | null;
  /** Retain-until, ms since the epoch; set with lockMode. */
  lockUntil: number | null;
  legalHold: boolean;
}

/** The stored headers of an object or an upload (what a PUT sets and a GET returns). */
export interface AttributeColumns {
  contentType: string | null;
  contentEncoding: string | null;
  contentDisposition: string | null;
  contentLanguage: string | null;
  cacheControl: string | null;
  expires: string | null;
  storageClass: string;
  /** JSON object of x-amz-meta-* names (lower case, without the prefix) to values. */
  userMetadata: string;
}

/** One version of a key: an object, or a delete marker (size 0, etag '', no chunks). */
export interface ObjectRow extends AttributeColumns, LockColumns, AclColumns, EncryptionColumns {
  id: number;
  bucketId: number;
  key: string;
  size: number;
  etag: string;
  checksumAlgorithm: string | null;
  checksumValue: string | null;
  checksumType: string | null;
  /** Parts of a multipart object (its "-N" ETag); null for a single PUT. */
  partCount: number | null;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** 'null' for a version written while the bucket was unversioned or suspended. */
  versionId: string;
  /** The newest version of its key and not a delete marker: what GET and ListObjects see. */
  isCurrent: boolean;
  deleteMarker: boolean;
  /** How many tags the version has (its tags are read with ObjectStore.getTags). */
  tagCount: number;
}

/**
 * What a commit writes: the row without its identity (absent attribute and lock columns take
 * their defaults). Its versionId (default 'null') says where it goes: 'null' replaces the key's null version,
 * anything else is a new version; either way it becomes the newest.
 */
export type NewObject = Pick<ObjectRow, 'size' | 'etag' | 'lastModified'> &
  Partial<Pick<ObjectRow, 'checksumAlgorithm' | 'checksumValue' | 'checksumType' | 'partCount' | 'versionId' | 'deleteMarker'> & AttributeColumns & LockColumns & AclColumns & EncryptionColumns> & {
    /** The new version's tags (none when absent). */
    tags?: TagSet;
  };

/** A write's precondition, decided in the step that commits it (If-None-Match: *, If-Match). */
export interface WriteCondition {
  /** The key must have no current version (a delete marker counts as none). */
  ifNoneMatch?: boolean;
  /** The current version's ETag must be one of these (quoted or not; '*' = any). */
  ifMatch?: string;
}

export interface WriteOptions {
  condition?: WriteCondition;
  /** A locked version that the write would remove (the `null` version) may go under GOVERNANCE. */
  bypassGovernance?: boolean;
}

export interface DeleteOptions {
  /** Remove this version for good (its chunks freed), instead of the current one. */
  versionId?: string;
  /**
   * Without versionId: the version id of the delete marker to add ('null' when versioning is
   * suspended, which also removes the null version), or undefined in an unversioned bucket
   * (the null version is removed).
   */
  markerVersionId?: string;
  bypassGovernance?: boolean;
  condition?: WriteCondition;
}

/** One row of an object's chunk list: bytes [offset, offset + size) of the object are chunk `chunkHash`. */
export interface ObjectChunkRow {
  objectId: number;
  seq: number;
  offset: number;
  size: number;
  chunkHash: string;
}

/**
 * A chunk-list row with what a read needs of the chunk: its stored size and CRC32C (of the stored
 * bytes: an encrypted chunk stores more than the plaintext `size`) and, if inline, its bytes.
 */
export type ChunkReadRow = ObjectChunkRow & { storedSize: number; crc32c: number; data: Buffer | null };

/** Where a chunk sits in what is being committed, with what its row needs if it is new. */
export interface ChunkPlacement {
  hash: string;
  size: number;
  crc32c: number;
  /** Offset of the chunk within the object or part. */
  offset: number;
  /** Bytes stored, when not `size` (an encrypted chunk: header + ciphertext + tag). */
  storedSize?: number;
  /** An inline chunk's bytes (small objects kept in the metadata): stored when its row is new. */
  data?: Buffer | null;
}

/** One part of a multipart object's layout (GET ?partNumber=N). */
export interface ObjectPartRow {
  objectId: number;
  partNumber: number;
  offset: number;
  size: number;
  checksumValue: string | null;
}
export type ObjectPartInput = Omit<ObjectPartRow, 'objectId'>;

export interface UploadRow extends AttributeColumns, LockColumns, AclColumns, EncryptionColumns {
  id: string;
  bucketId: number;
  key: string;
  initiated: number;
  checksumAlgorithm: string | null;
  checksumType: string | null;
  /** CreateMultipartUpload's x-amz-tagging (JSON TagSet) for the version Complete makes; null = none. */
  tags: string | null;
}
export type NewUpload = Omit<UploadRow, keyof AttributeColumns | keyof LockColumns | keyof AclColumns | keyof EncryptionColumns | 'tags'> &
  Partial<AttributeColumns & LockColumns & AclColumns & EncryptionColumns & Pick<UploadRow, 'tags'>>;

export interface PartRow {
  uploadId: string;
  partNumber: number;
  size: number;
  etag: string;
  checksumValue: string | null;
  lastModified: number;
}

/** A part as Complete uses it: its place in the object and its checksum. */
export interface CompletedPart {
  partNumber: number;
  offset: number;
  size: number;
  checksumValue: string | null;
}

export interface CompletedUploadRow {
  uploadId: string;
  bucketId: number;
  key: string;
  etag: string;
  completedAt: number;
  versionId: string;
}

export interface CommitResult {
  object: ObjectRow;
  /** Chunk hashes whose refcount reached zero: their rows are gone; the caller removes the files. */
  freed: string[];
}

export interface DeleteResult {
  /** A version was removed or a delete marker added. */
  deleted: boolean;
  /** As in CommitResult. */
  freed: string[];
  /** The version removed, or the delete marker added. */
  versionId?: string;
  /** The version removed was a delete marker, or a delete marker was added. */
  deleteMarker?: boolean;
}

/** A chunk row as the scrub walks them. */
export interface ChunkRow {
  hash: string;
  size: number;
  crc32c: number;
  /** Bytes of an inline chunk (no file). */
  data: Buffer | null;
}

/** 'write' includes 'read'; 'bypass' is 'write' and may bypass GOVERNANCE retention. */
export type Permission = 'read' | 'write' | 'bypass';
export interface Grant {
  /** A bucket name, or '*' for every bucket (including ones created later). */
  bucket: string;
  permission: Permission;
}
export interface NewKeyOptions {
  /** The account the key acts for; default: the root account. */
  accountId?: string;
  description?: string;
  grants: Grant[];
  /** Key import: a pair made elsewhere (checked by validateImportedPair). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface AccessKeyInfo {
  id: string;
  /** The account it acts for. */
  accountId: string;
  description: string;
  /** ISO 8601. */
  createdAt: string;
  grants: Grant[];
}

/** A gateway's row in the registry (`gateways`): written at start, on each heartbeat, removed on a clean stop. */
export interface GatewayRow {
  id: string;
  host: string;
  pid: number;
  s3Url: string;
  adminUrl: string;
  version: string;
  /** ms since the epoch. */
  startedAt: number;
  heartbeatAt: number;
}

/**
 * The version a read looked up was overwritten in place (a null version) or removed before its
 * chunk list was read: the read must not go on with the row it has.
 */
export class VersionChangedError extends Error {
  constructor(key: string) {
    super(`${key}: the version changed while its read began`);
    this.name = 'VersionChangedError';
  }
}

/** What identifies one write of a row: an in-place overwrite changes at least one of these. */
export function versionIdentity(obj: Pick<ObjectRow, 'id' | 'lastModified' | 'etag' | 'size'>): string {
  return `${obj.id}/${obj.lastModified}/${obj.size}/${obj.etag}`;
}

/** The rows of a whole chunk list that hold bytes [start, end] (the list itself for the whole object). */
export function chunksInRange<C extends { offset: number; size: number }>(all: C[], objectSize: number, start: number, end: number): C[] {
  return start === 0 && end >= objectSize - 1 ? all : all.filter((r) => r.offset <= end && r.offset + r.size > start);
}
