import type { BucketHandler } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { MAX_LIFECYCLE_XML, lifecycleConfigurationXml, parseLifecycleConfiguration } from '../../s3/lifecycle.js';
import { readSmallBody } from '../body.js';

// Put/Get/DeleteBucketLifecycleConfiguration (?lifecycle). The older PutBucketLifecycle and
// GetBucketLifecycle use the same sub-resource and document (their Rule has a top-level Prefix,
// which the parser takes as the legacy filter), so the same handlers answer them.

const MIN_SIZE_HEADER = 'x-amz-transition-default-minimum-object-size';

/** PUT /bucket?lifecycle: replaces the configuration; Content-MD5 or an x-amz-checksum-* header required, as S3 does. */
export const putBucketLifecycle: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, MAX_LIFECYCLE_XML);
  if (!payload.contentMd5 && !payload.checksum) throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  const config = parseLifecycleConfiguration(body.toString('utf8'), header(ctx, MIN_SIZE_HEADER));
  await deps.buckets.putLifecycle(t.bucket, config);
  ctx.set(MIN_SIZE_HEADER, config.transitionMinSize);
  ctx.status = 200;
};

/** GET /bucket?lifecycle: the stored rules; 404 NoSuchLifecycleConfiguration when none. */
export const getBucketLifecycle: BucketHandler = async (ctx, deps, t) => {
  const config = await deps.buckets.getLifecycle(t.bucket);
  ctx.set(MIN_SIZE_HEADER, config.transitionMinSize);
  ctx.type = 'application/xml';
  ctx.body = lifecycleConfigurationXml(config);
};

/** DELETE /bucket?lifecycle: 204 whether or not there was a configuration. */
export const deleteBucketLifecycle: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.deleteLifecycle(t.bucket);
  ctx.status = 204;
};
