import { randomBytes, createHash } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { changedDuringRead } from './read-race.js';
import { encodeTags } from '../s3/tagging.js';
import type { ChecksumAlgorithm } from '../s3/checksums.js';
import { combineCrcs, compositeChecksum, multipartEtag, type ChecksumType } from '../s3/multipart-checksums.js';
import type { CompletePart } from '../s3/multipart-xml.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { AclColumns, BucketRow, ChunkPlacement, CompletedPart, NewObject, ObjectRow, PartRow, TagSet, UploadRow } from '../store/types.js';
import { attributeColumns, type ObjectAttributes, type ObjectService } from './object-service.js';
import { commitOutcome, receivePayload, settle, type PayloadInput } from './receive.js';
import { createHasher } from '../s3/checksums.js';
import { precheckCondition, resolveLock, versionIdFor, type LockRequest } from './versioning.js';
import { defaultRetention } from '../s3/object-lock.js';
import type { WriteRequest } from './object-service.js';
import { readObjectRange } from './chunk-reader.js';
import { checkCustomerKey, customerEtag, openKeys, resolveWrite, sealFor, type CustomerKey, type WriteEncryption } from './encryption.js';

// Multipart orchestration: parts go through the same bounded chunk writer as PutObject and
// become chunk lists; Complete links them into the object in one transaction.

export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MIN_PART_SIZE = 5 * 1024 ** 2;
export const MAX_PART_NUMBER = 10_000;

