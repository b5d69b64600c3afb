import type { BucketHandler } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { ownershipControlsXml, parseOwnershipControls, policyStatusXml } from '../../s3/policy-xml.js';
import { readSmallBody } from '../body.js';

// Bucket policies and object ownership controls. The rules are AccessControlService's.

/** GetBucketPolicy (GET /bucket?policy): the document as the owner stored it. */
export const getBucketPolicy: BucketHandler = async (ctx, deps, t) => {
  ctx.type = 'application/json';
  ctx.body = await deps.accessControl.policy(t.bucket);
};

/** PutBucketPolicy (PUT /bucket?policy): a JSON document in the IAM policy language (MalformedPolicy). */
export const putBucketPolicy: BucketHandler = async (ctx, deps, t) => {
  const { body } = await readSmallBody(ctx, 64 * 1024).catch((err: unknown) => {
    if (err instanceof S3Error && err.code === 'MalformedXML') throw new S3Error('MalformedPolicy', {}, 'Policies must be valid UTF-8 JSON of at most 20 KB.');
    throw err;
  });
  await deps.accessControl.putPolicy(t.bucket, body.toString('utf8'));
  ctx.status = 204;
};

/** DeleteBucketPolicy (DELETE /bucket?policy): 204 whether or not there was one, as S3. */
export const deleteBucketPolicy: BucketHandler = async (ctx, deps, t) => {
  await deps.accessControl.deletePolicy(t.bucket);
  ctx.status = 204;
};

/** GetBucketPolicyStatus (GET /bucket?policyStatus). */
export const getBucketPolicyStatus: BucketHandler = async (ctx, deps, t) => {
  const isPublic = await deps.accessControl.policyIsPublic(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = policyStatusXml(isPublic);
};

/** GetBucketOwnershipControls: cairn always has a setting (ObjectWriter when none was put). */
export const getBucketOwnershipControls: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = ownershipControlsXml(bucket.ownership);
};

export const putBucketOwnershipControls: BucketHandler = async (ctx, deps, t) => {
  const { body } = await readSmallBody(ctx, 16 * 1024);
  await deps.accessControl.setOwnership(t.bucket, parseOwnershipControls(body.toString('utf8')));
  ctx.status = 200;
};

/** DeleteBucketOwnershipControls: back to ObjectWriter, S3's behaviour without controls. */
export const deleteBucketOwnershipControls: BucketHandler = async (ctx, deps, t) => {
  await deps.accessControl.setOwnership(t.bucket, 'ObjectWriter');
  ctx.status = 204;
};
