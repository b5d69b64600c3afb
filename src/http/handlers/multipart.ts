import { checkCustomerKey } from '../../storage/encryption.js';
import { copySourceKey, customerKey, headerRecord, isSecure, setEncryptionHeaders, writeEncryption } from '../encryption.js';
import type { TLSSocket } from 'node:tls';
import type { AppDeps, BucketHandler, ObjectHandler, S3Context } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateKey } from '../../s3/names.js';
import { parseCopySource } from '../../s3/endpoint.js';
import { isVersionId } from '../../s3/version-id.js';
import { lockRequest, setVersionHeader, writeRequest } from '../versioning.js';
import { authorizeCopySource } from '../../auth/access.js';
import { accessRequest } from '../access-request.js';
import { newObjectAccess } from '../acl-headers.js';
import { checkConditions } from '../../s3/conditional.js';
import { checksumFromHeaders, checksumHeader, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../s3/checksums.js';
import { resolveChecksumType } from '../../s3/multipart-checksums.js';
import type { BucketRow, UploadRow } from '../../store/types.js';
import {
  completeMultipartUploadXml,
  copyPartResultXml,
  initiateMultipartUploadXml,
  listMultipartUploadsXml,
  listPartsXml,
  parseCompleteMultipartUpload,
} from '../../s3/multipart-xml.js';
import { MAX_PART_NUMBER } from '../../storage/multipart-service.js';
import { readSmallBody, requestPayload } from '../body.js';
import { requestTags } from './tagging.js';
import { attributesFromRequest } from '../attributes.js';

function partNumberParam(ctx: S3Context): number {
  const raw = ctx.state.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'partNumber', ArgumentValue: raw }, 'Part number must be an integer between 1 and 10000, inclusive');
  }
  return n;
}

function uploadIdParam(ctx: S3Context): string {
  return ctx.state.query.get('uploadId') ?? '';
}

function setPartChecksum(ctx: S3Context, checksum?: { algorithm: ChecksumAlgorithm; value: string }): void {
  // lib-storage copies this header from the UploadPart response into Complete.
  if (checksum) ctx.set(checksumHeader(checksum.algorithm), checksum.value);
}

/** CreateMultipartUpload (POST /bucket/key?uploads). */
export const createMultipartUpload: ObjectHandler = async (ctx, deps, t) => {
  const key = t.key;
  validateKey(key);
  const bucket = await deps.buckets.require(t.bucket);
  const algorithm = parseChecksumAlgorithm(header(ctx, 'x-amz-checksum-algorithm'));
  const typeHeader = header(ctx, 'x-amz-checksum-type');
  if (!algorithm && typeHeader) throw new S3Error('InvalidRequest', {}, 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
  const checksum = algorithm ? { algorithm, type: resolveChecksumType(algorithm, typeHeader) } : undefined;
  const attributes = attributesFromRequest(ctx, header(ctx, 'content-encoding'));
  const encryption = writeEncryption(headerRecord(ctx), isSecure(ctx));
  const tags = requestTags(ctx);
  const uploadId = await deps.multipart.create(bucket, key, attributes, checksum, lockRequest(ctx), await newObjectAccess(ctx, deps, bucket), encryption, tags);
  // What the upload got (the bucket's default may have decided it).
  setEncryptionHeaders(ctx, await deps.multipart.requireUpload(bucket, key, uploadId));
  if (checksum) {
    ctx.set('x-amz-checksum-algorithm', checksum.algorithm);
    ctx.set('x-amz-checksum-type', checksum.type);
  }
  ctx.type = 'application/xml';
  ctx.body = initiateMultipartUploadXml(bucket.name, key, uploadId);
};

/** UploadPart (PUT /bucket/key?partNumber=N&uploadId=U). */
export const uploadPart: ObjectHandler = async (ctx, deps, t) => {
  const partNumber = partNumberParam(ctx);
  const bucket = await deps.buckets.require(t.bucket);
  const payload = requestPayload(ctx, { requireLength: true });
  const customer = customerKey(headerRecord(ctx), isSecure(ctx));
  const abort = new AbortController();
  const onClose = () => {
    if (!ctx.req.complete) abort.abort(new S3Error('IncompleteBody'));
  };
  ctx.req.once('close', onClose);
  try {
    const part = await deps.multipart.uploadPart(bucket, t.key, uploadIdParam(ctx), partNumber, {
      body: payload.stream,
      size: payload.size,
      contentMd5: payload.contentMd5,
      checksum: payload.checksum,
      payloadSha256: payload.payloadSha256,
      signal: abort.signal,
    }, customer);
    ctx.set('ETag', part.etag);
    setEncryptionHeaders(ctx, part.upload);
    setPartChecksum(ctx, part.checksum);
    ctx.status = 200;
  } finally {
    ctx.req.off('close', onClose);
  }
};

/** x-amz-copy-source-range: exactly `bytes=first-last`, within the source. */
function copySourceRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value }, 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size) {
    throw new S3Error('InvalidRange', { RangeRequested: value, ActualObjectSize: size }, `Range specified is not valid for source object of size: ${size}`);
  }
  return { start, end };
}

