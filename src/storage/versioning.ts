import { S3Error } from '../s3/errors.js';
import { newVersionId } from '../s3/version-id.js';
import { defaultRetention } from '../s3/object-lock.js';
import { writeConditionError, writeConditionHolds } from '../s3/conditional.js';
import type { BucketRow, LockColumns, LockMode, MetadataStore, WriteCondition } from '../store/metadata-store.js';

// What a write becomes under its bucket's versioning and object lock: the version id it gets,
// the lock it carries, the precondition checked before its body is read. The object and
// multipart services share these; the store applies them atomically.

/** The version id of a new version: a fresh one while versioning is Enabled, else 'null'. */
export function versionIdFor(bucket: BucketRow): string {
  return bucket.versioning === 'Enabled' ? newVersionId() : 'null';
}

/** The delete marker DeleteObject adds without a versionId (none in an unversioned bucket). */
export function markerVersionIdFor(bucket: BucketRow): string | undefined {
  if (bucket.versioning === 'Enabled') return newVersionId();
  return bucket.versioning === 'Suspended' ? 'null' : undefined;
}

/** Lock headers of a write (x-amz-object-lock-*), parsed; validated by resolveLock. */
export interface LockRequest {
  mode?: LockMode;
  until?: number;
  legalHold?: boolean;
}

/**
 * The lock a new version carries: the request's, else the bucket's default retention. A request
 * that names a lock on a bucket without object lock is refused, as are a mode without a date
 * (or the reverse), a date in the past, and lock headers without an integrity check (S3
 * requires Content-MD5 or an x-amz-checksum-* with them).
 */
export function resolveLock(
  bucket: BucketRow,
  req: LockRequest | undefined,
  opts: { hasChecksum: boolean; now: number; /** false: the caller applies the default later (uploads, at completion) */ applyDefault?: boolean },
): Partial<LockColumns> {
  const asked = req && (req.mode !== undefined || req.until !== undefined || req.legalHold !== undefined);
  if (asked) {
    if (!bucket.objectLock) throw new S3Error('InvalidRequest', {}, 'Bucket is missing Object Lock Configuration');
    if ((req.mode === undefined) !== (req.until === undefined)) {
      throw new S3Error('InvalidArgument', {}, 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    }
    if (req.until !== undefined && req.until <= opts.now) throw new S3Error('InvalidArgument', {}, 'The retain until date must be in the future!');
    if (!opts.hasChecksum) {
      throw new S3Error('InvalidRequest', {}, 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
    }
  }
  const out: Partial<LockColumns> = {};
  if (req?.mode !== undefined) {
    out.lockMode = req.mode;
    out.lockUntil = req.until!;
  } else if (bucket.objectLock && opts.applyDefault !== false) {
    const d = defaultRetention(bucket, opts.now);
    if (d) Object.assign(out, d);
  }
  if (req?.legalHold !== undefined) out.legalHold = req.legalHold;
  return out;
}

/**
 * A write's precondition against the current version before its body is read: 412
 * PreconditionFailed, or 404 NoSuchKey for If-Match on a key with no current version. The
 * store checks it again at commit (409 ConditionalRequestConflict if it no longer holds).
 */
export async function precheckCondition(meta: MetadataStore, bucket: BucketRow, key: string, condition: WriteCondition | undefined): Promise<void> {
  if (!condition) return;
  const outcome = writeConditionHolds(condition, await meta.objects.get(bucket.id, key));
  if (outcome !== 'ok') throw writeConditionError(outcome, key);
}
