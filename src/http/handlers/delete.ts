import type { BucketHandler } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateKey } from '../../s3/names.js';
import { deleteResultXml, parseDeleteObjects } from '../../s3/xml.js';
import { readSmallBody } from '../body.js';
import { header } from '../context.js';
import { isVersionId } from '../../s3/version-id.js';

/** DeleteObjects (POST /bucket?delete): up to 1000 keys; Content-MD5 or an x-amz-checksum-* header required. */
export const deleteObjects: BucketHandler = async (ctx, deps, t) => {
  const bucket = await deps.buckets.require(t.bucket);
  const { body, payload } = await readSmallBody(ctx, 2 * 1024 * 1024);
  // The aws CLI and SDK send a CRC32 and no Content-MD5; s3cmd sends Content-MD5.
  if (!payload.contentMd5 && !payload.checksum) {
    throw new S3Error('InvalidRequest', {}, 'Missing required header for this request: Content-Md5.');
  }
  const { quiet, keys } = parseDeleteObjects(body.toString('utf8'));
  const bypassAsked = header(ctx, 'x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true';
  const access = ctx.state.access;
  const deleted: Parameters<typeof deleteResultXml>[0] = [];
  const errors: Parameters<typeof deleteResultXml>[1] = [];
  for (const { key, versionId } of keys) {
    try {
      validateKey(key);
      if (versionId !== undefined && !isVersionId(versionId)) throw new S3Error('NoSuchVersion', {}, 'The specified version does not exist.');
      // Each key as its own DeleteObject: a policy may allow or deny some keys and not others.
      if (!access?.allowsDelete(key, versionId)) throw new S3Error('AccessDenied');
      if (bypassAsked && !access.allowsBypass(key)) throw new S3Error('AccessDenied', {}, 'Access Denied: this key may not bypass GOVERNANCE retention.');
      const r = await deps.objects.deleteObject(bucket, key, { versionId, bypassGovernance: bypassAsked });
      if (quiet) continue;
      // As S3 answers: the version named, and a marker added (or removed by its version).
      const marker = r.deleteMarker ? { deleteMarker: true, deleteMarkerVersionId: r.versionId } : {};
      deleted.push({ key, ...(versionId !== undefined ? { versionId } : {}), ...marker });
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      errors.push({ key, versionId, code: err.code, message: err.message });
    }
  }
  ctx.type = 'application/xml';
  ctx.body = deleteResultXml(deleted, errors);
};
