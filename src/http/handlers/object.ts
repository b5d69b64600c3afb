import type { AppDeps, ObjectHandler, ObjectTarget, S3Context } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateKey } from '../../s3/names.js';
import { parseRange } from '../../s3/range.js';
import { checkConditions } from '../../s3/conditional.js';
import { checksumHeader, type ChecksumAlgorithm } from '../../s3/checksums.js';
import type { ObjectRow } from '../../store/types.js';
import type { CustomerKey } from '../../storage/encryption.js';
import { requestPayload } from '../body.js';
import { attributesFromRequest, writeObjectHeaders } from '../attributes.js';
import { bypassFrom, setLockHeaders, setVersionHeader, writeRequest } from '../versioning.js';
import { versionIdParam } from '../../s3/version-id.js';
import { newObjectAccess } from '../acl-headers.js';
import { requestTags } from './tagging.js';
import { customerKey, headerRecord, isSecure, setEncryptionHeaders, writeEncryption } from '../encryption.js';
import { setExpirationHeader } from '../expiration.js';

/** PutObject (PUT /bucket/key). */
export const putObject: ObjectHandler = async (ctx, deps, t) => {
  const key = t.key;
  validateKey(key);
  const bucket = await deps.buckets.require(t.bucket);
  const payload = requestPayload(ctx, { requireLength: true });
  const attributes = attributesFromRequest(ctx, payload.contentEncoding);
  const write = { ...writeRequest(ctx), access: await newObjectAccess(ctx, deps, bucket), tags: requestTags(ctx) };
  const encryption = writeEncryption(headerRecord(ctx), isSecure(ctx));
  const abort = new AbortController();
  // A client that disconnects mid-upload must release its buffers and leave nothing behind.
  const onClose = () => {
    if (!ctx.req.complete) abort.abort(new S3Error('IncompleteBody'));
  };
  ctx.req.once('close', onClose);
  try {
    const obj = await deps.objects.putObject({
      bucket,
      key,
      body: payload.stream,
      size: payload.size,
      attributes,
      contentMd5: payload.contentMd5,
      checksum: payload.checksum,
      payloadSha256: payload.payloadSha256,
      signal: abort.signal,
      encryption,
      ...write,
    });
    ctx.set('ETag', obj.etag);
    setEncryptionHeaders(ctx, obj);
    setVersionHeader(ctx, bucket, obj.versionId);
    setChecksumHeaders(ctx, obj);
    if (bucket.lifecycle !== null) await setExpirationHeader(ctx, deps, bucket, obj);
    ctx.status = 200;
  } finally {
    ctx.req.off('close', onClose);
  }
};

function conditionsFrom(ctx: S3Context) {
  return {
    ifMatch: header(ctx, 'if-match'),
    ifNoneMatch: header(ctx, 'if-none-match'),
    ifModifiedSince: header(ctx, 'if-modified-since'),
    ifUnmodifiedSince: header(ctx, 'if-unmodified-since'),
  };
}

function setChecksumHeaders(ctx: S3Context, obj: Pick<ObjectRow, 'checksumAlgorithm' | 'checksumValue' | 'checksumType'>): void {
  if (!obj.checksumAlgorithm || !obj.checksumValue) return;
  ctx.set(checksumHeader(obj.checksumAlgorithm as ChecksumAlgorithm), obj.checksumValue);
  if (obj.checksumType) ctx.set('x-amz-checksum-type', obj.checksumType);
}

