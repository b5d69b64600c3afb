import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createHasher, crc32c, type ChecksumAlgorithm } from '../../src/s3/checksums.js';
import { S3Error } from '../../src/s3/errors.js';
import {
  combineCrcs,
  compositeChecksum,
  multipartEtag,
  resolveChecksumType,
  type ChecksumType,
} from '../../src/s3/multipart-checksums.js';

type Crc = 'CRC32' | 'CRC32C' | 'CRC64NVME';
const CRCS: Crc[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

function checksumOf(alg: ChecksumAlgorithm, data: Buffer): string {
  const h = createHasher(alg);
  h.update(data);
  return h.digest().toString('base64');
}

/** Deterministic PRNG (mulberry32), so a failing split can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function split(data: Buffer, sizes: number[]): Buffer[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== data.length) throw new Error(`sizes add up to ${total}, not ${data.length}`);
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(data.subarray(at, at + size));
    at += size;
  }
  return parts;
}

function partsOf(alg: Crc, pieces: Buffer[]): Array<{ checksumBase64: string; size: number }> {
  return pieces.map((p) => ({ checksumBase64: checksumOf(alg, p), size: p.length }));
}

/** Whole-object CRC vs. the CRC combined from the parts cut at `sizes`. */
function expectCombines(alg: Crc, data: Buffer, sizes: number[]): void {
  expect(combineCrcs(alg, partsOf(alg, split(data, sizes)))).toBe(checksumOf(alg, data));
}

// Parts of "The quick brown fox jumps over the lazy dog", with values computed outside
// this code base (Python: zlib.crc32, hashlib, bitwise CRC-32C / CRC-64/NVME).
const FOX = ['The quick brown fox ', 'jumps over ', 'the lazy dog'].map((s) => Buffer.from(s));
const FOX_VECTORS: Record<ChecksumAlgorithm, { parts: string[]; composite: string; full: string }> = {
  CRC32: { parts: ['iLB14g==', 'L4EkxA==', 'KRBX4w=='], composite: 'xU/lUQ==-3', full: 'QU+jOQ==' },
  CRC32C: { parts: ['RmdbuQ==', 'yltTwA==', 'rE67xg=='], composite: 'jbcjnA==-3', full: 'ImIEBA==' },
  CRC64NVME: {
    parts: ['e+WXsHOhtoM=', 'wZj0wP46/xQ=', 'QLhF/tMVteg='],
    composite: '5O0l9pD+RPI=-3',
    full: '12xUBUlUwUM=',
  },
  SHA1: {
    parts: ['PjQ2oHPnLFMAzcps5cMh5J38QS4=', 'UI0bpkyszOQj3URYJUBsJmnymfE=', 'u6wPzXHZ9zmmpzd1TlJOn4Rsmc4='],
    composite: '35CNe/xk6dFHFPTTHUlYdG67E18=-3',
    full: 'L9ThxnotKPzthJ7hu3bnORuT6xI=',
  },
  SHA256: {
    parts: [
      'sp1m5W7ZDM6bAWXEP+3sYStgoHGXTYvkUT4YWA1Vtb0=',
      'Z4DlJrsmYa+i63wlRfXeBauw4n6dC4UPduR6HCkschY=',
      '5vbP1U3JaQxDn/Xw16ozdlqqcztI20X4IlwSXDLr8ks=',
    ],
    composite: 'zaqbqwxblBztGfNY1qTEjrTPj3X1KS6Vofi9Umh9oHU=-3',
    full: '16j7swfXgJRpypq8sAguT41WUeRtPNt2LQLQvzfJ5ZI=',
  },
};

// CRC catalogue check values of "123456789", big-endian hex.
const CHECK_VALUES: Record<Crc, string> = {
  CRC32: 'cbf43926',
  CRC32C: 'e3069283',
  CRC64NVME: 'ae8b14860a799888',
};

describe('resolveChecksumType', () => {
  const table: Array<[ChecksumAlgorithm, string | undefined, ChecksumType | string]> = [
    ['CRC32', undefined, 'COMPOSITE'],
    ['CRC32', '', 'COMPOSITE'],
    ['CRC32', '  ', 'COMPOSITE'],
    ['CRC32', 'COMPOSITE', 'COMPOSITE'],
    ['CRC32', 'FULL_OBJECT', 'FULL_OBJECT'],
    ['CRC32C', undefined, 'COMPOSITE'],
    ['CRC32C', 'COMPOSITE', 'COMPOSITE'],
    ['CRC32C', 'FULL_OBJECT', 'FULL_OBJECT'],
    ['CRC32C', 'full_object', 'FULL_OBJECT'],
    ['CRC64NVME', undefined, 'FULL_OBJECT'],
    ['CRC64NVME', 'FULL_OBJECT', 'FULL_OBJECT'],
    ['CRC64NVME', 'COMPOSITE', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.'],
    ['SHA1', undefined, 'COMPOSITE'],
    ['SHA1', 'COMPOSITE', 'COMPOSITE'],
    ['SHA1', 'FULL_OBJECT', 'The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm.'],
    ['SHA256', undefined, 'COMPOSITE'],
    ['SHA256', ' composite ', 'COMPOSITE'],
    ['SHA256', 'FULL_OBJECT', 'The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.'],
    ['CRC32', 'PARTS', 'Value for x-amz-checksum-type header is invalid.'],
    ['SHA256', 'FULL-OBJECT', 'Value for x-amz-checksum-type header is invalid.'],
  ];
  it.each(table)('%s with x-amz-checksum-type %j → %s', (alg, requested, expected) => {
    if (expected === 'COMPOSITE' || expected === 'FULL_OBJECT') {
      expect(resolveChecksumType(alg, requested)).toBe(expected);
      return;
    }
    let caught: unknown;
    try {
      resolveChecksumType(alg, requested);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(S3Error);
    expect((caught as S3Error).code).toBe('InvalidRequest');
    expect((caught as S3Error).status).toBe(400);
    expect((caught as S3Error).message).toBe(expected);
  });
});

describe('compositeChecksum', () => {
  it.each(Object.keys(FOX_VECTORS) as ChecksumAlgorithm[])('%s: externally computed vector', (alg) => {
    const v = FOX_VECTORS[alg];
    expect(FOX.map((p) => checksumOf(alg, p))).toEqual(v.parts);
    expect(compositeChecksum(alg, v.parts)).toBe(v.composite);
  });

  it('SHA256 / SHA1: hash of the concatenated raw digests, recomputed with node:crypto', () => {
    const pieces = [randomBytes(1000), randomBytes(0), randomBytes(5 * 1024 + 7)];
    for (const name of ['sha256', 'sha1'] as const) {
      const raw = pieces.map((p) => createHash(name).update(p).digest());
      const expected = `${createHash(name).update(Buffer.concat(raw)).digest('base64')}-3`;
      const alg = name === 'sha256' ? 'SHA256' : 'SHA1';
      expect(compositeChecksum(alg, raw.map((r) => r.toString('base64')))).toBe(expected);
    }
  });

  it('CRC32 / CRC32C: CRC of the concatenated 4-byte big-endian CRCs', () => {
    const pieces = [randomBytes(333), randomBytes(1), randomBytes(0), randomBytes(4096)];
    const be = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n >>> 0);
      return b;
    };
    const c32 = pieces.map((p) => be(zlib.crc32(p)));
    expect(compositeChecksum('CRC32', c32.map((b) => b.toString('base64')))).toBe(
      `${be(zlib.crc32(Buffer.concat(c32))).toString('base64')}-4`,
    );
    const c32c = pieces.map((p) => be(crc32c(p)));
    expect(compositeChecksum('CRC32C', c32c.map((b) => b.toString('base64')))).toBe(
      `${be(crc32c(Buffer.concat(c32c))).toString('base64')}-4`,
    );
  });

  it('one part: the checksum of the one checksum, with -1', () => {
    const part = checksumOf('SHA256', Buffer.from('solo'));
    const expected = createHash('sha256').update(Buffer.from(part, 'base64')).digest('base64');
    expect(compositeChecksum('SHA256', [part])).toBe(`${expected}-1`);
  });

  it('rejects no parts and malformed part checksums', () => {
    expect(() => compositeChecksum('CRC32', [])).toThrow(RangeError);
    expect(() => compositeChecksum('CRC32', ['not base64!'])).toThrow(RangeError);
    // A SHA256 digest offered as a CRC32, and a CRC32 offered as a SHA1.
    expect(() => compositeChecksum('CRC32', [FOX_VECTORS.SHA256.parts[0]!])).toThrow(RangeError);
    expect(() => compositeChecksum('SHA1', ['iLB14g=='])).toThrow(RangeError);
  });
});

describe('combineCrcs', () => {
  describe.each(CRCS)('%s', (alg) => {
    it('matches the catalogue check value for every split of "123456789"', () => {
      const check = Buffer.from(CHECK_VALUES[alg], 'hex').toString('base64');
      const data = Buffer.from('123456789');
      for (let cut = 0; cut <= data.length; cut++) {
        for (let cut2 = cut; cut2 <= data.length; cut2++) {
          const sizes = [cut, cut2 - cut, data.length - cut2];
          expect(combineCrcs(alg, partsOf(alg, split(data, sizes)))).toBe(check);
        }
      }
    });

    it('externally computed parts combine to the full-object value', () => {
      const v = FOX_VECTORS[alg];
      const parts = v.parts.map((checksumBase64, i) => ({ checksumBase64, size: FOX[i]!.length }));
      expect(combineCrcs(alg, parts)).toBe(v.full);
    });

    it('empty object and empty parts', () => {
      const zero = alg === 'CRC64NVME' ? 'AAAAAAAAAAA=' : 'AAAAAA==';
      expect(checksumOf(alg, Buffer.alloc(0))).toBe(zero);
      expect(combineCrcs(alg, [])).toBe(zero);
      expect(combineCrcs(alg, [{ checksumBase64: zero, size: 0 }])).toBe(zero);
      expect(combineCrcs(alg, partsOf(alg, [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)]))).toBe(zero);
    });

    it('single part is itself', () => {
      const data = randomBytes(12345);
      expectCombines(alg, data, [data.length]);
    });

    it('empty parts, 1-byte parts and uneven sizes', () => {
      const data = randomBytes(1 + 1 + 7 + 1 + 1000 + 3 + 65537 + 2);
      expectCombines(alg, data, [0, 1, 0, 1, 7, 1, 0, 0, 1000, 3, 65537, 2, 0]);
      expectCombines(alg, data, [data.length, 0]);
      expectCombines(alg, data, [0, data.length]);
      const ones = randomBytes(300);
      expectCombines(alg, ones, new Array<number>(300).fill(1));
    });

    it('random splits (seeded)', () => {
      const rand = prng(0xc0ffee ^ alg.length);
      for (let round = 0; round < 50; round++) {
        const data = randomBytes(Math.floor(rand() * 200_000));
        const sizes: number[] = [];
        let left = data.length;
        while (left > 0) {
          const r = rand();
          // Mix of empty, tiny and large parts.
          const size = r < 0.15 ? 0 : r < 0.35 ? 1 + Math.floor(rand() * 16) : Math.floor(rand() * 70_000);
          const take = Math.min(size, left);
          sizes.push(take);
          left -= take;
        }
        if (rand() < 0.5) sizes.push(0);
        expectCombines(alg, data, sizes);
      }
    });

    it('1 MiB parts with a short tail', () => {
      const MiB = 1024 * 1024;
      const data = randomBytes(5 * MiB + 4321);
      expectCombines(alg, data, [MiB, MiB, MiB, MiB, MiB, 4321]);
      expectCombines(alg, data, [3 * MiB, 0, 2 * MiB + 4321]);
    });

    it('a 64 MiB + 3 zero-filled part after data', () => {
      const head = randomBytes(777);
      const zeros = Buffer.alloc(64 * 1024 * 1024 + 3);
      const whole = Buffer.concat([head, zeros]);
      expectCombines(alg, whole, [head.length, zeros.length]);
    });

    it('sizes beyond 2^32 bytes decompose consistently', () => {
      // CRCs of 2^k zero bytes, doubled up from a real 1 MiB hash by combining.
      let zeros = { checksumBase64: checksumOf(alg, Buffer.alloc(1 << 20)), size: 1 << 20 };
      const bySize = new Map<number, string>([[zeros.size, zeros.checksumBase64]]);
      while (zeros.size < 2 ** 34) {
        zeros = { checksumBase64: combineCrcs(alg, [zeros, zeros]), size: zeros.size * 2 };
        bySize.set(zeros.size, zeros.checksumBase64);
      }
      // 2 MiB of zeros, combined, matches the real hash.
      expect(bySize.get(1 << 21)).toBe(checksumOf(alg, Buffer.alloc(1 << 21)));
      const z = (size: number) => ({ checksumBase64: bySize.get(size)!, size });
      const [a, b] = partsOf(alg, [randomBytes(100), randomBytes(33)]);
      const viaHalves = combineCrcs(alg, [a!, z(2 ** 32), z(2 ** 32), z(2 ** 33), b!]);
      const viaWhole = combineCrcs(alg, [a!, z(2 ** 34), b!]);
      expect(viaHalves).toBe(viaWhole);
      expect(combineCrcs(alg, [a!, z(2 ** 33), z(2 ** 33), b!])).toBe(viaWhole);
    });

    it('rejects malformed checksums and sizes', () => {
      const good = checksumOf(alg, Buffer.from('x'));
      const wrongWidth = alg === 'CRC64NVME' ? 'iLB14g==' : 'e+WXsHOhtoM=';
      expect(() => combineCrcs(alg, [{ checksumBase64: wrongWidth, size: 1 }])).toThrow(RangeError);
      expect(() => combineCrcs(alg, [{ checksumBase64: '%%%', size: 1 }])).toThrow(RangeError);
      expect(() => combineCrcs(alg, [{ checksumBase64: good, size: -1 }])).toThrow(RangeError);
      expect(() => combineCrcs(alg, [{ checksumBase64: good, size: 1.5 }])).toThrow(RangeError);
      expect(() => combineCrcs(alg, [{ checksumBase64: good, size: Number.NaN }])).toThrow(RangeError);
    });

    it('10,000 parts: correct, and timed', () => {
      const rand = prng(10_000 + alg.length);
      const sizes = Array.from({ length: 10_000 }, () => (rand() < 0.1 ? 0 : Math.floor(rand() * 200)));
      const data = randomBytes(sizes.reduce((s, n) => s + n, 0));
      const parts = partsOf(alg, split(data, sizes));
      const t0 = performance.now();
      const combined = combineCrcs(alg, parts);
      const ms = performance.now() - t0;
      expect(combined).toBe(checksumOf(alg, data));

      // Realistic shape, no data: 10,000 distinct multi-MiB part sizes (worst case for the
      // per-size operator cache), and 10,000 equal 8 MiB parts (the usual case).
      const distinct = parts.map((p, i) => ({ checksumBase64: p.checksumBase64, size: 5 * 2 ** 20 + i * 997 }));
      const t1 = performance.now();
      combineCrcs(alg, distinct);
      const msDistinct = performance.now() - t1;
      const equal = distinct.map((p) => ({ ...p, size: 8 * 2 ** 20 }));
      const t2 = performance.now();
      combineCrcs(alg, equal);
      const msEqual = performance.now() - t2;
      console.log(
        `${alg}: 10,000 parts combined in ${ms.toFixed(1)} ms (small random sizes), ` +
          `${msDistinct.toFixed(1)} ms (distinct ~5 MiB sizes), ${msEqual.toFixed(1)} ms (equal 8 MiB sizes)`,
      );
    });
  });
});

