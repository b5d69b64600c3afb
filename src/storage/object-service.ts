import { S3Error } from '../s3/errors.js';
import type { MetadataStore, ListPage } from '../store/metadata-store.js';
import type { AclColumns, BucketRow, DeleteResult, LockMode, NewObject, ObjectPartRow, ObjectRow, TagSet, WriteCondition } from '../store/types.js';
import type { VersionListParams, VersionPage } from '../s3/version-list.js';
import { markerVersionIdFor, precheckCondition, resolveLock, versionIdFor, type LockRequest } from './versioning.js';
import type { ListParams } from '../s3/list-params.js';
import type { BufferPool } from './pool.js';
import type { HashPool } from './hash-pool.js';
import { verifiedInline, type ChunkStore } from './chunk-store.js';
import { commitOutcome, receivePayload, settle, type PayloadInput, type ReceiveDeps } from './receive.js';
import { READ_PIECE_BYTES, readObjectPieces, type PieceStream } from './chunk-reader.js';
import { open as openSealed } from './chunk-cipher.js';
import { canShare, copyRewrite } from './copy-rewrite.js';
import { changedDuringRead } from './read-race.js';
import { checkCustomerKey, customerEtag, openKeys, resolveWrite, type CustomerKey, type EncryptionSettings, type WriteEncryption } from './encryption.js';

// Object writes, reads, copies and deletes over the chunk and metadata stores: S3's rules, no HTTP.

export const MAX_PUT_SIZE = 5 * 1024 ** 3;

/** Stored headers and metadata of an object (what a PUT sets and a GET returns). */
export interface ObjectAttributes {
  contentType?: string | null;
  contentEncoding?: string | null;
  contentDisposition?: string | null;
  contentLanguage?: string | null;
  cacheControl?: string | null;
  expires?: string | null;
  storageClass?: string;
  userMetadata: Record<string, string>;
}

/** What a write asks of versions and locks (each optional). */
export interface WriteRequest {
  /** If-None-Match: * / If-Match. */
  condition?: WriteCondition;
  /** x-amz-object-lock-* headers. */
  lock?: LockRequest;
  /** The request may remove a GOVERNANCE-locked version it replaces (checked by the caller). */
  bypassGovernance?: boolean;
  /** Owner and ACL of the new version (src/http/acl-headers.ts); absent: the bucket owner's, private. */
  access?: AclColumns;
  /** x-amz-tagging, validated (src/s3/tagging.ts); absent: none, or a copy's source's (directive COPY). */
  tags?: TagSet;
}

export interface PutObjectInput extends PayloadInput, WriteRequest {
  bucket: BucketRow;
  key: string;
  attributes: ObjectAttributes;
  /**
   * Bounds on the body's size (a POST policy's content-length-range): over `max` stops the read
   * at once (EntityTooLarge), under `min` is refused once it is read (EntityTooSmall).
   */
  sizeRange?: { min?: number; max?: number };
  /** x-amz-server-side-encryption(-customer-*): absent = the bucket's default or none. */
  encryption?: WriteEncryption;
}

/** The row columns an object's attributes map to (PutObject, CopyObject REPLACE, multipart). */
export function attributeColumns(a: ObjectAttributes) {
  return {
    contentType: a.contentType ?? null,
    contentEncoding: a.contentEncoding ?? null,
    contentDisposition: a.contentDisposition ?? null,
    contentLanguage: a.contentLanguage ?? null,
    cacheControl: a.cacheControl ?? null,
    expires: a.expires ?? null,
    storageClass: a.storageClass ?? 'STANDARD',
    userMetadata: JSON.stringify(a.userMetadata),
  };
}

export interface ObjectServiceDeps {
  meta: MetadataStore;
  store: ChunkStore;
  pool: BufferPool;
  maxBuffersPerRequest: number;
  hashPool?: HashPool;
  /** PutObject bodies up to this size are stored inline in SQLite (undefined/0 = never). */
  inlineMax?: number;
  /** Server keys and encryptAll (docs/encryption.md); absent = no SSE-S3. */
  encryption?: EncryptionSettings;
  onWarn?: (msg: string, err?: unknown) => void;
}

