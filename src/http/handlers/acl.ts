import type { AppDeps, BucketHandler, ObjectHandler, S3Context } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { aclFromHeaders, type AclGrant } from '../../s3/acl.js';
import { accessControlPolicyXml, MAX_ACL_BYTES, parseAccessControlPolicy } from '../../s3/acl-xml.js';
import { versionIdParam } from '../../s3/version-id.js';
import { readSmallBody } from '../body.js';
import { hasGrantHeaders } from '../acl-headers.js';

// Get/PutBucketAcl and Get/PutObjectAcl (per version). The rules are AccessControlService's.

/** GetBucketAcl (GET /bucket?acl). */
export const getBucketAcl: BucketHandler = async (ctx, deps, t) => {
  const view = await deps.accessControl.bucketAcl(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = accessControlPolicyXml(view.owner, view.grants, await deps.accounts.resolver());
};

/** PutBucketAcl (PUT /bucket?acl): a canned ACL, grant headers, or an AccessControlPolicy body. */
export const putBucketAcl: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const grants = await requestedAcl(ctx, deps, 'bucket', bucket.ownerId, bucket.ownerId);
  await deps.accessControl.putBucketAcl(t.bucket, grants);
  ctx.status = 200;
};

/** GetObjectAcl (GET /bucket/key?acl[&versionId]). */
export const getObjectAcl: ObjectHandler = async (ctx, deps, t) => {
  const versionId = versionIdParam(ctx.state.query);
  const view = await deps.accessControl.objectAcl(t.bucket, t.key, versionId);
  if (versionId !== undefined) ctx.set('x-amz-version-id', versionId);
  ctx.type = 'application/xml';
  ctx.body = accessControlPolicyXml(view.owner, view.grants, await deps.accounts.resolver());
};

/** PutObjectAcl (PUT /bucket/key?acl[&versionId]). */
export const putObjectAcl: ObjectHandler = async (ctx, deps, t) => {
  const versionId = versionIdParam(ctx.state.query);
  const bucket = await deps.buckets.require(t.bucket);
  const view = await deps.accessControl.objectAcl(t.bucket, t.key, versionId);
  const grants = await requestedAcl(ctx, deps, 'object', view.owner.id, bucket.ownerId);
  await deps.accessControl.putObjectAcl(t.bucket, t.key, versionId, grants);
  if (versionId !== undefined) ctx.set('x-amz-version-id', versionId);
  ctx.status = 200;
};

/** The ACL a Put*Acl request gives: from its headers or its body, never both (S3's rule). */
async function requestedAcl(ctx: S3Context, deps: AppDeps, kind: 'bucket' | 'object', owner: string, bucketOwner: string): Promise<AclGrant[]> {
  const accounts = await deps.accounts.resolver(hasGrantHeaders(ctx) || Number(ctx.req.headers['content-length'] ?? 1) > 0);
  const fromHeaders = aclFromHeaders(ctx.req.headers, kind, owner, bucketOwner, accounts);
  const { body } = await readSmallBody(ctx, MAX_ACL_BYTES);
  if (fromHeaders && body.length > 0) throw new S3Error('UnexpectedContent', {}, 'This request does not support content when ACL headers are given.');
  if (fromHeaders) return fromHeaders;
  if (body.length === 0) throw new S3Error('MissingSecurityHeader', {}, 'Your request was missing a required header: x-amz-acl, an x-amz-grant-* header, or an AccessControlPolicy body.');
  return parseAccessControlPolicy(body.toString('utf8'), kind, owner, accounts);
}