/** Resolves the object and the byte range a GET/HEAD answers, applying S3's precedence. */
async function prepareRead(ctx: S3Context, deps: AppDeps, t: ObjectTarget): Promise<{ obj: ObjectRow; range?: { start: number; end: number }; customer?: CustomerKey }> {
  const bucket = await deps.buckets.require(t.bucket);
  const customer = customerKey(headerRecord(ctx), isSecure(ctx));
  const obj = await deps.objects.headObject(bucket, t.key, versionIdParam(ctx.state.query));
  // An SSE-C object answers nothing, not even its headers, without its key.
  deps.objects.checkReadKey(obj, customer);
  try {
    checkConditions(conditionsFrom(ctx), { etag: obj.etag, lastModified: new Date(obj.lastModified) }, 'read');
  } catch (err) {
    // A 304 still names the representation it refers to.
    if (err instanceof S3Error && err.code === 'NotModified') {
      throw new S3Error('NotModified', {}, undefined, { ETag: obj.etag, 'Last-Modified': new Date(obj.lastModified).toUTCString() });
    }
    throw err;
  }
  const part = ctx.state.query.has('partNumber') ? await partRange(ctx, deps, obj) : undefined;
  const range = part ? part.range : parseRange(header(ctx, 'range'), obj.size);
  writeObjectHeaders(ctx, obj);
  setEncryptionHeaders(ctx, obj);
  setVersionHeader(ctx, bucket, obj.versionId);
  setLockHeaders(ctx, bucket, obj);
  // No await at all on a bucket without lifecycle rules (the hot path).
  if (bucket.lifecycle !== null) await setExpirationHeader(ctx, deps, bucket, obj);
  if (obj.partCount) ctx.set('x-amz-mp-parts-count', String(obj.partCount));
  if (obj.tagCount > 0) ctx.set('x-amz-tagging-count', String(obj.tagCount));
  // Clients verify any checksum they get, even on a 206: only a whole-object answer has one.
  if (header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    if (part?.checksum) setChecksumHeaders(ctx, part.checksum);
    else if (!range) setChecksumHeaders(ctx, obj);
  }
  if (range) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${obj.size}`);
  } else {
    ctx.status = 200;
  }
  return { obj, range, customer };
}

/**
 * GET/HEAD ?partNumber=N: the bytes of part N of a multipart object (a plain object has one), and
 * the checksum of that part where S3 answers one: a COMPOSITE object's part checksum, or a
 * FULL_OBJECT object's when its one part is the whole object (S3 sends none for the part of a
 * FULL_OBJECT object of several parts: its CRC is of the whole).
 */
async function partRange(ctx: S3Context, deps: AppDeps, obj: ObjectRow): Promise<{ range?: { start: number; end: number }; checksum?: Pick<ObjectRow, 'checksumAlgorithm' | 'checksumValue' | 'checksumType'> }> {
  if (header(ctx, 'range') !== undefined) throw new S3Error('InvalidRequest', {}, 'Cannot specify both Range header and partNumber query parameter');
  const raw = ctx.state.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 10_000)) throw new S3Error('InvalidArgument', { ArgumentName: 'partNumber', ArgumentValue: raw }, 'Part number must be an integer between 1 and 10000, inclusive');
  if (!obj.partCount) {
    if (n !== 1) throw new S3Error('InvalidPartNumber', { PartNumberRequested: n, ActualPartCount: 1 });
    return {};
  }
  const part = await deps.objects.part(obj, n);
  if (!part) throw new S3Error('InvalidPartNumber', { PartNumberRequested: n, ActualPartCount: obj.partCount });
  const own = obj.checksumType === 'COMPOSITE' || (obj.checksumType === 'FULL_OBJECT' && obj.partCount === 1);
  const checksum = own && obj.checksumAlgorithm && part.checksumValue ? { checksumAlgorithm: obj.checksumAlgorithm, checksumValue: part.checksumValue, checksumType: obj.checksumType } : undefined;
  if (part.size === 0) return { checksum };
  return { range: { start: part.offset, end: part.offset + part.size - 1 }, checksum };
}

/** GetObject (GET /bucket/key), with Range, conditions and response-* overrides. */
export const getObject: ObjectHandler = async (ctx, deps, t) => {
  const { obj, range, customer } = await prepareRead(ctx, deps, t);
  const start = range?.start ?? 0;
  const end = range?.end ?? obj.size - 1;
  const length = obj.size === 0 ? 0 : end - start + 1;
  if (length === 0) {
    ctx.body = Buffer.alloc(0);
    ctx.status = 200;
    return;
  }
  // Small inline objects come back as bytes (already verified); the rest as a stream.
  const body = await deps.objects.openRead(obj, start, end, customer);
  if (!Buffer.isBuffer(body)) {
    body.on('error', (err) => {
      // A chunk failed verification before its last piece left: cut the connection so the
      // client sees a short response, never a clean end.
      deps.log.error({ err, reqId: ctx.state.requestId, bucket: ctx.state.bucket, key: ctx.state.key }, 'read aborted');
      ctx.req.socket.destroy();
    });
  }
  const status = ctx.status;
  ctx.body = body;
  ctx.status = status;
  ctx.length = length;
};

/** HeadObject (HEAD /bucket/key). */
export const headObject: ObjectHandler = async (ctx, deps, t) => {
  const { obj, range } = await prepareRead(ctx, deps, t);
  const length = range ? range.end - range.start + 1 : obj.size;
  ctx.set('Content-Length', String(length));
};

/**
 * DeleteObject (DELETE /bucket/key[?versionId]): 204 whether or not the key existed. Names the
 * version removed or the delete marker added.
 */
export const deleteObject: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const versionId = versionIdParam(ctx.state.query);
  const result = await deps.objects.deleteObject(bucket, t.key, { versionId, bypassGovernance: bypassFrom(ctx) });
  if (result.versionId !== undefined && (bucket.versioning || versionId !== undefined)) ctx.set('x-amz-version-id', result.versionId);
  if (result.deleteMarker) ctx.set('x-amz-delete-marker', 'true');
  ctx.status = 204;
};
