import { bucketIsPublic } from '../../auth/public-access.js';
import type { BucketRow, ObjectRow } from '../../store/types.js';
import { encryptionInfo } from './encryption.js';
import type { BucketSummary, ChunkEntry, ChunkRecord, LockState, ObjectRecord, ObjectSummary, OwnerRef, StoreStats, VersionEntry } from './shapes.js';

// The records' shapes (shapes.ts) made from rows, for every engine: each engine reads the rows
// its own way and hands them here, so the two engines answer the same records.

/** An object record lists at most this many of the key's versions. */
export const VERSIONS_LISTED = 1000;
/** A chunk record lists at most this many objects and as many upload parts. */
export const CHUNK_REFERENCES_LISTED = 1000;

export function isSha256(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

/** An account named by its canonical id, not its name (a name never looks like an id: src/store/accounts.ts). */
export function isCanonicalId(idOrName: string): boolean {
  return /^[0-9a-f]{64}$/.test(idOrName);
}

export function ownerRef(id: string, names: Map<string, string>): OwnerRef {
  return { id, name: names.get(id) ?? null };
}

export function lockState(r: Pick<ObjectRow, 'lockMode' | 'lockUntil' | 'legalHold'>): LockState {
  const held = r.lockMode !== null && r.lockUntil !== null;
  return { mode: held ? r.lockMode : null, retainUntil: held ? new Date(r.lockUntil!).toISOString() : null, legalHold: r.legalHold };
}

export function objectSummary(r: ObjectRow, bucket: string, isLatest: boolean, owner: OwnerRef): ObjectSummary {
  return {
    bucket,
    key: r.key,
    versionId: r.versionId,
    owner,
    isLatest,
    deleteMarker: r.deleteMarker,
    lock: lockState(r),
    encryption: encryptionInfo(r),
    size: r.size,
    etag: r.etag,
    lastModified: new Date(r.lastModified).toISOString(),
    // What a GET answers for an object stored without a type (http/attributes.ts).
    contentType: r.contentType ?? 'binary/octet-stream',
    storageClass: r.storageClass,
    checksumAlgorithm: r.checksumAlgorithm,
    checksumValue: r.checksumValue,
    checksumType: r.checksumType,
    partCount: r.partCount,
    metadata: JSON.parse(r.userMetadata) as Record<string, string>,
  };
}

/** A version as the key's version list shows it. */
export type VersionRow = Pick<ObjectRow, 'id' | 'versionId' | 'deleteMarker' | 'size' | 'etag' | 'lastModified' | 'lockMode' | 'lockUntil' | 'legalHold' | 'encryption' | 'sseCustomerKeyMd5'>;

/** What an object record is made of: its row and the rows around it, read in one snapshot. */
export interface ObjectRecordRows {
  row: ObjectRow;
  bucket: string;
  owner: OwnerRef;
  /** The key's versions, newest first: up to VERSIONS_LISTED + 1 (one more says there are more). */
  versions: VersionRow[];
  chunks: Array<Omit<ChunkEntry, 'shared'>>;
  parts: ObjectRecord['parts'];
  tags: ObjectRecord['tags'];
}

export function objectRecordOf(x: ObjectRecordRows): ObjectRecord {
  const r = x.row;
  // A chunk repeated inside this object holds one reference per use: shared only beyond those.
  const own = new Map<string, number>();
  for (const c of x.chunks) own.set(c.sha256, (own.get(c.sha256) ?? 0) + 1);
  const record: ObjectRecord = {
    ...objectSummary(r, x.bucket, x.versions[0]?.id === r.id, x.owner),
    contentEncoding: r.contentEncoding,
    contentDisposition: r.contentDisposition,
    contentLanguage: r.contentLanguage,
    cacheControl: r.cacheControl,
    expires: r.expires,
    chunks: x.chunks.map((c) => ({ ...c, shared: c.refcount > own.get(c.sha256)! })),
    parts: x.parts,
    tags: x.tags,
    versions: x.versions.slice(0, VERSIONS_LISTED).map(
      (v, i): VersionEntry => ({
        versionId: v.versionId,
        isLatest: i === 0,
        deleteMarker: v.deleteMarker,
        size: v.size,
        etag: v.etag,
        lastModified: new Date(v.lastModified).toISOString(),
        lock: lockState(v),
        encryption: encryptionInfo(v),
      }),
    ),
  };
  if (x.versions.length > VERSIONS_LISTED) record.versionsTruncated = true;
  return record;
}

/** A chunk's row (`inline`: its bytes are in the row) and up to CHUNK_REFERENCES_LISTED + 1 references of each kind. */
export function chunkRecordOf(
  c: { hash: string; size: number; crc32c: number; refcount: number; createdAt: number; inline: boolean },
  objects: ChunkRecord['objects'],
  uploads: ChunkRecord['uploads'],
): ChunkRecord {
  const record: ChunkRecord = {
    sha256: c.hash,
    size: c.size,
    crc32c: c.crc32c,
    refcount: c.refcount,
    stored: c.inline ? 'inline' : 'file',
    createdAt: new Date(c.createdAt).toISOString(),
    objects: objects.slice(0, CHUNK_REFERENCES_LISTED),
    uploads: uploads.slice(0, CHUNK_REFERENCES_LISTED),
  };
  if (objects.length > CHUNK_REFERENCES_LISTED || uploads.length > CHUNK_REFERENCES_LISTED) record.truncated = true;
  return record;
}

/** The per-version sums of a bucket or the store. */
export type VersionTotals = Pick<BucketSummary, 'objects' | 'logicalBytes' | 'versions' | 'deleteMarkers' | 'versionBytes'>;
export const NO_VERSIONS: VersionTotals = { objects: 0, logicalBytes: 0, versions: 0, deleteMarkers: 0, versionBytes: 0 };

type BucketAccessRow = Pick<BucketRow, 'name' | 'region' | 'ownerId' | 'acl' | 'ownership' | 'policy' | 'defaultEncryption' | 'createdAt'>;

/** A bucket's summary from its row, its owner's name and its totals. */
export function bucketSummaryOf(b: BucketAccessRow, names: Map<string, string>, totals: VersionTotals, physicalBytes: number): BucketSummary {
  return {
    name: b.name,
    region: b.region,
    owner: ownerRef(b.ownerId, names),
    ownership: b.ownership,
    hasPolicy: b.policy !== null,
    public: bucketIsPublic(b),
    defaultEncryption: b.defaultEncryption === 'AES256' ? 'SSE-S3' : 'none',
    createdAt: new Date(b.createdAt).toISOString(),
    ...totals,
    physicalBytes,
  };
}

export function storeStatsOf(t: Omit<StoreStats, 'dedupRatio'>): StoreStats {
  return {
    buckets: t.buckets,
    objects: t.objects,
    logicalBytes: t.logicalBytes,
    versions: t.versions,
    deleteMarkers: t.deleteMarkers,
    versionBytes: t.versionBytes,
    physicalBytes: t.physicalBytes,
    chunks: t.chunks,
    // Every version's bytes over the stored bytes: noncurrent versions sharing chunks are dedup too.
    dedupRatio: t.physicalBytes === 0 ? 1 : Math.round((t.versionBytes / t.physicalBytes) * 1000) / 1000,
    multipartUploads: t.multipartUploads,
    multipartParts: t.multipartParts,
  };
}
