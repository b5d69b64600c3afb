import type { Readable } from 'node:stream';
import { S3Error } from '../s3/errors.js';
import type { ChecksumAlgorithm } from '../s3/checksums.js';
import type { BucketRow, NewObject, ObjectRow, Repository } from '../db/repository.js';
import type { BufferPool } from './pool.js';
import type { ChunkStore } from './chunk-store.js';
import { writeChunks } from './chunk-writer.js';
import { readObjectRange } from './chunk-reader.js';

// Orchestrates object writes, reads, copies and deletes over the chunk store and the
// repository. It knows S3's rules (ETags, digests, limits) but nothing of HTTP.

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

export interface PutObjectInput {
  bucket: string;
  key: string;
  body: Readable | AsyncIterable<Buffer>;
  /** Declared payload length (Content-Length or x-amz-decoded-content-length), when known. */
  size?: number;
  attributes: ObjectAttributes;
  /** Content-MD5 header, already decoded to 16 bytes. */
  contentMd5?: Buffer;
  /** Requested checksum; `expected` is read after the body ends, so a trailer value works. */
  checksum?: { algorithm: ChecksumAlgorithm; expected: () => string | undefined };
  /** Hex SHA-256 from a signed x-amz-content-sha256: verified once the body is read. */
  payloadSha256?: string;
  signal?: AbortSignal;
}

export interface ObjectServiceDeps {
  repo: Repository;
  store: ChunkStore;
  pool: BufferPool;
  maxBuffersPerRequest: number;
  onWarn?: (msg: string, err?: unknown) => void;
}

export class ObjectService {
  constructor(private readonly deps: ObjectServiceDeps) {}

  requireBucket(name: string): BucketRow {
    const bucket = this.deps.repo.getBucket(name);
    if (!bucket) throw new S3Error('NoSuchBucket', { BucketName: name });
    return bucket;
  }

  headObject(bucket: BucketRow, key: string): ObjectRow {
    const obj = this.deps.repo.getObject(bucket.id, key);
    if (!obj) throw new S3Error('NoSuchKey', { Key: key });
    return obj;
  }

  /** Streams bytes [start, end] of an object, each chunk verified before it is sent. */
  openRead(obj: ObjectRow, start: number, end: number): Readable {
    const rows = obj.size === 0 ? [] : this.deps.repo.chunksForRange(obj.id, start, end);
    const refs = rows.map((r) => ({ hash: r.chunkHash, size: r.size, crc32c: r.crc32c, offset: r.offset }));
    return readObjectRange(this.deps.store, refs, start, end);
  }

  async putObject(input: PutObjectInput): Promise<ObjectRow> {
    const bucket = this.requireBucket(input.bucket);
    if (input.size !== undefined && input.size > MAX_PUT_SIZE) throw new S3Error('EntityTooLarge', { ProposedSize: input.size, MaxSizeAllowed: MAX_PUT_SIZE });
    const algorithms: ChecksumAlgorithm[] = [];
    if (input.checksum) algorithms.push(input.checksum.algorithm);
    if (input.payloadSha256 && !algorithms.includes('SHA256')) algorithms.push('SHA256');

    const { repo, store, pool } = this.deps;
    const written = await writeChunks(input.body, {
      pool,
      store,
      maxBuffers: this.deps.maxBuffersPerRequest,
      checksums: algorithms,
      expectedSize: input.size,
      maxSize: MAX_PUT_SIZE,
      signal: input.signal,
      isReferenced: (hash) => repo.isChunkReferenced(hash),
    });
    const pinned = written.chunks;
    try {
      if (input.payloadSha256 && written.checksums.SHA256!.toString('hex') !== input.payloadSha256.toLowerCase()) {
        throw new S3Error('XAmzContentSHA256Mismatch', {
          ClientComputedContentSHA256: input.payloadSha256,
          S3ComputedContentSHA256: written.checksums.SHA256!.toString('hex'),
        });
      }
      if (input.contentMd5 && !input.contentMd5.equals(written.md5)) {
        throw new S3Error('BadDigest', { ExpectedDigest: input.contentMd5.toString('base64') });
      }
      let checksumValue: string | undefined;
      if (input.checksum) {
        checksumValue = written.checksums[input.checksum.algorithm]!.toString('base64');
        const expected = input.checksum.expected();
        if (expected !== undefined && expected !== checksumValue) {
          throw new S3Error('BadDigest', {}, `The ${input.checksum.algorithm} you specified did not match the calculated checksum.`);
        }
      }
      const a = input.attributes;
      const row: NewObject = {
        size: written.size,
        etag: `"${written.md5.toString('hex')}"`,
        contentType: a.contentType ?? null,
        contentEncoding: a.contentEncoding ?? null,
        contentDisposition: a.contentDisposition ?? null,
        contentLanguage: a.contentLanguage ?? null,
        cacheControl: a.cacheControl ?? null,
        expires: a.expires ?? null,
        storageClass: a.storageClass ?? 'STANDARD',
        userMetadata: JSON.stringify(a.userMetadata),
        checksumAlgorithm: input.checksum?.algorithm ?? null,
        checksumValue: checksumValue ?? null,
        checksumType: input.checksum ? 'FULL_OBJECT' : null,
        partCount: null,
        lastModified: Date.now(),
      };
      const placements = pinned.map((c) => ({ hash: c.hash, size: c.size, crc32c: c.crc32c, offset: c.offset }));
      const { object, freed } = repo.commitObject(bucket.id, input.key, row, placements);
      this.unpinAll(pinned);
      await this.removeFreed(freed);
      return object;
    } catch (err) {
      this.unpinAll(pinned);
      await store.discard(pinned, (hash) => repo.isChunkReferenced(hash)).catch((e) => this.deps.onWarn?.('discarding chunks failed', e));
      throw err;
    }
  }