/** UploadPartCopy (PUT /bucket/key?partNumber=N&uploadId=U with x-amz-copy-source). */
export const uploadPartCopy: ObjectHandler = async (ctx, deps, t) => {
  const partNumber = partNumberParam(ctx);
  const bucket = await deps.buckets.require(t.bucket);
  const source = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  if (source.versionId !== undefined && !isVersionId(source.versionId)) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source', ArgumentValue: source.versionId }, 'Invalid version id specified');
  }
  // Write on the destination was checked with the operation; the source needs GetObject.
  await authorizeCopySource(accessRequest(ctx, { name: 'UploadPartCopy', access: 'write' }), source, deps.accessLookups);
  const srcBucket = await deps.buckets.require(source.bucket);
  const src = await deps.objects.headObject(srcBucket, source.key, source.versionId).catch((err: unknown) => {
    // As CopyObject: a source version that is a delete marker is a bad request, not a 405.
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') {
      throw new S3Error('InvalidRequest', {}, 'The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    throw err;
  });
  if (srcBucket.versioning) ctx.set('x-amz-copy-source-version-id', src.versionId);
  checkConditions(
    {
      ifMatch: header(ctx, 'x-amz-copy-source-if-match'),
      ifNoneMatch: header(ctx, 'x-amz-copy-source-if-none-match'),
      ifModifiedSince: header(ctx, 'x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: header(ctx, 'x-amz-copy-source-if-unmodified-since'),
    },
    { etag: src.etag, lastModified: new Date(src.lastModified) },
    'copy',
  );
  const range = copySourceRange(header(ctx, 'x-amz-copy-source-range'), src.size);
  const headers = headerRecord(ctx);
  const keys = { source: copySourceKey(headers, isSecure(ctx)), upload: customerKey(headers, isSecure(ctx)) };
  const part = await deps.multipart.uploadPartCopy(bucket, t.key, uploadIdParam(ctx), partNumber, src, range, keys);
  setEncryptionHeaders(ctx, part.upload);
  setPartChecksum(ctx, part.checksum);
  ctx.type = 'application/xml';
  ctx.body = copyPartResultXml(part.etag, part.lastModified, part.checksum);
};

/** CompleteMultipartUpload (POST /bucket/key?uploadId=U). */
export const completeMultipartUpload: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const key = t.key;
  const write = writeRequest(ctx);
  // Here x-amz-checksum-* headers carry the whole object's checksum, not the XML body's.
  const { body } = await readSmallBody(ctx, 4 * 1024 * 1024, { checksumHeaders: false });
  const parts = parseCompleteMultipartUpload(body.toString('utf8'));
  const fromHeader = checksumFromHeaders(ctx.req.headers, { partCount: true });
  const type = header(ctx, 'x-amz-checksum-type');
  const expected = fromHeader ? { algorithm: fromHeader.algorithm, value: fromHeader.expected, type } : type !== undefined ? { type } : undefined;
  const obj = await deps.multipart.complete(bucket, key, uploadIdParam(ctx), parts, expected, write, customerKey(headerRecord(ctx), isSecure(ctx)));
  setVersionHeader(ctx, bucket, obj.versionId);
  // S3's Complete answer names SSE-S3, not SSE-C (CompleteMultipartUploadOutput has no SSECustomer*).
  if (obj.encryption === 'AES256') setEncryptionHeaders(ctx, obj);
  const checksum = obj.checksumAlgorithm && obj.checksumValue ? { algorithm: obj.checksumAlgorithm as ChecksumAlgorithm, value: obj.checksumValue, type: obj.checksumType ?? undefined } : undefined;
  const origin = `${(ctx.req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${ctx.req.headers.host ?? '127.0.0.1'}`;
  const location = `${origin}/${encodeURIComponent(bucket.name)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  ctx.type = 'application/xml';
  ctx.body = completeMultipartUploadXml({ location, bucket: bucket.name, key, etag: obj.etag, checksum });
};

/** AbortMultipartUpload (DELETE /bucket/key?uploadId=U). */
export const abortMultipartUpload: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  await deps.multipart.abort(bucket, t.key, uploadIdParam(ctx));
  ctx.status = 204;
};

function maxParam(ctx: S3Context, name: string): number {
  const raw = ctx.state.query.get(name);
  if (raw === null || raw === '') return 1000;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: raw }, `Provided ${name} not an integer or within integer range`);
  return Math.min(Number(raw), 1000);
}

/** ListParts (GET /bucket/key?uploadId=U). */
export const listParts: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const upload = await deps.multipart.requireUpload(bucket, t.key, uploadIdParam(ctx));
  const customer = customerKey(headerRecord(ctx), isSecure(ctx));
  if (customer) checkCustomerKey(upload, customer, 'upload');
  setEncryptionHeaders(ctx, upload);
  const markerRaw = ctx.state.query.get('part-number-marker') ?? '0';
  if (!/^\d{0,5}$/.test(markerRaw)) throw new S3Error('InvalidArgument', { ArgumentName: 'part-number-marker', ArgumentValue: markerRaw });
  const marker = Number(markerRaw || '0');
  const maxParts = maxParam(ctx, 'max-parts');
  const rows = maxParts === 0 ? [] : await deps.multipart.listParts(upload, marker, maxParts + 1);
  const isTruncated = rows.length > maxParts;
  const page = rows.slice(0, maxParts);
  const alg = upload.checksumAlgorithm as ChecksumAlgorithm | null;
  const owner = await deps.accounts.owner(upload.ownerId ?? bucket.ownerId);
  ctx.type = 'application/xml';
  ctx.body = listPartsXml({
    bucket: bucket.name,
    key: upload.key,
    uploadId: upload.id,
    owner,
    storageClass: upload.storageClass,
    partNumberMarker: marker,
    nextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : undefined,
    maxParts,
    isTruncated,
    parts: page.map((p) => ({
      partNumber: p.partNumber,
      lastModified: new Date(p.lastModified),
      etag: p.etag,
      size: p.size,
      checksum: alg && p.checksumValue ? { algorithm: alg, value: p.checksumValue } : undefined,
    })),
    checksumAlgorithm: alg ?? undefined,
    checksumType: upload.checksumType ?? undefined,
  });
};

/** ListMultipartUploads (GET /bucket?uploads). */
export const listMultipartUploads: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const q = ctx.state.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const keyMarker = q.get('key-marker') ?? '';
  const uploadIdMarker = keyMarker ? (q.get('upload-id-marker') ?? '') : '';
  const encodingType = q.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') throw new S3Error('InvalidArgument', { ArgumentName: 'encoding-type', ArgumentValue: encodingType }, 'Invalid Encoding Method specified in Request');
  const maxUploads = maxParam(ctx, 'max-uploads');
  // Uploads are grouped like keys; the paging walk works on (key, upload id) pairs.
  const page = await paginateUploads(deps, bucket, { prefix, delimiter, maxUploads, keyMarker, uploadIdMarker });
  const ownerOf = await deps.accounts.namer();
  ctx.type = 'application/xml';
  ctx.body = listMultipartUploadsXml({
    bucket: bucket.name,
    prefix,
    delimiter,
    keyMarker,
    uploadIdMarker,
    nextKeyMarker: page.isTruncated ? page.nextKeyMarker : undefined,
    nextUploadIdMarker: page.isTruncated ? page.nextUploadIdMarker : undefined,
    maxUploads,
    isTruncated: page.isTruncated,
    uploads: page.uploads.map((u) => ({
      key: u.key,
      owner: ownerOf(u.ownerId ?? bucket.ownerId),
      uploadId: u.id,
      initiated: new Date(u.initiated),
      storageClass: u.storageClass,
      checksumAlgorithm: u.checksumAlgorithm ?? undefined,
      checksumType: u.checksumType ?? undefined,
    })),
    commonPrefixes: page.commonPrefixes,
    encodingType: encodingType === 'url' ? 'url' : undefined,
  });
};

async function paginateUploads(
  deps: AppDeps,
  bucket: BucketRow,
  p: { prefix: string; delimiter?: string; maxUploads: number; keyMarker: string; uploadIdMarker: string },
) {
  const MAX = '\u{10FFFF}';
  const groupOf = (key: string) => {
    if (!p.delimiter) return undefined;
    const i = key.indexOf(p.delimiter, p.prefix.length);
    return i === -1 ? undefined : key.slice(0, i + p.delimiter.length);
  };
  // A key marker alone skips every upload of that key; a common-prefix marker skips its group.
  let after: { key: string; uploadId: string } | undefined;
  if (p.keyMarker) {
    after = groupOf(p.keyMarker) === p.keyMarker ? { key: p.keyMarker + MAX, uploadId: MAX } : { key: p.keyMarker, uploadId: p.uploadIdMarker || MAX };
  }
  const uploads: UploadRow[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let next: { key: string; uploadId?: string } | undefined;
  let count = 0;
  if (p.maxUploads > 0) {
    walk: for (;;) {
      const rows = await deps.multipart.listUploads(bucket, p.prefix, after, 1000);
      for (const row of rows) {
        const group = groupOf(row.key);
        if (group !== undefined && group === commonPrefixes[commonPrefixes.length - 1]) continue;
        if (count === p.maxUploads) {
          isTruncated = true;
          break walk;
        }
        count++;
        if (group !== undefined) {
          commonPrefixes.push(group);
          next = { key: group };
        } else {
          uploads.push(row);
          next = { key: row.key, uploadId: row.id };
        }
        after = { key: row.key, uploadId: row.id };
      }
      if (rows.length < 1000) break;
      const lastGroup = commonPrefixes[commonPrefixes.length - 1];
      if (lastGroup !== undefined && after && after.key.startsWith(lastGroup)) after = { key: lastGroup + MAX, uploadId: MAX };
    }
  }
  return { uploads, commonPrefixes, isTruncated, nextKeyMarker: next?.key, nextUploadIdMarker: next?.uploadId };
}
