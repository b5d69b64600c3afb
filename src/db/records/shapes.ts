// The shapes of the records (docs/admin-contract.md): what the admin API answers, the CLI prints
// and the console shows. Types only, with no imports: the console uses them too.

/** An account as the records name it: its canonical id and its name (null when no account has that id). */
export interface OwnerRef {
  id: string;
  name: string | null;
}

/**
 * How a version is encrypted at rest (docs/encryption.md), one shape for every front-end:
 * 'none' (stored in clear; a delete marker too), 'SSE-S3' (the server's key: algorithm AES256)
 * or 'SSE-C' (the client's key, never stored: customerKeyMd5 is its base64 MD5, what a GET's key
 * is checked against). Which server key sealed an SSE-S3 version is in each chunk's header, not
 * in the metadata, so the records do not name it.
 */
export type EncryptionMode = 'none' | 'SSE-S3' | 'SSE-C';
export interface EncryptionInfo {
  mode: EncryptionMode;
  /** 'AES256' for SSE-S3 and SSE-C (S3's name for both); null for 'none'. */
  algorithm: 'AES256' | null;
  /** SSE-C only: base64 MD5 of the client's key. */
  customerKeyMd5: string | null;
}

export interface BucketSummary {
  name: string;
  region: string;
  /** PutBucketEncryption's default for new writes: 'SSE-S3', or 'none' (the server's encryptAll may still apply). */
  defaultEncryption: 'SSE-S3' | 'none';
  /** The account that owns the bucket. */
  owner: OwnerRef;
  /** Object ownership (PutBucketOwnershipControls): BucketOwnerEnforced turns ACLs off. */
  ownership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
  /** The bucket has a policy (GET /v1/buckets/{name}/policy shows it). */
  hasPolicy: boolean;
  /** Its ACL or its policy gives something to everyone (anonymous requests). */
  public: boolean;
  createdAt: string;
  /** Current objects (what GET and ListObjects see). */
  objects: number;
  /** Bytes of the current objects. */
  logicalBytes: number;
  /** Versions that hold data, current ones included (delete markers are not counted). */
  versions: number;
  deleteMarkers: number;
  /** Bytes of every version, current or not. */
  versionBytes: number;
  /** Distinct chunk bytes this bucket's versions use; a chunk shared with another bucket counts in both. */
  physicalBytes: number;
}

export interface StoreStats {
  buckets: number;
  /** Current objects, their bytes; versions, delete markers and version bytes as in BucketSummary. */
  objects: number;
  logicalBytes: number;
  versions: number;
  deleteMarkers: number;
  versionBytes: number;
  physicalBytes: number;
  chunks: number;
  /** versionBytes / physicalBytes: what every version holds over what is stored; 1 when empty. */
  dedupRatio: number;
  multipartUploads: number;
  multipartParts: number;
}

/** Object lock state of a version. */
export interface LockState {
  /** Retention mode; null without retention. */
  mode: 'GOVERNANCE' | 'COMPLIANCE' | null;
  /** Retain-until (ISO 8601), with mode. */
  retainUntil: string | null;
  legalHold: boolean;
}

/** One version of an object (or a delete marker: size 0, etag ''). */
export interface ObjectSummary {
  bucket: string;
  key: string;
  /** 'null' for the version written while the bucket was unversioned or suspended. */
  versionId: string;
  /** The account that owns this version: its writer under ObjectWriter ownership, else the bucket's owner. */
  owner: OwnerRef;
  /** The newest version of its key (a delete marker can be). */
  isLatest: boolean;
  deleteMarker: boolean;
  lock: LockState;
  encryption: EncryptionInfo;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  storageClass: string;
  checksumAlgorithm: string | null;
  checksumValue: string | null;
  checksumType: string | null;
  partCount: number | null;
  metadata: Record<string, string>;
}

export interface ChunkEntry {
  seq: number;
  offset: number;
  size: number;
  sha256: string;
  crc32c: number;
  refcount: number;
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (bytes in the chunk's metadata row, SQLite or PostgreSQL). */
  stored: 'file' | 'inline';
  /** Referenced by something other than this object (another object, copy or upload part). */
  shared: boolean;
}

export interface ObjectRecord extends ObjectSummary {
  contentEncoding: string | null;
  contentDisposition: string | null;
  contentLanguage: string | null;
  cacheControl: string | null;
  expires: string | null;
  chunks: ChunkEntry[];
  parts: Array<{ partNumber: number; offset: number; size: number; checksum: string | null }>;
  /** The version's tags (object tagging), in key order; empty without any. */
  tags: Array<{ key: string; value: string }>;
  /** The key's versions and delete markers, newest first (this one among them). */
  versions: VersionEntry[];
  /** Present when the key has more versions than were listed (VERSIONS_LISTED in objects.ts). */
  versionsTruncated?: true;
}

export type VersionEntry = Pick<ObjectSummary, 'versionId' | 'isLatest' | 'deleteMarker' | 'size' | 'etag' | 'lastModified' | 'lock' | 'encryption'>;

export interface ChunkRecord {
  sha256: string;
  size: number;
  crc32c: number;
  refcount: number;
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (the bytes are in the chunk's metadata row, SQLite or PostgreSQL). */
  stored: 'file' | 'inline';
  createdAt: string;
  /** Every version that uses it, current or not. */
  objects: Array<{ bucket: string; key: string; versionId: string; seq: number; offset: number }>;
  uploads: Array<{ uploadId: string; bucket: string; key: string; partNumber: number }>;
  /** Present when more references exist than were listed (see CHUNK_REFERENCES_LISTED in chunks.ts). */
  truncated?: true;
}