describe('multipartEtag', () => {
  it('externally computed three-part ETag', () => {
    const etags = [
      'c4314972a672ded8759cafdca9af3238',
      '85fc5c8ff9e2ceb5f9c21af48c50797f',
      '512d2a9f91ebcdc39cc34428532abe24',
    ];
    expect(FOX.map((p) => createHash('md5').update(p).digest('hex'))).toEqual(etags);
    expect(multipartEtag(etags)).toBe('"29c86a1fb7cd57ab41849af95d74d794-3"');
  });

  it('two parts, recomputed with node:crypto; quoted, bare and upper-case ETags agree', () => {
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(1234);
    const md5s = [p1, p2].map((p) => createHash('md5').update(p).digest());
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-2"`;
    const hex = md5s.map((m) => m.toString('hex'));
    expect(multipartEtag(hex.map((h) => `"${h}"`))).toBe(expected);
    expect(multipartEtag(hex)).toBe(expected);
    expect(multipartEtag([`"${hex[0]!.toUpperCase()}"`, hex[1]!])).toBe(expected);
  });

  it('rejects no parts and ETags that are not MD5s', () => {
    expect(() => multipartEtag([])).toThrow(RangeError);
    expect(() => multipartEtag(['"abc"'])).toThrow(RangeError);
    // A multipart ETag is not a part ETag.
    expect(() => multipartEtag(['"29c86a1fb7cd57ab41849af95d74d794-3"'])).toThrow(RangeError);
    expect(() => multipartEtag(['"c4314972a672ded8759cafdca9af3238'])).toThrow(RangeError);
  });
});
