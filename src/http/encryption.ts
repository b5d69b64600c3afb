// Server-side encryption headers, read from a plain header record (lower-case names) so that
// PutObject, multipart, copies and POST Object's form fields go through the same rules. The
// storage side decides what they mean (src/storage/encryption.ts); S3's errors are chosen here.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { S3Error } from '../s3/errors.js';
import type { CustomerKey, WriteEncryption } from '../storage/encryption.js';
import type { EncryptionColumns } from '../store/types.js';
import type { S3Context } from './context.js';

export type HeaderRecord = Record<string, string | undefined>;

const SSE = 'x-amz-server-side-encryption';
const CUSTOMER = 'x-amz-server-side-encryption-customer-';
const COPY_CUSTOMER = 'x-amz-copy-source-server-side-encryption-customer-';

/** The request's headers as a plain record (repeated headers joined, by Node). */
export function headerRecord(ctx: S3Context): HeaderRecord {
  // Node's parsed headers as they are, no copy per request: it joins repeated headers into one
  // string, and the only one it keeps as an array (set-cookie) is none that S3 parsing reads.
  return ctx.req.headers as HeaderRecord;
}

/** Whether the request came over TLS (as aws:SecureTransport decides it). */
export function isSecure(ctx: S3Context): boolean {
  return (ctx.req.socket as TLSSocket).encrypted === true;
}

/**
 * The SSE-C key of a request (`prefix`: the request's own or the copy source's headers), or
 * undefined when it has none. S3's answers: any of the three headers over plain HTTP is 400
 * InvalidRequest; an algorithm other than AES256 is InvalidEncryptionAlgorithmError; a missing or
 * malformed key or MD5, or an MD5 that does not match the key, is 400 InvalidArgument.
 */
export function customerKey(headers: HeaderRecord, secure: boolean, prefix = CUSTOMER): CustomerKey | undefined {
  const algorithm = headers[`${prefix}algorithm`];
  const key = headers[`${prefix}key`];
  const md5 = headers[`${prefix}key-md5`];
  if (algorithm === undefined && key === undefined && md5 === undefined) return undefined;
  if (!secure) throw new S3Error('InvalidRequest', {}, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  const arg = (name: string, message: string, value?: string) => new S3Error('InvalidArgument', { ArgumentName: `${prefix}${name}`, ...(value !== undefined ? { ArgumentValue: value } : {}) }, message);
  if (algorithm === undefined) throw arg('algorithm', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.');
  if (algorithm.trim() !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError', { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm });
  if (key === undefined || key.trim() === '') throw arg('key', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
  const raw = Buffer.from(key.trim(), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key.trim()) throw arg('key', 'The secret key was invalid for the specified algorithm.');
  if (md5 === undefined || md5.trim() === '') throw arg('key-MD5', 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.');
  const actual = createHash('md5').update(raw).digest('base64');
  if (md5.trim() !== actual) throw arg('key-MD5', 'The calculated MD5 hash of the key did not match the hash that was provided.');
  return { key: raw, keyMd5: actual };
}

/** The copy source's SSE-C key (x-amz-copy-source-server-side-encryption-customer-*). */
export function copySourceKey(headers: HeaderRecord, secure: boolean): CustomerKey | undefined {
  return customerKey(headers, secure, COPY_CUSTOMER);
}

/**
 * What a write asks for: x-amz-server-side-encryption (AES256; the refusal table already
 * refused aws:kms and unknown values) or SSE-C; both at once is 400 InvalidArgument.
 */
export function writeEncryption(headers: HeaderRecord, secure: boolean): WriteEncryption | undefined {
  const sse = headers[SSE]?.trim();
  const customer = customerKey(headers, secure);
  if (customer && sse !== undefined) {
    throw new S3Error('InvalidArgument', { ArgumentName: SSE, ArgumentValue: sse }, 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
  }
  if (customer) return { kind: 'SSE-C', customer };
  if (sse === undefined) return undefined;
  if (sse !== 'AES256') throw new S3Error('InvalidArgument', { ArgumentName: SSE, ArgumentValue: sse }, 'The encryption method specified is not supported');
  return { kind: 'AES256' };
}

/** The encryption headers S3 answers with for a version or an upload. */
export function setEncryptionHeaders(ctx: S3Context, columns: EncryptionColumns): void {
  if (columns.encryption === 'AES256') ctx.set(SSE, 'AES256');
  else if (columns.encryption === 'SSE-C') {
    ctx.set(`${CUSTOMER}algorithm`, 'AES256');
    if (columns.sseCustomerKeyMd5) ctx.set(`${CUSTOMER}key-MD5`, columns.sseCustomerKeyMd5);
  }
}