export interface PartResult {
  etag: string;
  lastModified: Date;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export class MultipartService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly objects: ObjectService,
  ) {}

  private get mp() {
    return this.meta.multipart;
  }

  async create(
    bucket: BucketRow,
    key: string,
    attributes: ObjectAttributes,
    checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType },
    lock?: LockRequest,
    access?: AclColumns,
    encryption?: WriteEncryption,
    /** x-amz-tagging: the completed version's tags. */
    tags?: TagSet,
  ): Promise<string> {
    // The lock asked for is checked now and kept with the upload (no body here to check: the
    // parts carry their own digests); without one, the bucket's default applies at completion.
    const explicit = lock ? resolveLock(bucket, lock, { hasChecksum: true, now: Date.now(), applyDefault: false }) : {};
    // Decided now, for every part: the bucket's default as it is at the start of the upload.
    const { columns } = resolveWrite(this.objects.encryption, bucket, encryption);
    // 32 random bytes, url-safe: unguessable, and safe in a query string unescaped.
    const id = randomBytes(32).toString('base64url');
    await this.mp.create({
      ...explicit,
      ...access,
      id,
      bucketId: bucket.id,
      key,
      initiated: Date.now(),
      ...attributeColumns(attributes),
      checksumAlgorithm: checksum?.algorithm ?? null,
      checksumType: checksum?.type ?? null,
      ...columns,
      tags: encodeTags(tags),
    });
    return id;
  }

  /** The upload, checked against the bucket and key it was created for. */
  async requireUpload(bucket: BucketRow, key: string, uploadId: string): Promise<UploadRow> {
    const upload = await this.mp.get(uploadId);
    if (!upload || upload.bucketId !== bucket.id || upload.key !== key) throw new S3Error('NoSuchUpload', { UploadId: uploadId });
    return upload;
  }

  /** ListParts: up to `limit` parts after `afterPart`. */
  listParts(upload: UploadRow, afterPart: number, limit: number): Promise<PartRow[]> {
    return this.mp.listParts(upload.id, afterPart, limit);
  }

  /** ListMultipartUploads: uploads after (key, uploadId) within prefix, in that order. */
  listUploads(bucket: BucketRow, prefix: string, after: { key: string; uploadId: string } | undefined, limit: number): Promise<UploadRow[]> {
    return this.mp.list(bucket.id, prefix, after, limit);
  }

  async uploadPart(bucket: BucketRow, key: string, uploadId: string, partNumber: number, input: PayloadInput, customer?: CustomerKey): Promise<PartResult & { upload: UploadRow }> {
    const upload = await this.requireUpload(bucket, key, uploadId);
    // An SSE-C upload's parts carry its key (checked against its MD5), other uploads' none.
    checkCustomerKey(upload, customer, 'upload');
    const seal = sealFor(this.objects.encryption, upload, customer);
    const alg = upload.checksumAlgorithm as ChecksumAlgorithm | null;
    if (alg && input.checksum && input.checksum.algorithm !== alg) {
      throw new S3Error('InvalidRequest', {}, `Checksum Type mismatch occurred, expected checksum Type: ${alg.toLowerCase()}, actual checksum Type: ${input.checksum.algorithm.toLowerCase()}`);
    }
    const received = await receivePayload(this.objects.receiveDeps, input, { maxSize: MAX_PART_SIZE, alsoCompute: alg ? [alg] : [], seal });
    const placements = received.chunks.map((c) => ({ hash: c.hash, size: c.size, storedSize: c.storedSize, crc32c: c.crc32c, offset: c.offset }));
    const etag = upload.encryption === 'SSE-C' ? customerEtag(received.chunks.map((c) => c.hash)) : `"${received.md5.toString('hex')}"`;
    const checksumValue = alg ? received.checksumValues[alg]! : null;
    return { ...(await this.commitPart(uploadId, partNumber, { size: received.size, etag, checksumValue }, placements, received.chunks, alg)), upload };
  }

  /**
   * UploadPartCopy where either side is encrypted: the source's bytes are read (decrypted) and
   * written again through the chunk writer under the upload's encryption; nothing is shared.
   */
  private async copyPartSealed(upload: UploadRow, partNumber: number, src: ObjectRow, start: number, end: number, keys: { source?: CustomerKey; upload?: CustomerKey }): Promise<PartResult> {
    const alg = upload.checksumAlgorithm as ChecksumAlgorithm | null;
    const size = src.size === 0 ? 0 : end - start + 1;
    const rows = size === 0 ? [] : await this.meta.objects.chunksForRead(src, start, end).catch(changedDuringRead);
    const store = this.objects.receiveDeps.store;
    for (const r of rows) store.pin(r.chunkHash);
    try {
      const refs = rows.map((r) => ({ hash: r.chunkHash, size: r.size, storedSize: r.storedSize, crc32c: r.crc32c, offset: r.offset, data: r.data }));
      const body = readObjectRange(store, refs, start, end, { keys: openKeys(this.objects.encryption, src, keys.source) });
      const received = await receivePayload(this.objects.receiveDeps, { body, size }, { maxSize: MAX_PART_SIZE, alsoCompute: alg ? [alg] : [], seal: sealFor(this.objects.encryption, upload, keys.upload) });
      const placements = received.chunks.map((c) => ({ hash: c.hash, size: c.size, storedSize: c.storedSize, crc32c: c.crc32c, offset: c.offset }));
      const etag = upload.encryption === 'SSE-C' ? customerEtag(received.chunks.map((c) => c.hash)) : `"${received.md5.toString('hex')}"`;
      const checksumValue = alg ? received.checksumValues[alg]! : null;
      return await this.commitPart(upload.id, partNumber, { size: received.size, etag, checksumValue }, placements, received.chunks, alg);
    } finally {
      for (const r of rows) store.unpin(r.chunkHash);
      this.objects.removeFreed([...new Set(rows.map((r) => r.chunkHash))]).catch((e) => this.objects.receiveDeps.onWarn?.('removing chunks a copy held failed', e));
    }
  }

  /**
   * UploadPartCopy: whole source chunks inside the range are shared; only the edge chunks
   * cut by the range are re-written. The bytes are still read once, for the part's MD5.
   */
  async uploadPartCopy(
    bucket: BucketRow,
    key: string,
    uploadId: string,
    partNumber: number,
    src: ObjectRow,
    range: { start: number; end: number } | undefined,
    keys: { source?: CustomerKey; upload?: CustomerKey } = {},
  ): Promise<PartResult & { upload: UploadRow }> {
    const upload = await this.requireUpload(bucket, key, uploadId);
    checkCustomerKey(upload, keys.upload, 'upload');
    checkCustomerKey(src, keys.source);
    const alg = upload.checksumAlgorithm as ChecksumAlgorithm | null;
    const start = range?.start ?? 0;
    const end = range?.end ?? src.size - 1;
    const size = src.size === 0 ? 0 : end - start + 1;
    if (size > MAX_PART_SIZE) throw new S3Error('EntityTooLarge', { ProposedSize: size, MaxSizeAllowed: MAX_PART_SIZE });
    if (src.encryption || upload.encryption) return { ...(await this.copyPartSealed(upload, partNumber, src, start, end, keys)), upload };
    const store = this.objects.receiveDeps.store;
    const rows = size === 0 ? [] : await this.meta.objects.chunksForRead(src, start, end).catch(changedDuringRead);
    const held: Array<{ hash: string; size: number; crc32c: number; offset: number; created: boolean }> = [];
    // Pin shared chunks first: the source may be deleted while we read.
    for (const r of rows) {
      store.pin(r.chunkHash);
      held.push({ hash: r.chunkHash, size: r.size, crc32c: r.crc32c, offset: r.offset - start, created: false });
    }
    let committed: boolean | 'unknown' = false;
    try {
      const md5 = createHash('md5');
      const hasher = alg ? createHasher(alg) : undefined;
      if (size > 0) {
        for await (const piece of readObjectRange(store, rows.map((r) => ({ hash: r.chunkHash, size: r.size, crc32c: r.crc32c, offset: r.offset, data: r.data })), start, end)) {
          md5.update(piece as Buffer);
          hasher?.update(piece as Buffer);
        }
      }
      const placements: ChunkPlacement[] = [];
      for (const r of rows) {
        const cs = Math.max(start, r.offset);
        const ce = Math.min(end + 1, r.offset + r.size);
        if (cs === r.offset && ce === r.offset + r.size) {
          placements.push({ hash: r.chunkHash, size: r.size, crc32c: r.crc32c, offset: r.offset - start });
        } else {
          const whole = await store.read({ hash: r.chunkHash, size: r.size, crc32c: r.crc32c, data: r.data });
          const put = await store.put(whole.subarray(cs - r.offset, ce - r.offset));
          held.push({ ...put, offset: cs - start });
          placements.push({ hash: put.hash, size: put.size, crc32c: put.crc32c, offset: cs - start });
        }
      }
      const etag = `"${md5.digest('hex')}"`;
      const checksumValue = hasher ? hasher.digest().toString('base64') : null;
      const result = await this.commitPart(uploadId, partNumber, { size, etag, checksumValue }, placements, [], alg);
      committed = true;
      return { ...result, upload };
    } catch (err) {
      if (!committed) committed = commitOutcome(err);
      throw err;
    } finally {
      await settle(this.objects.receiveDeps, held, committed);
    }
  }

  private async commitPart(
    uploadId: string,
    partNumber: number,
    part: { size: number; etag: string; checksumValue: string | null },
    placements: ChunkPlacement[],
    pinned: Parameters<typeof settle>[1],
    alg: ChecksumAlgorithm | null,
  ): Promise<PartResult> {
    let committed: boolean | 'unknown' = false;
    try {
      const lastModified = Date.now();
      const res = await this.mp.commitPart(uploadId, { partNumber, lastModified, ...part }, placements);
      // Aborted or completed while the part was being written.
      if (!res) throw new S3Error('NoSuchUpload', { UploadId: uploadId });
      committed = true;
      await this.objects.removeFreed(res.freed);
      return {
        etag: part.etag,
        lastModified: new Date(lastModified),
        checksum: alg && part.checksumValue ? { algorithm: alg, value: part.checksumValue } : undefined,
      };
    } catch (err) {
      if (!committed) committed = commitOutcome(err);
      throw err;
    } finally {
      if (pinned.length > 0) await settle(this.objects.receiveDeps, pinned, committed);
    }
  }

  /**
   * CompleteMultipartUpload. A retry of an upload that already completed into the current
   * object answers like the first call did.
   */
  async complete(
    bucket: BucketRow,
    key: string,
    uploadId: string,
    listed: CompletePart[],
    expected?: ExpectedChecksum,
    write: WriteRequest = {},
    customer?: CustomerKey,
  ): Promise<ObjectRow> {
    const upload = await this.mp.get(uploadId);
    if (!upload) {
      const done = await this.mp.getCompleted(uploadId);
      const made = done && done.bucketId === bucket.id && done.key === key ? await this.meta.objects.getVersion(bucket.id, key, done.versionId) : undefined;
      if (made && !made.deleteMarker && made.etag === done!.etag) return made;
      throw new S3Error('NoSuchUpload', { UploadId: uploadId });
    }
    const pending = await this.requireUpload(bucket, key, uploadId);
    // S3 needs no key to complete an SSE-C upload; one that is given must be the upload's.
    if (customer) checkCustomerKey(pending, customer, 'upload');
    await precheckCondition(this.meta, bucket, key, write.condition);
    const versionId = versionIdFor(bucket);
    const opts = { condition: write.condition, bypassGovernance: write.bypassGovernance };
    const result = await this.mp.complete(uploadId, (u, parts) => {
      const decided = decideCompletion(u, parts, listed, expected);
      const lock = u.lockMode ? { lockMode: u.lockMode, lockUntil: u.lockUntil } : bucket.objectLock ? defaultRetention(bucket, Date.now()) : undefined;
      return { ...decided, row: { ...decided.row, versionId, ...lock, legalHold: u.legalHold, ownerId: u.ownerId, acl: u.acl, encryption: u.encryption, sseCustomerKeyMd5: u.sseCustomerKeyMd5 } };
    }, opts);
    if (!result) throw new S3Error('NoSuchUpload', { UploadId: uploadId });
    await this.objects.removeFreed(result.freed);
    return result.object;
  }

  async abort(bucket: BucketRow, key: string, uploadId: string): Promise<void> {
    await this.requireUpload(bucket, key, uploadId);
    const res = await this.mp.abort(uploadId);
    if (!res) throw new S3Error('NoSuchUpload', { UploadId: uploadId });
    await this.objects.removeFreed(res.freed);
  }

  /** Removes uploads initiated more than maxAgeMs ago; returns how many. */
  async expire(maxAgeMs: number): Promise<number> {
    const before = Date.now() - maxAgeMs;
    let n = 0;
    for (;;) {
      const ids = await this.mp.expired(before, 100);
      for (const id of ids) {
        const res = await this.mp.abort(id);
        if (res) {
          n++;
          await this.objects.removeFreed(res.freed);
        }
      }
      if (ids.length < 100) break;
    }
    await this.mp.pruneCompleted(before);
    return n;
  }
}

