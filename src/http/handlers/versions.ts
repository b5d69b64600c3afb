import type { BucketHandler, ObjectHandler, S3Context } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { readSmallBody } from '../body.js';
import { versioningXml } from '../../s3/xml.js';
import {
  legalHoldXml,
  listVersionsXml,
  objectLockConfigurationXml,
  parseLegalHold,
  parseObjectLockConfiguration,
  parseRetention,
  parseVersioningConfiguration,
  retentionXml,
} from '../../s3/versioning-xml.js';
import { parseVersionListParams } from '../../s3/version-list.js';
import { versionIdParam } from '../../s3/version-id.js';
import { bypassFrom } from '../versioning.js';

// Versioning and object lock: the bucket configurations, ListObjectVersions, and a version's
// retention and legal hold.

/** S3 requires Content-MD5 (or a checksum) on the lock requests, as on DeleteObjects. */
async function checkedBody(ctx: S3Context): Promise<string> {
  const { body, payload } = await readSmallBody(ctx, 64 * 1024);
  if (!payload.contentMd5 && !payload.checksum) throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  return body.toString('utf8');
}

/** PutBucketVersioning (PUT /bucket?versioning): Enabled or Suspended; MFA delete refused. */
export const putBucketVersioning: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { body } = await readSmallBody(ctx, 64 * 1024);
  await deps.buckets.setVersioning(t.bucket, parseVersioningConfiguration(body.toString('utf8')));
  ctx.status = 200;
};

/** GetBucketVersioning (GET /bucket?versioning): no Status until versioning was first set. */
export const getBucketVersioning: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = versioningXml(bucket.versioning);
};

/** ListObjectVersions (GET /bucket?versions). */
export const listObjectVersions: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const p = parseVersionListParams(ctx.state.query);
  const page = await deps.objects.listVersions(bucket, p);
  const ownerOf = await deps.accounts.namer();
  ctx.type = 'application/xml';
  ctx.body = listVersionsXml({
    bucket: bucket.name,
    prefix: p.prefix,
    delimiter: p.delimiter,
    keyMarker: p.keyMarker,
    versionIdMarker: p.versionIdMarker,
    maxKeys: p.maxKeys,
    encodingType: p.encodingType,
    isTruncated: page.isTruncated,
    nextKeyMarker: page.nextKeyMarker,
    nextVersionIdMarker: page.nextVersionIdMarker,
    commonPrefixes: page.commonPrefixes,
    entries: page.entries.map(({ row, isLatest }) => ({
      key: row.key,
      owner: ownerOf(row.ownerId ?? bucket.ownerId),
      versionId: row.versionId,
      isLatest,
      deleteMarker: row.deleteMarker,
      lastModified: new Date(row.lastModified),
      etag: row.etag,
      size: row.size,
      storageClass: row.storageClass,
      checksumAlgorithm: row.checksumAlgorithm ?? undefined,
    })),
  });
};

/** PutObjectLockConfiguration (PUT /bucket?object-lock): a default retention, or none. */
export const putObjectLockConfiguration: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { rule } = parseObjectLockConfiguration(await checkedBody(ctx));
  await deps.buckets.setLockConfiguration(t.bucket, rule);
  ctx.status = 200;
};

/** GetObjectLockConfiguration (GET /bucket?object-lock). */
export const getObjectLockConfiguration: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  if (!bucket.objectLock) throw new S3Error('ObjectLockConfigurationNotFoundError', { BucketName: bucket.name });
  const rule = bucket.lockDefaultMode
    ? { mode: bucket.lockDefaultMode, days: bucket.lockDefaultDays ?? undefined, years: bucket.lockDefaultYears ?? undefined }
    : null;
  ctx.type = 'application/xml';
  ctx.body = objectLockConfigurationXml(rule);
};

/** PutObjectRetention (PUT /bucket/key?retention[&versionId]). */
export const putObjectRetention: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const versionId = versionIdParam(ctx.state.query);
  const bypass = bypassFrom(ctx);
  const next = parseRetention(await checkedBody(ctx));
  await deps.objects.setRetention(bucket, t.key, versionId, next, bypass);
  ctx.status = 200;
};

/** GetObjectRetention (GET /bucket/key?retention[&versionId]). */
export const getObjectRetention: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const v = await deps.objects.lockState(bucket, t.key, versionIdParam(ctx.state.query));
  if (!v.lockMode || v.lockUntil === null) throw new S3Error('NoSuchObjectLockConfiguration');
  ctx.type = 'application/xml';
  ctx.body = retentionXml(v.lockMode, v.lockUntil);
};

/** PutObjectLegalHold (PUT /bucket/key?legal-hold[&versionId]). */
export const putObjectLegalHold: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const versionId = versionIdParam(ctx.state.query);
  const on = parseLegalHold(await checkedBody(ctx));
  await deps.objects.setLegalHold(bucket, t.key, versionId, on);
  ctx.status = 200;
};

/** GetObjectLegalHold (GET /bucket/key?legal-hold[&versionId]): OFF for a version never held. */
export const getObjectLegalHold: ObjectHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const v = await deps.objects.lockState(bucket, t.key, versionIdParam(ctx.state.query));
  ctx.type = 'application/xml';
  ctx.body = legalHoldXml(v.legalHold);
};
