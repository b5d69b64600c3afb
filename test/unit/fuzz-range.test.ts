import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/s3/range.js';
import { S3Error } from '../../src/s3/errors.js';
import { fuzzParams } from './fuzz-params.js';

// Property-based fuzzing of the Range parser against a model written from RFC 7233 as S3
// applies it: one byte range; a header that does not parse is ignored (200, whole object);
// first > last is not a valid range (ignored); a first byte at or past the end, a suffix of 0,
// and any range on an empty object are 416 with Content-Range: bytes */size.

type Result = { start: number; end: number } | undefined | 'unsatisfiable';

function outcome(header: string | undefined, size: number): Result {
  try {
    return parseRange(header, size);
  } catch (err) {
    expect(err).toBeInstanceOf(S3Error);
    const e = err as S3Error;
    expect(e.code).toBe('InvalidRange');
    expect(e.status).toBe(416);
    expect(e.headers['Content-Range']).toBe(`bytes */${size}`);
    return 'unsatisfiable';
  }
}

/** The model: digits compared as big integers, so 30-digit positions are handled exactly. */
function model(first: string, last: string, size: number): Result {
  if (first === '' && last === '') return undefined;
  const S = BigInt(size);
  if (first === '') {
    const n = BigInt(last);
    if (n === 0n || S === 0n) return 'unsatisfiable';
    return { start: Number(n >= S ? 0n : S - n), end: size - 1 };
  }
  const a = BigInt(first);
  if (last !== '' && BigInt(last) < a) return undefined;
  if (a >= S) return 'unsatisfiable';
  const end = last === '' || BigInt(last) >= S ? S - 1n : BigInt(last);
  return { start: Number(a), end: Number(end) };
}

const size = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(Number.MAX_SAFE_INTEGER));
const digits = fc.oneof(
  fc.constant(''),
  fc.nat({ max: 200 }).map(String),
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
  fc.stringMatching(/^0{0,5}[0-9]{1,30}$/),
);
const space = fc.constantFrom('', ' ', '  ', '\t');
const unit = fc.constantFrom('bytes', 'BYTES', 'Bytes');

describe('Range parser (fast-check)', () => {
  it('agrees with the model on every well-formed single range, whatever the spacing and case', () => {
    fc.assert(
      fc.property(size, digits, digits, unit, fc.array(space, { minLength: 5, maxLength: 5 }), (n, first, last, u, sp) => {
        const header = `${sp[0]}${u}${sp[1]}=${sp[2]}${first}${sp[3]}-${sp[4]}${last}`;
        expect(outcome(header, n), header).toEqual(model(first, last, n));
      }),
      fuzzParams(2000),
    );
  });

  it('any other header: ignored, or a valid range inside the object, or a 416; nothing else', () => {
    const arbitrary = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(fc.constantFrom('bytes', '=', '-', ',', ' ', '0', '1', '9', '99999999999999999999', '-1', 'e', '.', 'x', ';', '+'), { maxLength: 12 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(size, arbitrary, (n, header) => {
        const r = outcome(header, n);
        if (r === undefined || r === 'unsatisfiable') return;
        expect(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end), header).toBe(true);
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeGreaterThanOrEqual(r.start);
        expect(r.end).toBeLessThan(n);
      }),
      fuzzParams(1500),
    );
  });

  it('two ranges, signs, decimals and other units are never served as a range', () => {
    const bad = fc.oneof(
      fc.tuple(digits, digits, digits, digits).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`),
      fc.tuple(digits, digits).map(([a, b]) => `bytes=-${a}-${b}`),
      fc.tuple(digits, digits).map(([a, b]) => `bytes=+${a}-${b}`),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}.5-${b}`),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `items=${a}-${b}`),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes ${a}-${b}`),
    );
    fc.assert(
      fc.property(size, bad, (n, header) => {
        expect(outcome(header, n), header).toBeUndefined();
      }),
      fuzzParams(1000),
    );
  });

  it('absent header: no range', () => {
    fc.assert(fc.property(size, (n) => {
      expect(outcome(undefined, n)).toBeUndefined();
    }), fuzzParams(50));
  });
});