/**
 * CompleteMultipartUpload's x-amz-checksum-<alg> (the whole object's, "<base64>-<N>" for a
 * COMPOSITE upload) and x-amz-checksum-type, from the handler.
 */
export interface ExpectedChecksum {
  algorithm?: ChecksumAlgorithm;
  value?: string;
  type?: string;
}

/**
 * The whole object's checksum a Complete request states, against the one the parts make. Another
 * algorithm than the upload's is InvalidRequest; another type or value is BadDigest ("If the
 * checksum type doesn't match the checksum type that was specified for the object during the
 * CreateMultipartUpload request, it'll result in a BadDigest error": AWS's API reference).
 */
function checkExpected(expected: ExpectedChecksum, alg: ChecksumAlgorithm | null, type: ChecksumType | null, computed: string | null): void {
  if (expected.type !== undefined && expected.type.trim().toUpperCase() !== (type ?? '')) {
    throw new S3Error('BadDigest', {}, `The upload was created using the ${type ?? 'no'} checksum type; the request specified ${expected.type}.`);
  }
  if (expected.algorithm === undefined || expected.value === undefined) return;
  if (!alg || expected.algorithm !== alg) {
    throw new S3Error('InvalidRequest', {}, `The upload was created using ${alg ? `a ${alg.toLowerCase()}` : 'no'} checksum algorithm; the request specified ${expected.algorithm.toLowerCase()}.`);
  }
  // A COMPOSITE value may come with or without its part count; when given, the count must match.
  const matches = type === 'COMPOSITE' && computed !== null && !/-\d+$/.test(expected.value) ? computed.replace(/-\d+$/, '') === expected.value : computed === expected.value;
  if (!matches) throw new S3Error('BadDigest', {}, `The ${alg} you specified did not match the calculated checksum.`);
}

