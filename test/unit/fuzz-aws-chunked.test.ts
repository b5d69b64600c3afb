import { createHmac, createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AwsChunkedOptions } from '../../src/auth/aws-chunked.js';
import { S3Error } from '../../src/s3/errors.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';
import { decodePieces as decode } from '../helpers/decode.js';

// Property-based fuzzing of the aws-chunked decoder: whatever the framing, the cut points
// between network reads, the signatures and the trailers, it decodes exactly what was framed,
// and anything else fails with an S3Error (never another exception, never a hang, never more
// bytes than declared). The framing and signing here are written from the AWS documentation,
// independently of src/.

const EMPTY = createHash('sha256').digest('hex');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer, s: string) => createHmac('sha256', key).update(s).digest();
const KEY = hmac(Buffer.from('fuzz-signing-key'), 'k');
const DATE = '20260101T000000Z';
const SCOPE = '20260101/us-east-1/s3/aws4_request';
const SEED_SIG = sha('seed');

interface Framing {
  data: Buffer;
  sizes: number[];
  trailers: Array<[string, string]>;
  signed: boolean;
  signedTrailer: boolean;
  upperHex: boolean;
  /** Extensions a client may add after the size (unsigned mode). */
  extension: boolean;
}

/** The framed body, as a client writes it. */
function frame(f: Framing): Buffer {
  const out: Buffer[] = [];
  let prev = SEED_SIG;
  let at = 0;
  const chunks: Buffer[] = [];
  for (const s of f.sizes) {
    if (at >= f.data.length) break;
    chunks.push(f.data.subarray(at, at + s));
    at += s;
  }
  if (at < f.data.length) chunks.push(f.data.subarray(at));
  chunks.push(Buffer.alloc(0));
  for (const c of chunks) {
    let size = c.length.toString(16);
    if (f.upperHex) size = size.toUpperCase();
    let ext = '';
    if (f.signed) {
      const sig = hmac(KEY, `AWS4-HMAC-SHA256-PAYLOAD\n${DATE}\n${SCOPE}\n${prev}\n${EMPTY}\n${sha(c)}`).toString('hex');
      prev = sig;
      ext = `;chunk-signature=${sig}`;
    } else if (f.extension) {
      ext = ';x-ext=1';
    }
    out.push(Buffer.from(`${size}${ext}\r\n`), c);
    if (c.length > 0) out.push(Buffer.from('\r\n'));
  }
  for (const [n, v] of f.trailers) out.push(Buffer.from(`${n}:${v}\r\n`));
  if (f.signedTrailer) {
    const canonical = [...f.trailers].map(([n, v]) => [n.toLowerCase(), v.trim()] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, v]) => `${n}:${v}\n`).join('');
    const sig = hmac(KEY, `AWS4-HMAC-SHA256-TRAILER\n${DATE}\n${SCOPE}\n${prev}\n${sha(canonical)}`).toString('hex');
    out.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

function options(f: Framing, declared: number | undefined = f.data.length): AwsChunkedOptions {
  return {
    expectTrailer: f.trailers.length > 0 || f.signedTrailer,
    signing: f.signed ? { signingKey: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED_SIG } : undefined,
    signedTrailer: f.signedTrailer,
    decodedLength: declared,
  };
}

/** Cuts `b` at the given fractions: the pieces network reads would deliver. */
function cut(b: Buffer, fractions: number[]): Buffer[] {
  const points = [...new Set(fractions.map((x) => Math.floor(x * b.length)))].filter((p) => p > 0 && p < b.length).sort((x, y) => x - y);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    pieces.push(b.subarray(at, p));
    at = p;
  }
  pieces.push(b.subarray(at));
  return pieces;
}



const trailerName = fc.constantFrom('x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-sha256', 'x-amz-checksum-crc64nvme');
const trailerValue = fc.stringMatching(/^[A-Za-z0-9+/]{4,44}={0,2}$/);

const framing = fc.record({
  data: fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)),
  sizes: fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 8 }),
  trailers: fc.uniqueArray(fc.tuple(trailerName, trailerValue), { maxLength: 2, selector: ([n]) => n }),
  signed: fc.boolean(),
  signedTrailer: fc.boolean(),
  upperHex: fc.boolean(),
  extension: fc.boolean(),
}).map((f) => ({ ...f, signedTrailer: f.signed && f.signedTrailer }));

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

