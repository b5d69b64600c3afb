import { S3Error } from '../s3/errors.js';
import { VersionChangedError } from '../store/types.js';

/**
 * The version a read looked up was overwritten in place just before its chunks were read (a race
 * of microseconds): nothing was sent yet, and every client retries a 500.
 */
export function changedDuringRead(err: unknown): never {
  if (err instanceof VersionChangedError) throw new S3Error('InternalError', {}, 'The object was overwritten as this read began. Please try again.');
  throw err;
}
