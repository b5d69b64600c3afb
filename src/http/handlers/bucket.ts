import type { BucketHandler, Handler, BucketTarget } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { aclXml, locationXml, parseCreateBucketConfiguration } from '../../s3/xml.js';
import { versionIdParam } from '../../s3/version-id.js';
import { readSmallBody } from '../body.js';

/**
 * CreateBucket (PUT /bucket): optional CreateBucketConfiguration body, x-amz-acl private|public-read,
 * x-amz-bucket-object-lock-enabled (versioning on for good).
 */
export const createBucket: BucketHandler = async (ctx, deps, t) => {
  const acl = header(ctx, 'x-amz-acl') ?? 'private';
  if (acl !== 'private' && acl !== 'public-read') {
    throw new S3Error('NotImplemented', {}, `The canned ACL ${acl} is not supported; use private or public-read.`);
  }
  const { body } = await readSmallBody(ctx, 64 * 1024);
  const conf = parseCreateBucketConfiguration(body.toString('utf8'));
  const lock = (header(ctx, 'x-amz-bucket-object-lock-enabled') ?? 'false').trim().toLowerCase();
  if (lock !== 'true' && lock !== 'false') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-bucket-object-lock-enabled', ArgumentValue: lock }, 'x-amz-bucket-object-lock-enabled must be true or false');
  }
  await deps.buckets.create(t.bucket, { publicRead: acl === 'public-read', locationConstraint: conf.locationConstraint, objectLock: lock === 'true' });
  ctx.set('Location', `/${t.bucket}`);
  ctx.status = 200;
};

/** HeadBucket (HEAD /bucket). */
export const headBucket: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  ctx.set('x-amz-bucket-region', bucket.region);
  ctx.status = 200;
};

/** DeleteBucket (DELETE /bucket): only a bucket without objects; its uploads in progress are aborted. */
export const deleteBucket: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.delete(t.bucket);
  ctx.status = 204;
};

/** GetBucketLocation (GET /bucket?location). */
export const getBucketLocation: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = locationXml(bucket.region);
};

/** GetBucketAcl / GetObjectAcl: the owner has full control (public-read is not modelled as a grant here). */
export const getAcl: Handler<BucketTarget & { key?: string }> = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  if (t.key !== undefined) await deps.objects.headObject(bucket, t.key, versionIdParam(ctx.state.query));
  ctx.type = 'application/xml';
  ctx.body = aclXml(deps.owner);
};
