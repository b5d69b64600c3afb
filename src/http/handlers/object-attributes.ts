import type { ObjectHandler } from '../context.js';
import { header } from '../context.js';
import type { ChecksumAlgorithm } from '../../s3/checksums.js';
import { objectAttributesXml, parseObjectAttributes, parsePartsPaging, type AttributesAnswer } from '../../s3/object-attributes.js';
import { versionIdParam } from '../../s3/version-id.js';
import { customerKey, headerRecord, isSecure } from '../encryption.js';
import { setVersionHeader } from '../versioning.js';

/**
 * GetObjectAttributes (GET /bucket/key?attributes, x-amz-object-attributes): HeadObject and
 * ListParts of a completed object in one answer. Bad input is refused before the object is read.
 */
export const getObjectAttributes: ObjectHandler = async (ctx, deps, t) => {
  const asked = parseObjectAttributes(header(ctx, 'x-amz-object-attributes'));
  const paging = parsePartsPaging(header(ctx, 'x-amz-max-parts'), header(ctx, 'x-amz-part-number-marker'));
  const versionId = versionIdParam(ctx.state.query);
  const bucket = await deps.buckets.require(t.bucket);
  const customer = customerKey(headerRecord(ctx), isSecure(ctx));
  // A delete marker answers as on HEAD: 404 with x-amz-delete-marker, or 405 when named by version id.
  const obj = await deps.objects.headObject(bucket, t.key, versionId);
  // An SSE-C object tells nothing without its key, as on HEAD.
  deps.objects.checkReadKey(obj, customer);
  const answer: AttributesAnswer = { etag: obj.etag, size: obj.size, storageClass: obj.storageClass };
  if (obj.checksumAlgorithm && obj.checksumValue) {
    answer.checksum = { algorithm: obj.checksumAlgorithm as ChecksumAlgorithm, value: obj.checksumValue, type: obj.checksumType };
  }
  if (asked.has('ObjectParts') && obj.partCount) answer.parts = await deps.objects.parts(obj);
  setVersionHeader(ctx, bucket, obj.versionId);
  ctx.set('Last-Modified', new Date(obj.lastModified).toUTCString());
  ctx.type = 'application/xml';
  ctx.body = objectAttributesXml(asked, answer, paging);
};