describe('aws-chunked decoder (fast-check)', () => {
  it('decodes every framing, cut anywhere, to exactly the framed bytes and trailers', async () => {
    await fc.assert(
      fc.asyncProperty(framing, cuts, async (f, fractions) => {
        const r = await decode(cut(frame(f), fractions), options(f));
        expect(r.error).toBeUndefined();
        expect(r.data.equals(f.data)).toBe(true);
        expect(r.trailers).toEqual(Object.fromEntries(f.trailers));
      }),
      fuzzParams(300),
    );
  }, fuzzTimeout(60_000));

  it('a changed byte of a signed body fails with an S3Error, or changes nothing that was signed', async () => {
    await fc.assert(
      fc.asyncProperty(framing.map((f) => ({ ...f, signed: true })), cuts, fc.nat(), fc.integer({ min: 1, max: 255 }), async (f, fractions, at, xor) => {
        const framed = frame(f);
        const i = at % framed.length;
        const bad = Buffer.from(framed);
        bad[i] ^= xor;
        const r = await decode(cut(bad, fractions), options(f));
        if (r.error) {
          expect(r.error).toBeInstanceOf(S3Error);
          return;
        }
        // Accepted: only an equivalent spelling (hex digit case in a size or a signature) or an
        // unsigned trailer may have changed; the data never.
        expect(r.data.equals(f.data)).toBe(true);
        if (f.signedTrailer) expect(r.trailers).toEqual(Object.fromEntries(f.trailers));
      }),
      fuzzParams(400),
    );
  }, fuzzTimeout(60_000));

  it('garbage, truncation and lying lengths fail with an S3Error and never emit more than declared', async () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
      fc.array(fc.constantFrom('0', '1', 'a', 'f', 'F', ';', '=', ':', '\r', '\n', '\r\n', 'chunk-signature=', 'x-amz-checksum-crc32', 'zz', ' ', 'ffffffffffffffff'), { maxLength: 60 }).map((a) => Buffer.from(a.join(''))),
      framing.chain((f) => fc.nat({ max: frame(f).length }).map((n) => frame(f).subarray(0, n))),
    );
    await fc.assert(
      fc.asyncProperty(garbage, cuts, fc.option(fc.nat({ max: 5000 })), fc.boolean(), fc.boolean(), async (bytes, fractions, declared, signed, trailer) => {
        const opts: AwsChunkedOptions = {
          expectTrailer: trailer,
          signing: signed ? { signingKey: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED_SIG } : undefined,
          decodedLength: declared ?? undefined,
        };
        const r = await decode(cut(bytes, fractions), opts);
        if (r.error) expect(r.error, String(r.error)).toBeInstanceOf(S3Error);
        if (declared !== null) expect(r.data.length).toBeLessThanOrEqual(declared);
        if (!r.error && declared !== null) expect(r.data.length).toBe(declared);
      }),
      fuzzParams(600),
    );
  }, fuzzTimeout(60_000));

  it('a declared length other than the framed one is IncompleteBody', async () => {
    await fc.assert(
      fc.asyncProperty(framing, fc.integer({ min: -3000, max: 3000 }).filter((d) => d !== 0), async (f, delta) => {
        const declared = f.data.length + delta;
        fc.pre(declared >= 0);
        const r = await decode([frame(f)], options(f, declared));
        expect((r.error as S3Error | undefined)?.code).toBe('IncompleteBody');
        expect(r.data.length).toBeLessThanOrEqual(declared);
      }),
      fuzzParams(200),
    );
  }, fuzzTimeout(60_000));

  it('takes a 20 MiB chunk: the SDK frames each piece its body stream yields as one chunk', async () => {
    const data = Buffer.alloc(20 * 1024 * 1024, 7);
    const f: Framing = { data, sizes: [data.length], trailers: [['x-amz-checksum-crc32', 'AAAAAA==']], signed: false, signedTrailer: false, upperHex: false, extension: false };
    const r = await decode(cut(frame(f), [0.1, 0.5, 0.99]), options(f));
    expect(r.error).toBeUndefined();
    expect(r.data.length).toBe(data.length);
  });
});
