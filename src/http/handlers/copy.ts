import type { ObjectHandler } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { parseCopySource } from '../../s3/endpoint.js';
import { validateKey } from '../../s3/names.js';
import { checkConditions } from '../../s3/conditional.js';
import { copyObjectResultXml } from '../../s3/xml.js';
import { checksumFromHeaders, checksumHeader, type ChecksumAlgorithm } from '../../s3/checksums.js';
import { attributesFromRequest, storageClassFromRequest } from '../attributes.js';
import { authorizeCopySource } from '../../auth/access.js';
import { accessRequest } from '../access-request.js';
import { newObjectAccess } from '../acl-headers.js';
import { isVersionId } from '../../s3/version-id.js';
import { setVersionHeader, writeRequest } from '../versioning.js';
import { requestTags } from './tagging.js';
import { copySourceKey, headerRecord, isSecure, setEncryptionHeaders, writeEncryption } from '../encryption.js';

/** CopyObject (PUT /bucket/key with x-amz-copy-source): the copy shares the source's chunks. */
export const copyObject: ObjectHandler = async (ctx, deps, t) => {
  const dstKey = t.key;
  validateKey(dstKey);
  const source = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  if (source.versionId !== undefined && !isVersionId(source.versionId)) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source', ArgumentValue: source.versionId }, 'Invalid version id specified');
  }
  // Write on the destination was checked with the operation; the source needs GetObject.
  await authorizeCopySource(accessRequest(ctx, { name: 'CopyObject', access: 'write' }), source, deps.accessLookups);
  const write = writeRequest(ctx);
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive }, 'Unknown metadata directive.');
  }
  const tagging = (header(ctx, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (tagging !== 'COPY' && tagging !== 'REPLACE') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: tagging }, 'Unknown tagging directive.');
  }
  // COPY: the source version's tags (an x-amz-tagging header is not used, as on S3); REPLACE: the header's, or none.
  const tags = tagging === 'REPLACE' ? (requestTags(ctx) ?? []) : undefined;
  const conditions = {
    ifMatch: header(ctx, 'x-amz-copy-source-if-match'),
    ifNoneMatch: header(ctx, 'x-amz-copy-source-if-none-match'),
    ifModifiedSince: header(ctx, 'x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: header(ctx, 'x-amz-copy-source-if-unmodified-since'),
  };
  const headers = headerRecord(ctx);
  const src = await deps.buckets.require(source.bucket);
  const dst = await deps.buckets.require(t.bucket);
  const { object: obj, source: srcObj } = await deps.objects.copyObject({
    ...write,
    access: await newObjectAccess(ctx, deps, dst),
    tags,
    src,
    srcKey: source.key,
    srcVersionId: source.versionId,
    hasChecksum: header(ctx, 'content-md5') !== undefined || checksumFromHeaders(ctx.req.headers) !== undefined,
    dst,
    dstKey,
    check: (src) => checkConditions(conditions, { etag: src.etag, lastModified: new Date(src.lastModified) }, 'copy'),
    replace: directive === 'REPLACE' ? attributesFromRequest(ctx, header(ctx, 'content-encoding')) : undefined,
    storageClass: storageClassFromRequest(ctx),
    encryption: writeEncryption(headers, isSecure(ctx)),
    sourceKey: copySourceKey(headers, isSecure(ctx)),
  });
  setEncryptionHeaders(ctx, obj);
  const checksum =
    obj.checksumAlgorithm && obj.checksumValue
      ? { header: 'Checksum' + obj.checksumAlgorithm, value: obj.checksumValue }
      : undefined;
  if (checksum) ctx.set(checksumHeader(obj.checksumAlgorithm as ChecksumAlgorithm), obj.checksumValue!);
  if (src.versioning) ctx.set('x-amz-copy-source-version-id', srcObj.versionId);
  setVersionHeader(ctx, dst, obj.versionId);
  ctx.type = 'application/xml';
  ctx.body = copyObjectResultXml(obj.etag, new Date(obj.lastModified), checksum);
};