/**
 * What all GET streams together may hold in read pieces. A stream holds about four pieces (one
 * being sent, one buffered, one held back until its chunk verified, one being read), so up to 8
 * concurrent GETs read in 1 MiB pieces and beyond that pieces shrink (256 KiB at 32, never under
 * 64 KiB): the writes have their pool, the reads a budget, whatever the load
 * (bench/results/memory.md).
 */
export const READ_BUDGET_BYTES = 32 * 1024 * 1024;
const MIN_READ_PIECE = 64 * 1024;

/** The piece size of a new GET stream when `active` streams (itself included) are open. */
export function readPieceSize(active: number): number {
  const share = Math.floor(READ_BUDGET_BYTES / (4 * Math.max(1, active)) / MIN_READ_PIECE) * MIN_READ_PIECE;
  return Math.min(READ_PIECE_BYTES, Math.max(MIN_READ_PIECE, share));
}

export class ObjectService {
  readonly receiveDeps: ReceiveDeps;

  /** GET streams open now (they share READ_BUDGET_BYTES). */
  private activeReads = 0;

  /** Server keys and encryptAll, for the multipart service too. */
  readonly encryption: EncryptionSettings;

  constructor(private readonly deps: ObjectServiceDeps) {
    this.encryption = deps.encryption ?? {};
    this.receiveDeps = {
      store: deps.store,
      pool: deps.pool,
      maxBuffersPerRequest: deps.maxBuffersPerRequest,
      hashPool: deps.hashPool,
      isReferenced: (hash) => deps.meta.objects.isChunkReferenced(hash),
      onWarn: deps.onWarn,
    };
  }

