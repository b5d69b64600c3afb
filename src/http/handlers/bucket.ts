import type { BucketHandler } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { locationXml, parseCreateBucketConfiguration } from '../../s3/xml.js';
import { aclFromHeaders, encodeAcl, isPrivateAcl } from '../../s3/acl.js';
import { parseObjectOwnership } from '../../s3/policy-xml.js';
import { DEFAULT_OWNERSHIP } from '../../services/buckets.js';
import { resolverFor } from '../acl-headers.js';
import { readSmallBody } from '../body.js';

/**
 * CreateBucket (PUT /bucket): optional CreateBucketConfiguration body, a canned ACL or grant
 * headers, x-amz-object-ownership, x-amz-bucket-object-lock-enabled (versioning on for good).
 * The bucket belongs to the caller's account.
 */
export const createBucket: BucketHandler = async (ctx, deps, t) => {
  const ownerId = ctx.state.principal!.accountId;
  const ownershipHeader = header(ctx, 'x-amz-object-ownership');
  const ownership = ownershipHeader === undefined ? undefined : parseObjectOwnership(ownershipHeader);
  const grants = aclFromHeaders(ctx.req.headers, 'bucket', ownerId, ownerId, await resolverFor(ctx, deps));
  const acl = grants === undefined || isPrivateAcl(grants, ownerId) ? null : encodeAcl(grants);
  // As S3: ACLs are off with BucketOwnerEnforced, so asking for one with it is a contradiction.
  if (acl !== null && (ownership ?? DEFAULT_OWNERSHIP) === 'BucketOwnerEnforced') throw new S3Error('InvalidBucketAclWithObjectOwnership');
  const { body } = await readSmallBody(ctx, 64 * 1024);
  const conf = parseCreateBucketConfiguration(body.toString('utf8'));
  const lock = (header(ctx, 'x-amz-bucket-object-lock-enabled') ?? 'false').trim().toLowerCase();
  if (lock !== 'true' && lock !== 'false') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-bucket-object-lock-enabled', ArgumentValue: lock }, 'x-amz-bucket-object-lock-enabled must be true or false');
  }
  await deps.buckets.create(t.bucket, { ownerId, acl, ownership, locationConstraint: conf.locationConstraint, objectLock: lock === 'true' });
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
