// The metadata store's row shapes: plain data, the same for every engine. The SQLite schema
// (src/db/schema.ts) produces exactly these; a second engine maps its rows onto them.

export interface BucketRow {
  id: number;
  name: string;
  region: string;
  publicRead: boolean;
  createdAt: number;
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

export interface ObjectRow extends AttributeColumns {
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
}

/** What a commit writes: the row without its identity (absent attribute columns take their defaults). */
export type NewObject = Omit<ObjectRow, 'id' | 'bucketId' | 'key' | keyof AttributeColumns> & Partial<AttributeColumns>;

/** One row of an object's chunk list: bytes [offset, offset + size) of the object are chunk `chunkHash`. */
export interface ObjectChunkRow {
  objectId: number;
  seq: number;
  offset: number;
  size: number;
  chunkHash: string;
}

/** A chunk-list row with what a read needs of the chunk: its CRC32C and, if inline, its bytes. */
export type ChunkReadRow = ObjectChunkRow & { crc32c: number; data: Buffer | null };

/** Where a chunk sits in what is being committed, with what its row needs if it is new. */
export interface ChunkPlacement {
  hash: string;
  size: number;
  crc32c: number;
  /** Offset of the chunk within the object or part. */
  offset: number;
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

export interface UploadRow extends AttributeColumns {
  id: string;
  bucketId: number;
  key: string;
  initiated: number;
  checksumAlgorithm: string | null;
  checksumType: string | null;
}
export type NewUpload = Omit<UploadRow, keyof AttributeColumns> & Partial<AttributeColumns>;

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
}

export interface CommitResult {
  object: ObjectRow;
  /** Chunk hashes whose refcount reached zero: their rows are gone; the caller removes the files. */
  freed: string[];
}

export interface DeleteResult {
  deleted: boolean;
  /** As in CommitResult. */
  freed: string[];
}

/** A chunk row as the scrub walks them. */
export interface ChunkRow {
  hash: string;
  size: number;
  crc32c: number;
  /** Bytes of an inline chunk (no file). */
  data: Buffer | null;
}

/** 'write' includes 'read'. */
export type Permission = 'read' | 'write';
export interface Grant {
  /** A bucket name, or '*' for every bucket (including ones created later). */
  bucket: string;
  permission: Permission;
}
export interface AccessKeyInfo {
  id: string;
  description: string;
  /** ISO 8601. */
  createdAt: string;
  grants: Grant[];
}