/** Validates a Complete request against the stored parts and builds the object row. */
function decideCompletion(
  upload: UploadRow,
  parts: PartRow[],
  listed: CompletePart[],
  expected?: ExpectedChecksum,
): { row: NewObject; used: CompletedPart[] } {
  const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
  const alg = upload.checksumAlgorithm as ChecksumAlgorithm | null;
  const used: CompletedPart[] = [];
  let offset = 0;
  let prev = 0;
  // The list's shape is judged first, then each part against what was uploaded.
  for (const l of listed) {
    if (l.partNumber < 1 || l.partNumber > MAX_PART_NUMBER) throw new S3Error('InvalidArgument', { ArgumentName: 'PartNumber', ArgumentValue: l.partNumber }, 'Part number must be an integer between 1 and 10000, inclusive');
    if (l.partNumber <= prev) throw new S3Error('InvalidPartOrder', { UploadId: upload.id });
    prev = l.partNumber;
  }
  for (const [i, l] of listed.entries()) {
    const stored = byNumber.get(l.partNumber);
    if (!stored || stored.etag.replace(/"/g, '') !== l.etag.toLowerCase()) {
      throw new S3Error('InvalidPart', { UploadId: upload.id, PartNumber: l.partNumber, ETag: l.etag });
    }
    if (alg && l.checksums[alg] !== undefined && l.checksums[alg] !== stored.checksumValue) {
      throw new S3Error('InvalidPart', { UploadId: upload.id, PartNumber: l.partNumber }, `The ${alg.toLowerCase()} checksum of part ${l.partNumber} does not match the uploaded part.`);
    }
    if (i < listed.length - 1 && stored.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', { ProposedSize: stored.size, MinSizeAllowed: MIN_PART_SIZE, PartNumber: l.partNumber, ETag: l.etag });
    }
    used.push({ partNumber: l.partNumber, size: stored.size, offset, checksumValue: stored.checksumValue });
    offset += stored.size;
  }
  let checksumValue: string | null = null;
  const type = upload.checksumType as ChecksumType | null;
  if (alg && used.every((p) => p.checksumValue)) {
    const values = used.map((p) => p.checksumValue!);
    checksumValue =
      type === 'FULL_OBJECT'
        ? combineCrcs(alg as 'CRC32' | 'CRC32C' | 'CRC64NVME', used.map((p) => ({ checksumBase64: p.checksumValue!, size: p.size })))
        : compositeChecksum(alg, values);
  }
  if (expected) checkExpected(expected, alg, type, checksumValue);
  const row: NewObject = {
    size: offset,
    etag: multipartEtag(used.map((p) => byNumber.get(p.partNumber)!.etag)),
    contentType: upload.contentType,
    contentEncoding: upload.contentEncoding,
    contentDisposition: upload.contentDisposition,
    contentLanguage: upload.contentLanguage,
    cacheControl: upload.cacheControl,
    expires: upload.expires,
    storageClass: upload.storageClass,
    userMetadata: upload.userMetadata,
    checksumAlgorithm: checksumValue ? alg : null,
    checksumValue,
    checksumType: checksumValue ? type : null,
    partCount: used.length,
    lastModified: Date.now(),
    versionId: 'null',
  };
  return { row, used };
}
