import type { BucketHandler, ObjectHandler, S3Context } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { parseTagging, parseTaggingHeader, taggingXml, type TagSet } from '../../s3/tagging.js';
import { versionIdParam } from '../../s3/version-id.js';
import { readSmallBody } from '../body.js';

// Put/Get/DeleteObjectTagging (per version) and Put/Get/DeleteBucketTagging. The rules are
// TaggingService's (src/services/tagging.ts); x-amz-tagging on writes is requestTags below.

/** 50 tags of 128 + 256 characters of up to 4 bytes, with the XML around them. */
const MAX_TAGGING_BYTES = 128 * 1024;

/** The x-amz-tagging header of PutObject, CreateMultipartUpload and CopyObject (REPLACE); undefined when absent. */
export function requestTags(ctx: S3Context): TagSet | undefined {
  const raw = header(ctx, 'x-amz-tagging');
  return raw === undefined ? undefined : parseTaggingHeader(raw);
}

/** The version the answer names: a version id asked for, or any on a versioned bucket. */
function setVersion(ctx: S3Context, versioned: boolean, asked: string | undefined, versionId: string): void {
  if (versioned || asked !== undefined) ctx.set('x-amz-version-id', versionId);
}

/** GetObjectTagging (GET /bucket/key?tagging[&versionId]). */
export const getObjectTagging: ObjectHandler = async (ctx, deps, t) => {
  const versionId = versionIdParam(ctx.state.query);
  const { object, tags } = await deps.tagging.objectTags(t.bucket, t.key, versionId);
  const bucket = await deps.buckets.require(t.bucket);
  setVersion(ctx, bucket.versioning !== null, versionId, object.versionId);
  ctx.type = 'application/xml';
  ctx.body = taggingXml(tags);
};

/** PutObjectTagging (PUT /bucket/key?tagging[&versionId]): replaces the version's tags. */
export const putObjectTagging: ObjectHandler = async (ctx, deps, t) => {
  const versionId = versionIdParam(ctx.state.query);
  const bucket = await deps.buckets.require(t.bucket);
  const { body } = await readSmallBody(ctx, MAX_TAGGING_BYTES);
  const tags = parseTagging(body.toString('utf8'), 'object');
  // A bucket policy testing s3:RequestObjectTag* is judged now that the tags are known (src/auth/access.ts).
  await ctx.state.access?.authorizeBodyTags(t.key, versionId, tags, deps.accessLookups);
  const row = await deps.tagging.setObjectTags(t.bucket, t.key, versionId, tags);
  setVersion(ctx, bucket.versioning !== null, versionId, row.versionId);
  ctx.status = 200;
};

/** DeleteObjectTagging (DELETE /bucket/key?tagging[&versionId]): 204. */
export const deleteObjectTagging: ObjectHandler = async (ctx, deps, t) => {
  const versionId = versionIdParam(ctx.state.query);
  const bucket = await deps.buckets.require(t.bucket);
  const row = await deps.tagging.setObjectTags(t.bucket, t.key, versionId, null);
  setVersion(ctx, bucket.versioning !== null, versionId, row.versionId);
  ctx.status = 204;
};

/** GetBucketTagging (GET /bucket?tagging): NoSuchTagSet when there is none. */
export const getBucketTagging: BucketHandler = async (ctx, deps, t) => {
  const tags = await deps.tagging.bucketTags(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = taggingXml(tags);
};

/** PutBucketTagging (PUT /bucket?tagging): Content-MD5 or an x-amz-checksum-* header required, as S3. */
export const putBucketTagging: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, MAX_TAGGING_BYTES);
  if (!payload.contentMd5 && !payload.checksum) throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  const tags = parseTagging(body.toString('utf8'), 'bucket');
  await deps.tagging.setBucketTags(t.bucket, tags);
  ctx.status = 204;
};

/** DeleteBucketTagging (DELETE /bucket?tagging): 204 whether or not there were tags. */
export const deleteBucketTagging: BucketHandler = async (ctx, deps, t) => {
  await deps.tagging.setBucketTags(t.bucket, null);
  ctx.status = 204;
};
