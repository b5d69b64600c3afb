import { S3Error } from '../../src/s3/errors.js';

/** The S3Error a call throws (undefined when it does not throw; other errors propagate). */
export function err(fn: () => unknown): S3Error | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  return undefined;
}

/** The S3 error code a call throws, or undefined. */
export function code(fn: () => unknown): string | undefined {
  return err(fn)?.code;
}