  /**
   * The object for GET and HEAD (a shared row: never modify it): the current version, or the
   * one named. NoSuchKey (with x-amz-delete-marker when the newest version is a delete marker),
   * NoSuchVersion, or 405 for a delete marker named by its version.
   */
  async headObject(bucket: BucketRow, key: string, versionId?: string): Promise<ObjectRow> {
    const objects = this.deps.meta.objects;
    if (versionId !== undefined) {
      const v = await objects.getVersion(bucket.id, key, versionId);
      if (!v) throw new S3Error('NoSuchVersion', { Key: key, VersionId: versionId });
      if (v.deleteMarker) {
        throw new S3Error('MethodNotAllowed', { Method: 'GET', ResourceType: 'DeleteMarker' }, undefined, {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': v.versionId,
          'Last-Modified': new Date(v.lastModified).toUTCString(),
        });
      }
      return v;
    }
    const obj = await objects.getForRead(bucket.id, key);
    if (obj) return obj;
    const latest = bucket.versioning ? await objects.latest(bucket.id, key) : undefined;
    if (latest?.deleteMarker) throw new S3Error('NoSuchKey', { Key: key }, undefined, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': latest.versionId });
    throw new S3Error('NoSuchKey', { Key: key });
  }

  /** One ListObjectVersions page. */
  listVersions(bucket: BucketRow, p: VersionListParams): Promise<VersionPage<ObjectRow>> {
    return this.deps.meta.objects.listVersions(bucket.id, p);
  }

  /** PutObjectRetention (null removes); NoSuchKey / NoSuchVersion when the version is not there. */
  async setRetention(bucket: BucketRow, key: string, versionId: string | undefined, next: { mode: LockMode; until: number } | null, bypassGovernance: boolean): Promise<ObjectRow> {
    requireObjectLock(bucket);
    if (next && next.until <= Date.now()) throw new S3Error('InvalidArgument', {}, 'The retain until date must be in the future!');
    return (await this.deps.meta.objects.setRetention(bucket.id, key, versionId, next, bypassGovernance)) ?? missing(key, versionId);
  }

  async setLegalHold(bucket: BucketRow, key: string, versionId: string | undefined, on: boolean): Promise<ObjectRow> {
    requireObjectLock(bucket);
    return (await this.deps.meta.objects.setLegalHold(bucket.id, key, versionId, on)) ?? missing(key, versionId);
  }

  /** The owner and ACL of the version a request names, for authorization; undefined when there is none. */
  async aclTarget(bucket: BucketRow, key: string, versionId: string | undefined): Promise<AclColumns | undefined> {
    const objects = this.deps.meta.objects;
    const row = versionId === undefined ? await objects.getForRead(bucket.id, key) : await objects.getVersion(bucket.id, key, versionId);
    return row && !row.deleteMarker ? { ownerId: row.ownerId, acl: row.acl } : undefined;
  }

  /** PutObjectAcl: NoSuchKey / NoSuchVersion when the version is not there. */
  async setAcl(bucket: BucketRow, key: string, versionId: string | undefined, acl: string | null): Promise<ObjectRow> {
    return (await this.deps.meta.objects.setAcl(bucket.id, key, versionId, acl)) ?? missing(key, versionId);
  }

  /** A version's lock state (GetObjectRetention, GetObjectLegalHold). */
  async lockState(bucket: BucketRow, key: string, versionId: string | undefined): Promise<ObjectRow> {
    requireObjectLock(bucket);
    return this.headObject(bucket, key, versionId);
  }

  /** One ListObjects page (S3's rules: src/s3/list-params.ts). */
  list(bucket: BucketRow, p: ListParams): Promise<ListPage> {
    return this.deps.meta.objects.listPage(bucket.id, p);
  }

  /** Part `n` of a multipart object's layout (GET ?partNumber=N). */
  part(obj: ObjectRow, n: number): Promise<ObjectPartRow | undefined> {
    return this.deps.meta.objects.part(obj.id, n);
  }

  /** Every part of a multipart object's layout, in part order (GetObjectAttributes). */
  parts(obj: ObjectRow): Promise<ObjectPartRow[]> {
    return this.deps.meta.objects.parts(obj.id);
  }

  /**
   * Streams bytes [start, end] of an object, each chunk verified before it is sent. Call it right
   * after the lookup of `obj`, with no I/O in between: the chunks are pinned here, as soon as their
   * list is read, for the life of the stream, so an overwrite, delete or multipart completion
   * committing meanwhile cannot remove a chunk this read still needs (a GET that started returns
   * the old object whole). Whichever of them dropped the last reference skipped the pinned file;
   * the read removes it when it ends.
   */
  /** The SSE-C key a GET or HEAD brings, checked against the version's (S3's answers: encryption.ts). */
  checkReadKey(obj: ObjectRow, customer: CustomerKey | undefined): void {
    checkCustomerKey(obj, customer);
  }

  async openRead(obj: ObjectRow, start: number, end: number, customer?: CustomerKey): Promise<PieceStream | Buffer> {
    checkCustomerKey(obj, customer);
    const keys = openKeys(this.encryption, obj, customer);
    const rows = obj.size === 0 ? [] : await this.deps.meta.objects.chunksForRead(obj, start, end).catch(changedDuringRead);
    const refs = rows.map((r) => ({ hash: r.chunkHash, size: r.size, storedSize: r.storedSize, crc32c: r.crc32c, offset: r.offset, data: r.data }));
    // An inline object came with its row: verify it here and answer with the bytes, no stream.
    if (refs.length > 0 && refs.every((r) => r.data)) {
      const parts: Buffer[] = [];
      for (const r of refs) parts.push((keys ? openSealed(verifiedInline(r), keys, r.hash) : verifiedInline(r)).subarray(Math.max(start - r.offset, 0), Math.min(end - r.offset + 1, r.size)));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    const { store } = this.deps;
    const hashes = [...new Set(refs.map((r) => r.hash))];
    for (const hash of hashes) store.pin(hash);
    this.activeReads++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.activeReads--;
      for (const hash of hashes) store.unpin(hash);
      // A failure (the store closing under a read that ends late) leaves an orphan for GC, no crash.
      this.removeFreed(hashes).catch((e) => this.deps.onWarn?.('removing chunks a read held failed', e));
    };
    try {
      // A server key this server lacks fails the GET with InternalError (logged) before any byte
      // is sent, not as a cut connection: the first chunk's header names its key. Read once the
      // chunks are pinned, so an overwrite cannot remove the file between the list and the read.
      if (keys?.server && refs.length > 0) keys.server((await store.sealedHeader(refs[0]!)).keyId);
      const stream = readObjectPieces(store, refs, start, end, { pieceSize: readPieceSize(this.activeReads), keys });
      // 'close' follows the end, an error and a destroy (Koa destroys the body when the response ends).
      stream.once('close', release);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }

  async putObject(input: PutObjectInput): Promise<ObjectRow> {
    const bucket = input.bucket;
    const now = Date.now();
    const lock = resolveLock(bucket, input.lock, { hasChecksum: input.contentMd5 !== undefined || input.checksum !== undefined, now });
    await precheckCondition(this.deps.meta, bucket, input.key, input.condition);
    const encryption = resolveWrite(this.encryption, bucket, input.encryption);
    const maxSize = Math.min(MAX_PUT_SIZE, input.sizeRange?.max ?? MAX_PUT_SIZE);
    const received = await receivePayload(this.receiveDeps, input, { maxSize, inlineMax: this.deps.inlineMax, seal: encryption.seal });
    let committed: boolean | 'unknown' = false;
    try {
      const min = input.sizeRange?.min;
      if (min !== undefined && received.size < min) throw new S3Error('EntityTooSmall', { ProposedSize: received.size, MinSizeAllowed: min });
      const a = input.attributes;
      const alg = input.checksum?.algorithm;
      const row: NewObject = {
        size: received.size,
        // SSE-C: not the plaintext's MD5 (encryption.ts customerEtag).
        etag: encryption.columns.encryption === 'SSE-C' ? customerEtag(received.chunks.map((c) => c.hash)) : `"${received.md5.toString('hex')}"`,
        ...encryption.columns,
        ...attributeColumns(a),
        checksumAlgorithm: alg ?? null,
        checksumValue: alg ? received.checksumValues[alg]! : null,
        checksumType: alg ? 'FULL_OBJECT' : null,
        partCount: null,
        lastModified: Date.now(),
        versionId: versionIdFor(bucket),
        ...lock,
        ...input.access,
        tags: input.tags,
      };
      const placements = received.chunks.map((c) => ({ hash: c.hash, size: c.size, storedSize: c.storedSize, crc32c: c.crc32c, offset: c.offset, data: c.data }));
      const opts = { condition: input.condition, bypassGovernance: input.bypassGovernance };
      const { object, freed } = await this.deps.meta.objects.commit(bucket.id, input.key, row, placements, undefined, opts);
      committed = true;
      await this.removeFreed(freed);
      return object;
    } catch (err) {
      if (!committed) committed = commitOutcome(err);
      throw err;
    } finally {
      await settle(this.receiveDeps, received.chunks, committed);
    }
  }

  /**
   * CopyObject: the destination shares the source's chunks (refcounts + 1); no byte is copied.
   * `check` sees the source row inside the store's atomic step (copy-source conditions).
   */
  async copyObject(opts: WriteRequest & {
    src: BucketRow;
    srcKey: string;
    /** The source version (the current one when absent). */
    srcVersionId?: string;
    dst: BucketRow;
    dstKey: string;
    /** Content-MD5 or a checksum came with the request (lock headers need one). */
    hasChecksum?: boolean;
    check: (src: ObjectRow) => void;
    /** New attributes (REPLACE), or undefined to keep the source's (COPY). */
    replace?: ObjectAttributes;
    /** The request's x-amz-storage-class, whatever the directive: S3 stores a copy without one as STANDARD. */
    storageClass?: string;
    /** The destination's encryption as asked (absent: its bucket's default or none). */
    encryption?: WriteEncryption;
    /** The SSE-C source's key (x-amz-copy-source-server-side-encryption-customer-*). */
    sourceKey?: CustomerKey;
  }): Promise<{ object: ObjectRow; source: ObjectRow }> {
    const { src, dst } = opts;
    const resolved = resolveWrite(this.encryption, dst, opts.encryption);
    const before = await this.headObject(src, opts.srcKey, opts.srcVersionId).catch(() => undefined);
    if (before) checkCustomerKey(before, opts.sourceKey);
    if (before && !canShare(before, resolved)) {
      // Another mode: read and write again (copy-rewrite.ts), the source's conditions first.
      opts.check(before);
      const tags = opts.tags ?? (before.tagCount > 0 ? await this.deps.meta.objects.getTags(before.id) : undefined);
      const object = await copyRewrite(this, { ...opts, tags, source: before, dstKey: opts.dstKey });
      return { object, source: before };
    }
    const lock = resolveLock(dst, opts.lock, { hasChecksum: opts.hasChecksum ?? false, now: Date.now() });
    await precheckCondition(this.deps.meta, dst, opts.dstKey, opts.condition);
    const versionId = versionIdFor(dst);
    const srcRef = { bucketId: src.id, key: opts.srcKey, versionId: opts.srcVersionId };
    const writeOpts = { condition: opts.condition, bypassGovernance: opts.bypassGovernance };
    const result = await this.deps.meta.objects.copy(srcRef, { bucketId: dst.id, key: opts.dstKey }, (srcObj) => {
      opts.check(srcObj);
      // Decided on the row read before: a source replaced since by one of another mode is a conflict.
      if (!canShare(srcObj, resolved)) throw new S3Error('ConditionalRequestConflict');
      // Naming a source version, even the current one, makes it a regular copy (a new version on a
      // versioned bucket: how a version is restored); only a self-copy naming none is refused.
      const noVersionNamed = opts.srcVersionId === undefined;
      if (src.id === dst.id && opts.srcKey === opts.dstKey && noVersionNamed && !opts.replace && opts.storageClass === undefined && !opts.encryption) {
        throw new S3Error('InvalidRequest', {}, 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
      }
      // The copy is a new version: the source's identity, version state and lock stay behind.
      // Nor its owner and ACL: the copy is the writer's, with the ACL the request gave (S3's rule).
      const { id: _id, bucketId: _bucketId, key: _key, isCurrent: _c, deleteMarker: _d, lockMode: _m, lockUntil: _u, legalHold: _h, ownerId: _o, acl: _a, ...kept } = srcObj;
      return {
        ...kept,
        lastModified: Date.now(),
        ...(opts.replace ? attributeColumns(opts.replace) : {}),
        storageClass: opts.storageClass ?? 'STANDARD',
        ...resolved.columns,
        versionId,
        ...lock,
        ownerId: opts.access?.ownerId ?? null,
        acl: opts.access?.acl ?? null,
        // None given: the store copies the source version's (directive COPY).
        ...(opts.tags ? { tags: opts.tags } : {}),
      };
    }, writeOpts);
    if (!result) throw opts.srcVersionId === undefined ? new S3Error('NoSuchKey', { Key: opts.srcKey }) : new S3Error('NoSuchVersion', { Key: opts.srcKey, VersionId: opts.srcVersionId });
    await this.removeFreed(result.freed);
    return { object: result.object, source: result.source };
  }

  /**
   * DeleteObject: removes the version named (for good, its chunks freed by refcount), or, without
   * one, the current version under the bucket's versioning (a delete marker where versioning was
   * ever set). A locked version is refused with AccessDenied. `condition` (the lifecycle worker's:
   * the current version is still the one it judged) is checked in the same step.
   */
  async deleteObject(bucket: BucketRow, key: string, opts: { versionId?: string; bypassGovernance?: boolean; condition?: WriteCondition } = {}): Promise<DeleteResult> {
    const markerVersionId = opts.versionId === undefined ? markerVersionIdFor(bucket) : undefined;
    const result = await this.deps.meta.objects.delete(bucket.id, key, { versionId: opts.versionId, markerVersionId, bypassGovernance: opts.bypassGovernance, condition: opts.condition });
    await this.removeFreed(result.freed);
    return result;
  }

  async removeFreed(hashes: string[]): Promise<void> {
    for (const hash of hashes) {
      // The list is as of our commit, and removals take a while (unlink + directory fsync each):
      // meanwhile another request may have stored the same bytes (dedup onto this file), committed
      // and unpinned. So the rows are checked again right before each removal, with only
      // microtasks before removeIfUnpinned's pin check (src/store/metadata-store.ts), as
      // discard() and settle() do.
      if (await this.deps.meta.objects.isChunkReferenced(hash)) continue;
      // A failure here leaves an orphan file, never a broken object: GC can take it later.
      await this.deps.store.removeIfUnpinned(hash).catch((e) => this.deps.onWarn?.(`removing chunk ${hash} failed`, e));
    }
  }
}

function requireObjectLock(bucket: BucketRow): void {
  if (!bucket.objectLock) throw new S3Error('InvalidRequest', {}, 'Bucket is missing Object Lock Configuration');
}

function missing(key: string, versionId: string | undefined): never {
  throw versionId === undefined ? new S3Error('NoSuchKey', { Key: key }) : new S3Error('NoSuchVersion', { Key: key, VersionId: versionId });
}
