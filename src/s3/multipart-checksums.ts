// Multipart upload checksums: which checksum type an upload gets, the COMPOSITE
// "checksum of checksums", the FULL_OBJECT CRC combined from the part CRCs without the
// data, and the multipart ETag. Pure functions, no I/O.
//
// S3 ("Checking object integrity in Amazon S3"):
//   algorithm   FULL_OBJECT  COMPOSITE
//   CRC64NVME   yes          no
//   CRC32       yes          yes
//   CRC32C      yes          yes
//   SHA1        no           yes
//   SHA256      no           yes
// A COMPOSITE value is base64(hash(concat(raw part checksums))) + '-' + partCount; a
// FULL_OBJECT value is the plain checksum of the whole object, no suffix.
import { createHash } from 'node:crypto';
import { createHasher, DIGEST_BYTES, type ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './errors.js';

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

const SUPPORTED: Record<ChecksumAlgorithm, readonly ChecksumType[]> = {
  CRC32: ['COMPOSITE', 'FULL_OBJECT'],
  CRC32C: ['COMPOSITE', 'FULL_OBJECT'],
  CRC64NVME: ['FULL_OBJECT'],
  SHA1: ['COMPOSITE'],
  SHA256: ['COMPOSITE'],
};


/**
 * The checksum type of a multipart upload, from CreateMultipartUpload's algorithm and its
 * x-amz-checksum-type header (undefined or blank: absent). Without the header, CRC64NVME
 * gets FULL_OBJECT and every other algorithm COMPOSITE. The header value is matched
 * case-insensitively. Throws S3Error('InvalidRequest') with S3's messages for an unknown
 * type or a type the algorithm doesn't support.
 */
export function resolveChecksumType(alg: ChecksumAlgorithm, requested: string | undefined): ChecksumType {
  const supported = SUPPORTED[alg];
  if (requested === undefined || requested.trim() === '') {
    return supported.includes('COMPOSITE') ? 'COMPOSITE' : 'FULL_OBJECT';
  }
  const type = requested.trim().toUpperCase();
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', {}, 'Value for x-amz-checksum-type header is invalid.');
  }
  if (!supported.includes(type)) {
    throw new S3Error(
      'InvalidRequest',
      {},
      `The ${type} checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`,
    );
  }
  return type;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeChecksum(alg: ChecksumAlgorithm, value: string, index: number): Buffer {
  const raw = BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
  if (!raw || raw.length !== DIGEST_BYTES[alg]) {
    throw new RangeError(`part ${index + 1}: ${JSON.stringify(value)} is not a base64 ${alg} checksum`);
  }
  return raw;
}

/**
 * The COMPOSITE checksum of a multipart object: the same algorithm over the concatenated
 * raw (decoded) part checksums, base64, then '-' and the part count. Parts in part order.
 * Throws RangeError for no parts or a part checksum that isn't base64 of the right length.
 */
export function compositeChecksum(alg: ChecksumAlgorithm, partChecksumsBase64: string[]): string {
  if (partChecksumsBase64.length === 0) throw new RangeError('a composite checksum needs at least one part');
  const hasher = createHasher(alg);
  partChecksumsBase64.forEach((value, i) => hasher.update(decodeChecksum(alg, value, i)));
  return `${hasher.digest().toString('base64')}-${partChecksumsBase64.length}`;
}

// ---------------------------------------------------------------------------------------
// CRC combination.
//
// All three CRCs are reflected, with init and xorout all ones, so for data A then B:
//   crc(AB) = crc(A) * x^(8·|B|) mod P  xor  crc(B)
// (zlib's crc32_combine). Values are kept in the reflected representation, where the
// top bit is x^0 and bit 0 is x^(W-1). x^(8n) mod P is built from the base-256 digits of
// n, from lazily filled tables of x^(8·d·256^j) mod P: a few multiplications per part,
// and one per part when sizes repeat (an operator is cached per distinct size). Each
// multiplication is at most W shift-and-xor steps. The 64-bit field is held as two
// uint32 halves: BigInt is far slower here.

interface Field {
  /** The reflected polynomial, high and low 32-bit halves (hi is 0 for a 32-bit CRC). */
  readonly polyHi: number;
  readonly polyLo: number;
  readonly width: 32 | 64;
  /** x^0, the multiplicative identity. */
  readonly one: [number, number];
  /** digits[j][d] = x^(8·d·256^j) mod P for d = 0..255; position j filled on first use. */
  readonly digits: Array<Array<[number, number]>>;
}

function field(width: 32 | 64, polyHi: number, polyLo: number): Field {
  const one: [number, number] = width === 32 ? [0, 0x80000000] : [0x80000000, 0];
  return { width, polyHi, polyLo, one, digits: [] };
}

const FIELDS: Record<CrcAlgorithm, Field> = {
  CRC32: field(32, 0, 0xedb88320),
  CRC32C: field(32, 0, 0x82f63b78),
  // CRC-64/NVME: normal polynomial 0xAD93D23594C93659, bit-reversed 0x9A6C9329AC4BC9B5.
  CRC64NVME: field(64, 0x9a6c9329, 0xac4bc9b5),
};

/** a * b mod P, 32-bit reflected (zlib's multmodp). */
function mul32(a: number, b: number, poly: number): number {
  if (a === 0) return 0;
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ poly : b >>> 1;
  }
  return p >>> 0;
}

