import type { BucketHandler } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { encryptionConfigurationXml, parseEncryptionConfiguration } from '../../s3/encryption-xml.js';
import { readSmallBody } from '../body.js';

/** The largest ServerSideEncryptionConfiguration body read. */
const MAX_ENCRYPTION_XML = 16 * 1024;

/** PutBucketEncryption (PUT /bucket?encryption): the default encryption of new writes (AES256 only). */
export const putBucketEncryption: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, MAX_ENCRYPTION_XML);
  if (!payload.contentMd5 && !payload.checksum) throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  const algorithm = parseEncryptionConfiguration(body.toString('utf8'));
  await deps.buckets.setDefaultEncryption(t.bucket, algorithm, deps.objects.encryption.keys !== undefined);
  ctx.status = 200;
};

/** GetBucketEncryption (GET /bucket?encryption): 404 ServerSideEncryptionConfigurationNotFoundError when none is set. */
export const getBucketEncryption: BucketHandler = async (ctx, deps, t) => {
  const algorithm = await deps.buckets.defaultEncryption(t.bucket);
  ctx.type = 'application/xml';
  ctx.body = encryptionConfigurationXml(algorithm);
};

/** DeleteBucketEncryption (DELETE /bucket?encryption): 204; new writes are stored in clear again (unless encryptAll). */
export const deleteBucketEncryption: BucketHandler = async (ctx, deps, t) => {
  await deps.buckets.setDefaultEncryption(t.bucket, null, true);
  ctx.status = 204;
};