  /**
   * CopyObject: the destination shares the source's chunks (refcounts + 1); no byte is copied.
   * `check` sees the source row inside the transaction (copy-source conditions).
   */
  async copyObject(opts: {
    srcBucket: string;
    srcKey: string;
    dstBucket: string;
    dstKey: string;
    check: (src: ObjectRow) => void;
    /** New attributes (REPLACE), or undefined to keep the source's (COPY). */
    replace?: ObjectAttributes;
  }): Promise<ObjectRow> {
    const src = this.requireBucket(opts.srcBucket);
    const dst = this.requireBucket(opts.dstBucket);
    const { repo } = this.deps;
    const result = repo.db.transaction(() => {
      const srcObj = repo.getObject(src.id, opts.srcKey);
      if (!srcObj) throw new S3Error('NoSuchKey', { Key: opts.srcKey });
      opts.check(srcObj);
      if (src.id === dst.id && opts.srcKey === opts.dstKey && !opts.replace) {
        throw new S3Error('InvalidRequest', {}, 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
      }
      const list = repo.chunkList(srcObj.id);
      const refs = new Map(list.map((c) => [c.chunkHash, c]));
      const crcs = repo.chunkCrcs([...refs.keys()]);
      const a = opts.replace;
      const row: NewObject = {
        ...srcObj,
        lastModified: Date.now(),
        ...(a
          ? {
              contentType: a.contentType ?? null,
              contentEncoding: a.contentEncoding ?? null,
              contentDisposition: a.contentDisposition ?? null,
              contentLanguage: a.contentLanguage ?? null,
              cacheControl: a.cacheControl ?? null,
              expires: a.expires ?? null,
              storageClass: a.storageClass ?? srcObj.storageClass,
              userMetadata: JSON.stringify(a.userMetadata),
            }
          : {}),
      };
      delete (row as Partial<ObjectRow>).id;
      delete (row as Partial<ObjectRow>).bucketId;
      delete (row as Partial<ObjectRow>).key;
      const placements = list.map((c) => ({ hash: c.chunkHash, size: c.size, offset: c.offset, crc32c: crcs.get(c.chunkHash)! }));
      return repo.commitObject(dst.id, opts.dstKey, row, placements);
    });
    await this.removeFreed(result.freed);
    return result.object;
  }

  async deleteObject(bucket: BucketRow, key: string): Promise<boolean> {
    const { deleted, freed } = this.deps.repo.deleteObject(bucket.id, key);
    await this.removeFreed(freed);
    return deleted;
  }

  private unpinAll(chunks: Array<{ hash: string }>): void {
    for (const c of chunks) this.deps.store.unpin(c.hash);
  }

  private async removeFreed(hashes: string[]): Promise<void> {
    for (const hash of hashes) {
      // A failure here leaves an orphan file, never a broken object: GC can take it later.
      await this.deps.store.removeIfUnpinned(hash).catch((e) => this.deps.onWarn?.(`removing chunk ${hash} failed`, e));
    }
  }
}