/** a * b mod P, 64-bit reflected, as [hi, lo] halves. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number, f: Field): [number, number] {
  let pHi = 0;
  let pLo = 0;
  // Take a's terms from x^0 (the top bit) downward, shifting a left as they are used, while
  // b is multiplied by x each step; stop once a has no terms left.
  while (aHi !== 0 || aLo !== 0) {
    if (aHi & 0x80000000) {
      pHi ^= bHi;
      pLo ^= bLo;
    }
    aHi = ((aHi << 1) | (aLo >>> 31)) >>> 0;
    aLo = (aLo << 1) >>> 0;
    const carry = bLo & 1;
    bLo = ((bLo >>> 1) | ((bHi & 1) << 31)) >>> 0;
    bHi >>>= 1;
    if (carry) {
      bHi = (bHi ^ f.polyHi) >>> 0;
      bLo = (bLo ^ f.polyLo) >>> 0;
    }
  }
  return [pHi >>> 0, pLo >>> 0];
}

function mul(f: Field, a: [number, number], b: [number, number]): [number, number] {
  return f.width === 32 ? [0, mul32(a[1], b[1], f.polyLo)] : mul64(a[0], a[1], b[0], b[1], f);
}

/** The table for base-256 digit position j (sizes below 2^53 need j <= 6). */
function digitTable(f: Field, j: number): Array<[number, number]> {
  while (f.digits.length <= j) {
    const i = f.digits.length;
    let step: [number, number]; // x^(8·256^i)
    if (i === 0) {
      // x^8: x^1 is the bit just below x^0, then squared three times.
      step = f.width === 32 ? [0, 0x40000000] : [0x40000000, 0];
      for (let s = 0; s < 3; s++) step = mul(f, step, step);
    } else {
      const prev = f.digits[i - 1]!;
      step = mul(f, prev[255]!, prev[1]!);
    }
    const table: Array<[number, number]> = [f.one, step];
    for (let d = 2; d < 256; d++) table.push(mul(f, table[d - 1]!, step));
    f.digits.push(table);
  }
  return f.digits[j]!;
}

/** x^(8n) mod P: appending n zero bytes. n is a safe integer, so no 32-bit bit operations on it. */
function shiftOperator(f: Field, n: number): [number, number] {
  let result: [number, number] | undefined;
  for (let j = 0; n > 0; j++) {
    const d = n % 256;
    if (d !== 0) {
      const term = digitTable(f, j)[d]!;
      result = result ? mul(f, result, term) : term;
    }
    n = Math.floor(n / 256);
  }
  return result ?? f.one;
}

/**
 * The FULL_OBJECT CRC of a multipart object from its parts' CRCs and byte lengths, without
 * the data. Parts in part order; zero-length parts are fine (their CRC is 0). Returns base64
 * of the big-endian CRC (4 or 8 bytes), no suffix. No parts: the CRC of the empty object.
 * Throws RangeError for a malformed part checksum or a size that isn't a non-negative
 * safe integer.
 */
export function combineCrcs(alg: CrcAlgorithm, parts: Array<{ checksumBase64: string; size: number }>): string {
  const f = FIELDS[alg];
  // One operator per distinct size: most uploads repeat one part size.
  const operators = new Map<number, [number, number]>();
  let crc: [number, number] = [0, 0];
  parts.forEach((part, i) => {
    const { size } = part;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`part ${i + 1}: size ${String(size)} is not a byte count`);
    }
    const raw = decodeChecksum(alg, part.checksumBase64, i);
    const partCrc: [number, number] =
      f.width === 32 ? [0, raw.readUInt32BE(0)] : [raw.readUInt32BE(0), raw.readUInt32BE(4)];
    let op = operators.get(size);
    if (!op) {
      op = shiftOperator(f, size);
      operators.set(size, op);
    }
    const shifted = mul(f, op, crc);
    crc = [(shifted[0] ^ partCrc[0]) >>> 0, (shifted[1] ^ partCrc[1]) >>> 0];
  });
  const out = Buffer.allocUnsafe(f.width / 8);
  if (f.width === 32) {
    out.writeUInt32BE(crc[1], 0);
  } else {
    out.writeUInt32BE(crc[0], 0);
    out.writeUInt32BE(crc[1], 4);
  }
  return out.toString('base64');
}

const HEX_MD5 = /^[0-9a-fA-F]{32}$/;

/**
 * The ETag of a multipart object: '"' + hex(md5(concat(binary part MD5s))) + '-' + N + '"'.
 * Part ETags in part order, quoted ("…") as stored or bare hex. Throws RangeError for no
 * parts or an ETag that isn't an MD5.
 */
export function multipartEtag(partEtags: string[]): string {
  if (partEtags.length === 0) throw new RangeError('a multipart ETag needs at least one part');
  const md5 = createHash('md5');
  partEtags.forEach((etag, i) => {
    const trimmed = etag.trim();
    const quoted = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"');
    const hex = quoted ? trimmed.slice(1, -1) : trimmed;
    if (!HEX_MD5.test(hex)) throw new RangeError(`part ${i + 1}: ${JSON.stringify(etag)} is not an MD5 ETag`);
    md5.update(Buffer.from(hex, 'hex'));
  });
  return `"${md5.digest('hex')}-${partEtags.length}"`;
}
