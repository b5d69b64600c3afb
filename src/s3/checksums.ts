// S3 additional checksums (x-amz-checksum-*): algorithms, hashers and header parsing.
// No I/O here. Every hasher is native: the data path runs at disk speed, and the pure-JS
// CRCs run far below it.
import crypto, { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { checksums as crt } from 'aws-crt';
import { S3Error } from './errors.js';

/**
 * crypto.hash (Node >= 20.12; package.json asks for >= 20.15): a digest in one call, without a
 * Hash object. For short inputs (a signature's texts, a 4 KiB body) that object is most of the
 * cost. @types/node does not declare it yet.
 */
export const hashOnce = (crypto as unknown as { hash: { (alg: string, data: string | Buffer, enc: 'hex'): string; (alg: string, data: string | Buffer, enc: 'buffer'): Buffer } }).hash;

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
]);

export interface Hasher {
  update(data: Buffer): void;
  /** Raw digest bytes; CRCs are big-endian, as S3 base64-encodes them. */
  digest(): Buffer;
}

/** Raw digest length of each algorithm. */
export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** A 32-bit CRC as S3 sends it (base64 of these 4 bytes): big-endian. */
export function crc32Bytes(crc: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(crc >>> 0, 0);
  return out;
}

function crc32Hasher(fn: (data: Buffer, previous?: number) => number): Hasher {
  let crc = 0;
  return {
    update(data) {
      // zlib treats a NULL data pointer (which an empty Buffer may have) as "give the initial
      // value" and returns 0, wiping the running CRC: an empty piece must change nothing.
      if (data.length === 0) return;
      crc = fn(data, crc);
    },
    digest() {
      return crc32Bytes(crc);
    },
  };
}

function crc64nvmeHasher(): Hasher {
  // aws-crt carries the running CRC64 as a DataView; undefined means "start".
  let state: DataView | undefined;
  return {
    update(data) {
      state = crt.crc64nvme(data, state);
    },
    digest() {
      if (!state) return Buffer.alloc(8);
      return Buffer.from(new Uint8Array(state.buffer, state.byteOffset, 8));
    },
  };
}

function cryptoHasher(name: 'sha1' | 'sha256'): Hasher {
  const h = createHash(name);
  return {
    update(data) {
      h.update(data);
    },
    digest() {
      return h.digest();
    },
  };
}

export function createHasher(alg: ChecksumAlgorithm): Hasher {
  switch (alg) {
    case 'CRC32':
      return crc32Hasher((d, p) => zlib.crc32(d, p));
    case 'CRC32C':
      return crc32Hasher((d, p) => crt.crc32c(d, p));
    case 'CRC64NVME':
      return crc64nvmeHasher();
    case 'SHA1':
      return cryptoHasher('sha1');
    case 'SHA256':
      return cryptoHasher('sha256');
  }
}

/** CRC32C of a chunk, recorded in SQLite and re-checked on every read. */
export function crc32c(data: Buffer, previous?: number): number {
  return crt.crc32c(data, previous) >>> 0;
}

export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

export function parseChecksumAlgorithm(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const upper = value.trim().toUpperCase();
  const found = CHECKSUM_ALGORITHMS.find((a) => a === upper);
  if (!found) {
    throw new S3Error(
      'InvalidRequest',
      {},
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  }
  return found;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The one x-amz-checksum-<alg> value a request carries, if any. Only algorithm-named
 * headers count: x-amz-checksum-type / -algorithm / -mode are other things.
 */
export function checksumFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  /** CompleteMultipartUpload: a COMPOSITE checksum may carry its "-<part count>" suffix. */
  opts: { partCount?: boolean } = {},
): { algorithm: ChecksumAlgorithm; expected: string } | undefined {
  let result: { algorithm: ChecksumAlgorithm; expected: string } | undefined;
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-checksum-')) continue;
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === lower);
    if (!algorithm) continue;
    if (result || (Array.isArray(raw) && raw.length !== 1)) {
      throw new S3Error(
        'InvalidRequest',
        {},
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    }
    const value = (Array.isArray(raw) ? raw[0] : raw).trim();
    const digest = opts.partCount ? value.replace(/-[1-9]\d{0,4}$/, '') : value;
    if (!BASE64.test(digest) || Buffer.from(digest, 'base64').length !== DIGEST_BYTES[algorithm]) {
      throw new S3Error('InvalidRequest', {}, `Value for ${lower} header is invalid.`);
    }
    result = { algorithm, expected: value };
  }
  return result;
}
