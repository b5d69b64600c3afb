import type { BucketHandler } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateKey } from '../../s3/names.js';
import { deleteResultXml, parseDeleteObjects } from '../../s3/xml.js';
import { readSmallBody } from '../body.js';

/** DeleteObjects (POST /bucket?delete): up to 1000 keys; Content-MD5 or an x-amz-checksum-* header required. */
export const deleteObjects: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, 2 * 1024 * 1024);
  // The aws CLI and SDK send a CRC32 and no Content-MD5; s3cmd sends Content-MD5.
  if (!payload.contentMd5 && !payload.checksum) {
    throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  }
  const { quiet, keys } = parseDeleteObjects(body.toString('utf8'));
  const deleted: Array<{ key: string }> = [];
  const errors: Array<{ key: string; code: string; message: string }> = [];
  for (const key of keys) {
    try {
      validateKey(key);
      await deps.objects.deleteObject(bucket, key);
      if (!quiet) deleted.push({ key });
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      errors.push({ key, code: err.code, message: err.message });
    }
  }
  ctx.type = 'application/xml';
  ctx.body = deleteResultXml(deleted, errors);
};
