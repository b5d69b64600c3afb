import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../src/auth/aws-chunked.js';
import { EMPTY_SHA256, hmacSha256, sha256Hex } from '../../src/auth/crypto.js';
import { signingKey } from '../../src/auth/sigv4.js';
import type { ChunkSigningContext } from '../../src/auth/types.js';
import { decodePieces as run } from '../helpers/decode.js';



function bytewise(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

/** Deterministic random cut points (mulberry32), so failures are reproducible. */
function randomSplits(b: Buffer, seed: number): Buffer[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pieces: Buffer[] = [];
  for (let i = 0; i < b.length; ) {
    const n = 1 + Math.floor(rnd() * 40);
    pieces.push(b.subarray(i, i + n));
    i += n;
  }
  return pieces;
}

function payload(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
}

const DATA = payload(1024);
const UNSIGNED_TRAILER = Buffer.concat([
  Buffer.from('400\r\n'), DATA, Buffer.from('\r\n0\r\nx-amz-checksum-crc32:3CYOvg==\r\n\r\n'),
]);
const unsignedOpts: AwsChunkedOptions = { expectTrailer: true, decodedLength: 1024 };

describe('AwsChunkedDecoder: unsigned with trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  it('decodes the S3-CLIENTS example whole, byte by byte, and in random splits', async () => {
    const splits = [[UNSIGNED_TRAILER], bytewise(UNSIGNED_TRAILER), ...[1, 2, 3, 4, 5].map((s) => randomSplits(UNSIGNED_TRAILER, s))];
    for (const pieces of splits) {
      const r = await run(pieces, unsignedOpts);
      expect(r.error).toBeUndefined();
      expect(r.data.equals(DATA)).toBe(true);
      expect(r.trailers).toEqual({ 'x-amz-checksum-crc32': '3CYOvg==' });
    }
  });

  it('decodes with every single cut point', async () => {
    for (let cut = 1; cut < UNSIGNED_TRAILER.length; cut++) {
      const r = await run([UNSIGNED_TRAILER.subarray(0, cut), UNSIGNED_TRAILER.subarray(cut)], unsignedOpts);
      expect(r.error, `cut at ${cut}`).toBeUndefined();
      expect(r.data.length).toBe(1024);
      expect(r.trailers['x-amz-checksum-crc32']).toBe('3CYOvg==');
    }
  });

  it('decodes the empty object', async () => {
    const r = await run([Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')], { expectTrailer: true, decodedLength: 0 });
    expect(r.error).toBeUndefined();
    expect(r.data.length).toBe(0);
    expect(r.trailers).toEqual({ 'x-amz-checksum-crc32': 'AAAAAA==' });
  });

  it('emits data as it arrives, before the chunk is complete', async () => {
    const decoder = new AwsChunkedDecoder(unsignedOpts);
    const seen: Buffer[] = [];
    decoder.on('data', (b: Buffer) => seen.push(b));
    decoder.write(Buffer.concat([Buffer.from('400\r\n'), DATA.subarray(0, 100)]));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(seen).equals(DATA.subarray(0, 100))).toBe(true);
    decoder.destroy();
  });

  it('tolerates a missing final CRLF after the trailers', async () => {
    const r = await run([UNSIGNED_TRAILER.subarray(0, UNSIGNED_TRAILER.length - 2)], unsignedOpts);
    expect(r.error).toBeUndefined();
    expect(r.trailers['x-amz-checksum-crc32']).toBe('3CYOvg==');
  });

  it('truncated bodies -> IncompleteBody', async () => {
    const cuts = [3, 5, 200, 5 + 1024, 5 + 1024 + 2, 5 + 1024 + 2 + 2, UNSIGNED_TRAILER.length - 10];
    for (const cut of cuts) {
      const r = await run([UNSIGNED_TRAILER.subarray(0, cut)], unsignedOpts);
      expect(r.error?.code, `cut at ${cut}`).toBe('IncompleteBody');
    }
    expect((await run([], unsignedOpts)).error?.code).toBe('IncompleteBody');
  });

  it('x-amz-decoded-content-length mismatch', async () => {
    expect((await run([UNSIGNED_TRAILER], { expectTrailer: true, decodedLength: 2000 })).error?.code).toBe('IncompleteBody');
    expect((await run([UNSIGNED_TRAILER], { expectTrailer: true, decodedLength: 100 })).error?.code).toBe('IncompleteBody');
  });

  it('malformed framing -> InvalidRequest', async () => {
    const cases: Array<[string, Buffer, AwsChunkedOptions]> = [
      ['bad hex size', Buffer.from('zz\r\n'), unsignedOpts],
      ['absurd size line', Buffer.from('1'.repeat(17) + '\r\n'), unsignedOpts],
      ['bare LF', Buffer.from('3\nabc\r\n0\r\n\r\n'), unsignedOpts],
      ['data not followed by CRLF', Buffer.from('3\r\nabcX\r\n0\r\n\r\n'), { expectTrailer: false }],
      ['chunk above the limit', Buffer.from('1000\r\n'), { expectTrailer: false, maxChunkSize: 1024 }],
      ['trailer when none expected', Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'), { expectTrailer: false }],
      ['trailer without colon', Buffer.from('0\r\nnonsense\r\n\r\n'), { expectTrailer: true }],
      ['bytes after the end', Buffer.from('0\r\n\r\nextra'), { expectTrailer: false }],
      ['endless size line', Buffer.alloc(5000, '0'), unsignedOpts],
    ];
    for (const [name, body, o] of cases) {
      expect((await run(bytewise(body), o)).error?.code, name).toBe('InvalidRequest');
    }
  });

  it('unsigned mode ignores chunk extensions', async () => {
    const r = await run([Buffer.from('3;foo=bar\r\nabc\r\n0\r\n\r\n')], { expectTrailer: false, decodedLength: 3 });
    expect(r.error).toBeUndefined();
    expect(r.data.toString()).toBe('abc');
  });
});

