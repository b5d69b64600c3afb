// The shapes of the records (docs/admin-contract.md): what the admin API answers, the CLI prints
// and the console shows. Types only, with no imports: the console uses them too.

export interface BucketSummary {
  name: string;
  region: string;
  public: boolean;
  createdAt: string;
  objects: number;
  logicalBytes: number;
  /** Distinct chunk bytes this bucket's objects use; a chunk shared with another bucket counts in both. */
  physicalBytes: number;
}

export interface StoreStats {
  buckets: number;
  objects: number;
  logicalBytes: number;
  physicalBytes: number;
  chunks: number;
  dedupRatio: number;
  multipartUploads: number;
  multipartParts: number;
}

export interface ObjectSummary {
  bucket: string;
  key: string;
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
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (bytes in the chunk's SQLite row). */
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
}

export interface ChunkRecord {
  sha256: string;
  size: number;
  crc32c: number;
  refcount: number;
  /** 'file' (chunks/ab/cd/<sha256>) or 'inline' (the bytes are in the chunk's SQLite row). */
  stored: 'file' | 'inline';
  createdAt: string;
  objects: Array<{ bucket: string; key: string; seq: number; offset: number }>;
  uploads: Array<{ uploadId: string; bucket: string; key: string; partNumber: number }>;
  /** Present when more references exist than were listed (see CHUNK_REFERENCES_LISTED in chunks.ts). */
  truncated?: true;
}
