import { header, type S3Context } from './context.js';
import { S3Error } from '../s3/errors.js';
import { bypassGovernance } from '../auth/authorize.js';
import { parseLockDate } from '../s3/versioning-xml.js';
import type { WriteRequest } from '../storage/object-service.js';
import type { LockRequest } from '../storage/versioning.js';
import type { BucketRow, ObjectRow, WriteCondition } from '../store/types.js';

// The request and response headers of versions, conditional writes and object lock, shared by
// the object, copy and multipart handlers.

/**
 * If-None-Match / If-Match on a write. S3 takes only `*` for If-None-Match and no date
 * conditions on writes: those are refused (501), never ignored.
 */
export function writeCondition(ctx: S3Context): WriteCondition | undefined {
  for (const h of ['if-modified-since', 'if-unmodified-since']) {
    if (header(ctx, h) !== undefined) throw new S3Error('NotImplemented', { Header: h }, `${h} is not implemented for writes; use If-Match or If-None-Match.`);
  }
  const ifNoneMatch = header(ctx, 'if-none-match');
  const ifMatch = header(ctx, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', { Header: 'If-None-Match' }, 'If-None-Match on a write takes only *.');
  }
  return { ...(ifNoneMatch !== undefined ? { ifNoneMatch: true } : {}), ...(ifMatch !== undefined ? { ifMatch } : {}) };
}

/** The x-amz-object-lock-* headers of PutObject, CopyObject and CreateMultipartUpload. */
export function lockRequest(ctx: S3Context): LockRequest | undefined {
  const mode = header(ctx, 'x-amz-object-lock-mode');
  const date = header(ctx, 'x-amz-object-lock-retain-until-date');
  const hold = header(ctx, 'x-amz-object-lock-legal-hold');
  if (mode === undefined && date === undefined && hold === undefined) return undefined;
  const req: LockRequest = {};
  if (mode !== undefined) {
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-object-lock-mode', ArgumentValue: mode }, 'Unknown wormMode directive.');
    req.mode = mode;
  }
  if (date !== undefined) req.until = parseLockDate(date, 'x-amz-object-lock-retain-until-date');
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-object-lock-legal-hold', ArgumentValue: hold }, 'Legal Hold must be either of ON or OFF');
    req.legalHold = hold === 'ON';
  }
  return req;
}

/** x-amz-bypass-governance-retention: true, from a key that may (else AccessDenied). */
export function bypassFrom(ctx: S3Context): boolean {
  const v = header(ctx, 'x-amz-bypass-governance-retention');
  return bypassGovernance(ctx, v !== undefined && v.trim().toLowerCase() === 'true');
}

/** Everything a write asks of versions and locks. */
export function writeRequest(ctx: S3Context): WriteRequest {
  return { condition: writeCondition(ctx), lock: lockRequest(ctx), bypassGovernance: bypassFrom(ctx) };
}

/** x-amz-version-id, once the bucket's versioning was ever set (S3 sends none before). */
export function setVersionHeader(ctx: S3Context, bucket: BucketRow, versionId: string): void {
  if (bucket.versioning) ctx.set('x-amz-version-id', versionId);
}

/** A version's lock on GET and HEAD. */
export function setLockHeaders(ctx: S3Context, bucket: BucketRow, obj: ObjectRow): void {
  if (!bucket.objectLock) return;
  if (obj.lockMode && obj.lockUntil !== null) {
    ctx.set('x-amz-object-lock-mode', obj.lockMode);
    ctx.set('x-amz-object-lock-retain-until-date', new Date(obj.lockUntil).toISOString());
  }
  ctx.set('x-amz-object-lock-legal-hold', obj.legalHold ? 'ON' : 'OFF');
}