// A reference signer for the chain, written from the S3 documentation's formulas.
const CONTEXT: ChunkSigningContext = {
  signingKey: signingKey('secret', '20240601', 'us-east-1', 's3'),
  amzDate: '20240601T120000Z',
  scope: '20240601/us-east-1/s3/aws4_request',
  seedSignature: 'a'.repeat(64),
};

function chunkSig(prev: string, data: Buffer): string {
  const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${CONTEXT.amzDate}\n${CONTEXT.scope}\n${prev}\n${EMPTY_SHA256}\n${sha256Hex(data)}`;
  return hmacSha256(CONTEXT.signingKey, sts).toString('hex');
}

function signedBody(chunks: Buffer[], trailers?: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let prev = CONTEXT.seedSignature;
  for (const c of [...chunks, Buffer.alloc(0)]) {
    prev = chunkSig(prev, c);
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c);
    if (c.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (trailers) {
    const lines = Object.entries(trailers).map(([k, v]) => `${k}:${v}\n`).join('');
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${CONTEXT.amzDate}\n${CONTEXT.scope}\n${prev}\n${sha256Hex(lines)}`;
    const sig = hmacSha256(CONTEXT.signingKey, sts).toString('hex');
    for (const [k, v] of Object.entries(trailers)) parts.push(Buffer.from(`${k}:${v}\r\n`));
    parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

describe('AwsChunkedDecoder: signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])', () => {
  const chunks = [payload(8192), payload(8192).reverse(), payload(100)];
  const all = Buffer.concat(chunks);
  const body = signedBody(chunks);
  const o: AwsChunkedOptions = { signing: CONTEXT, expectTrailer: false, decodedLength: all.length };

  it('verifies the chain whole, byte by byte and in random splits', async () => {
    for (const pieces of [[body], bytewise(body), randomSplits(body, 7), randomSplits(body, 8)]) {
      const r = await run(pieces, o);
      expect(r.error).toBeUndefined();
      expect(r.data.equals(all)).toBe(true);
    }
  });

  it('tampered data -> SignatureDoesNotMatch', async () => {
    for (const at of [120, 8192 + 100, body.length - 200]) {
      const bad = Buffer.from(body);
      bad[at] ^= 1;
      expect((await run(randomSplits(bad, at), o)).error?.code, `byte ${at}`).toBe('SignatureDoesNotMatch');
    }
  });

  it('tampered or missing signatures -> SignatureDoesNotMatch', async () => {
    const text = body.toString('latin1');
    const sigs = [...text.matchAll(/chunk-signature=([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(sigs).toHaveLength(4);
    for (const sig of sigs) {
      const flipped = sig.slice(0, 63) + (sig[63] === '0' ? '1' : '0');
      expect((await run([Buffer.from(text.replace(sig, flipped), 'latin1')], o)).error?.code).toBe('SignatureDoesNotMatch');
    }
    // Reordered chunks break the chain even though each frame carries its genuine signature.
    const frames = chunks.map((c, i) => Buffer.concat([Buffer.from(`${c.length.toString(16)};chunk-signature=${sigs[i]}\r\n`), c, Buffer.from('\r\n')]));
    const tail = Buffer.from(`0;chunk-signature=${sigs[3]}\r\n\r\n`);
    expect((await run([Buffer.concat([...frames, tail])], o)).error).toBeUndefined();
    expect((await run([Buffer.concat([frames[1], frames[0], frames[2], tail])], o)).error?.code).toBe('SignatureDoesNotMatch');
    // The wrong seed (another request's signature) fails on the first chunk.
    expect((await run([body], { ...o, signing: { ...CONTEXT, seedSignature: 'b'.repeat(64) } })).error?.code).toBe('SignatureDoesNotMatch');
    expect((await run([Buffer.from('3\r\nabc\r\n0\r\n\r\n')], { ...o, decodedLength: 3 })).error?.code).toBe('SignatureDoesNotMatch');
  });

  it('a body cut before its signed final chunk -> IncompleteBody', async () => {
    const lastChunk = body.toString('latin1').lastIndexOf('0;chunk-signature=');
    expect((await run([body.subarray(0, lastChunk)], o)).error?.code).toBe('IncompleteBody');
    expect((await run([body.subarray(0, 5000)], o)).error?.code).toBe('IncompleteBody');
  });

  it('verifies a signed trailer, byte by byte', async () => {
    const withTrailer = signedBody(chunks, { 'x-amz-checksum-crc32': 'AbCdEf==' });
    const to: AwsChunkedOptions = { ...o, expectTrailer: true, signedTrailer: true };
    const r = await run(bytewise(withTrailer), to);
    expect(r.error).toBeUndefined();
    expect(r.data.equals(all)).toBe(true);
    expect(r.trailers).toEqual({ 'x-amz-checksum-crc32': 'AbCdEf==' });

    const tampered = Buffer.from(withTrailer.toString('latin1').replace('AbCdEf==', 'AbCdEg=='), 'latin1');
    expect((await run([tampered], to)).error?.code).toBe('SignatureDoesNotMatch');
    const unsignedTrailer = Buffer.from(withTrailer.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    expect((await run([unsignedTrailer], to)).error?.code).toBe('SignatureDoesNotMatch');
  });
});
