import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { copySourceKey, customerKey, writeEncryption } from '../../src/http/encryption.js';
import { S3Error } from '../../src/s3/errors.js';
import { parseEncryptionConfiguration } from '../../src/s3/encryption-xml.js';

const key = randomBytes(32);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const sseC = (k = key, over: Record<string, string | undefined> = {}) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': k.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': md5(k),
  ...over,
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'ok';
};

describe('SSE headers (src/http/encryption.ts)', () => {
  it('reads an SSE-C key over TLS, and SSE-S3', () => {
    expect(customerKey(sseC(), true)).toEqual({ key, keyMd5: md5(key) });
    expect(writeEncryption({ 'x-amz-server-side-encryption': 'AES256' }, false)).toEqual({ kind: 'AES256' });
    expect(writeEncryption({}, false)).toBeUndefined();
    expect(writeEncryption(sseC(), true)).toEqual({ kind: 'SSE-C', customer: { key, keyMd5: md5(key) } });
  });
  it('answers S3\'s errors for bad SSE-C input', () => {
    expect(codeOf(() => customerKey(sseC(), false))).toBe('400 InvalidRequest');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }), true))).toBe('400 InvalidEncryptionAlgorithmError');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-algorithm': undefined }), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-key': undefined }), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => customerKey(sseC(randomBytes(31)), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-key': 'not base64!' }), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-key-md5': undefined }), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => customerKey(sseC(key, { 'x-amz-server-side-encryption-customer-key-md5': md5(randomBytes(32)) }), true))).toBe('400 InvalidArgument');
    expect(codeOf(() => writeEncryption({ ...sseC(), 'x-amz-server-side-encryption': 'AES256' }, true))).toBe('400 InvalidArgument');
  });
  it('reads the copy source\'s key from its own headers', () => {
    const h = Object.fromEntries(Object.entries(sseC()).map(([k, v]) => [k.replace('x-amz-server-side', 'x-amz-copy-source-server-side'), v]));
    expect(copySourceKey(h, true)).toEqual({ key, keyMd5: md5(key) });
    expect(customerKey(h, true)).toBeUndefined();
  });
});

describe('ServerSideEncryptionConfiguration (src/s3/encryption-xml.ts)', () => {
  const doc = (inner: string) => `<ServerSideEncryptionConfiguration><Rule>${inner}</Rule></ServerSideEncryptionConfiguration>`;
  it('takes AES256 and refuses KMS, bucket keys and malformed documents', () => {
    expect(parseEncryptionConfiguration(doc('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled>'))).toBe('AES256');
    expect(codeOf(() => parseEncryptionConfiguration(doc('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault>')))).toBe('501 NotImplemented');
    expect(codeOf(() => parseEncryptionConfiguration(doc('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms:dsse</SSEAlgorithm></ApplyServerSideEncryptionByDefault>')))).toBe('501 NotImplemented');
    expect(codeOf(() => parseEncryptionConfiguration(doc('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>')))).toBe('501 NotImplemented');
    expect(codeOf(() => parseEncryptionConfiguration(doc('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault>')))).toBe('400 MalformedXML');
    expect(codeOf(() => parseEncryptionConfiguration('<ServerSideEncryptionConfiguration/>'))).toBe('400 MalformedXML');
  });
});
