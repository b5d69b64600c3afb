import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_ALGORITHMS,
  checksumFromHeaders,
  checksumHeader,
  crc32c,
  createHasher,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../src/s3/checksums.js';
import { S3Error } from '../../src/s3/errors.js';

const CHECK = Buffer.from('123456789');
const VECTORS: Record<ChecksumAlgorithm, string> = {
  CRC32: 'cbf43926',
  CRC32C: 'e3069283',
  CRC64NVME: 'ae8b14860a799888',
  SHA1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441',
  SHA256: '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
};
const EMPTY: Record<ChecksumAlgorithm, string> = {
  CRC32: '00000000',
  CRC32C: '00000000',
  CRC64NVME: '0000000000000000',
  SHA1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  SHA256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

function digest(alg: ChecksumAlgorithm, ...pieces: Buffer[]): string {
  const h = createHasher(alg);
  for (const p of pieces) h.update(p);
  return h.digest().toString('hex');
}

describe('hashers', () => {
  it.each(CHECKSUM_ALGORITHMS)('%s check value of "123456789"', (alg) => {
    expect(digest(alg, CHECK)).toBe(VECTORS[alg]);
  });

  it.each(CHECKSUM_ALGORITHMS)('%s of nothing', (alg) => {
    expect(digest(alg)).toBe(EMPTY[alg]);
  });

  it.each(CHECKSUM_ALGORITHMS)('%s incremental equals one-shot', (alg) => {
    const data = randomBytes(1 << 20);
    const pieces = [data.subarray(0, 1), data.subarray(1, 7777), data.subarray(7777, 500_000), data.subarray(500_000)];
    expect(digest(alg, ...pieces)).toBe(digest(alg, data));
  });

  it.each(CHECKSUM_ALGORITHMS)('%s: an empty piece (even one without memory behind it) changes nothing', (alg) => {
    const data = randomBytes(4096);
    // randomBytes(0) has a NULL data pointer, which zlib's crc32 takes as "start over".
    expect(digest(alg, data.subarray(0, 100), randomBytes(0), Buffer.alloc(0), data.subarray(100))).toBe(digest(alg, data));
  });

  it('SHA-256 of "abc"', () => {
    expect(digest('SHA256', Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digest('SHA1', Buffer.from('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('crc32c helper is unsigned and chains', () => {
    expect(crc32c(CHECK)).toBe(0xe3069283);
    expect(crc32c(CHECK.subarray(3), crc32c(CHECK.subarray(0, 3)))).toBe(0xe3069283);
  });
});

describe('header helpers', () => {
  it('names headers', () => {
    expect(checksumHeader('CRC64NVME')).toBe('x-amz-checksum-crc64nvme');
    expect(checksumHeader('SHA256')).toBe('x-amz-checksum-sha256');
  });

  it('parses algorithm names case-insensitively', () => {
    expect(parseChecksumAlgorithm('crc32c')).toBe('CRC32C');
    expect(parseChecksumAlgorithm('Sha256')).toBe('SHA256');
    expect(parseChecksumAlgorithm(undefined)).toBeUndefined();
    expect(parseChecksumAlgorithm('')).toBeUndefined();
    expect(() => parseChecksumAlgorithm('md5')).toThrow(S3Error);
    try {
      parseChecksumAlgorithm('crc16');
    } catch (e) {
      expect((e as S3Error).code).toBe('InvalidRequest');
    }
  });
});

describe('checksumFromHeaders', () => {
  const crc32 = Buffer.from(VECTORS.CRC32, 'hex').toString('base64');
  const sha256 = Buffer.from(VECTORS.SHA256, 'hex').toString('base64');

  function code(fn: () => unknown): string | undefined {
    try {
      fn();
    } catch (e) {
      return (e as S3Error).code;
    }
    return undefined;
  }

  it('finds the one checksum header and ignores the others of the family', () => {
    expect(
      checksumFromHeaders({
        'x-amz-checksum-crc32': crc32,
        'x-amz-checksum-type': 'FULL_OBJECT',
        'x-amz-checksum-algorithm': 'CRC32',
        'x-amz-checksum-mode': 'ENABLED',
        'content-type': 'text/plain',
      }),
    ).toEqual({ algorithm: 'CRC32', expected: crc32 });
    expect(checksumFromHeaders({ 'X-Amz-Checksum-SHA256': sha256 })).toEqual({ algorithm: 'SHA256', expected: sha256 });
    expect(checksumFromHeaders({ 'content-length': '3', 'x-amz-checksum-crc32': undefined })).toBeUndefined();
  });

  it('rejects more than one checksum', () => {
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc32': crc32, 'x-amz-checksum-sha256': sha256 }))).toBe(
      'InvalidRequest',
    );
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc32': [crc32, crc32] }))).toBe('InvalidRequest');
  });

  it('rejects bad base64 and wrong digest lengths', () => {
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc32': 'not base64!' }))).toBe('InvalidRequest');
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc32': sha256 }))).toBe('InvalidRequest');
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-sha256': crc32 }))).toBe('InvalidRequest');
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc64nvme': '' }))).toBe('InvalidRequest');
    expect(code(() => checksumFromHeaders({ 'x-amz-checksum-crc32': 'y/Q5Jg' }))).toBe('InvalidRequest');
  });
});
