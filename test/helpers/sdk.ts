import { S3ServiceException } from '@aws-sdk/client-s3';

/** Reads a GetObject body whole. */
export async function bodyOf(res: { Body?: unknown }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of res.Body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

/** The S3 error a request fails with; throws if it succeeds or fails some other way. */
export async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}
