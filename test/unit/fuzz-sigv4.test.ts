import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { canonicalQuery, canonicalRequest, canonicalUri, signRequest } from '../../src/auth/sigv4.js';
import { percentDecodeBytes } from '../../src/auth/encoding.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { S3Error } from '../../src/s3/errors.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';
import { toAuthRequest, type Captured } from '../helpers/sdk-capture.js';

// Property-based fuzzing of SigV4 canonicalisation: requests the real AWS SDK signs for random
// keys, metadata, query values and ranges verify (the SDK is the oracle); the canonical forms are
// stable under every re-encoding that means the same request; and a signed request verifies
// after a change exactly when the change leaves its canonical request as it was.

const KEY = 'AKIDFUZZ';
const SECRET = 'fuzz/secret+key=1';
const NOW = new Date('2026-03-01T12:00:00Z');
const opts = { lookup: (id: string) => (id === KEY ? SECRET : undefined), region: 'us-east-1', now: NOW };




function capturingClient(captured: Captured[]): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    systemClockOffset: NOW.getTime() - Date.now(),
    requestHandler: {
      handle: async (request: Captured) => {
        captured.push(request);
        throw new Error('captured');
      },
    },
  });
}

function verifies(r: AuthRequest): boolean {
  try {
    return authenticate(r, opts)?.accessKeyId === KEY;
  } catch (err) {
    if (err instanceof S3Error && err.code === 'SignatureDoesNotMatch') return false;
    throw err;
  }
}

/** Keys as S3 allows them: any Unicode (whole code points), with the characters clients trip on. */
const s3Key = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
      { weight: 3, arbitrary: fc.constantFrom('/', '//', '..', '.', '%', '%2F', '%25', '+', ' ', '  ', '~', '*', "'", '(', ')', '!', '?', '#', '&', '=', ';', ':', '@', '$', ',', '[', ']', '{', '}', '\\', '^', '`', '|', '"', '<', '>', '\u00e9', '\u00a0', '\u2028', '\ud83d\ude00') },
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((a) => a.join(''))
  .filter((k) => Buffer.byteLength(k) <= 1024);
const queryText = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 3 }), fc.constantFrom('&', '=', '+', '%', ' ', '/', '?', '#', '%20', '~')), { maxLength: 6 }).map((a) => a.join(''));
const metaName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/);
const metaValue = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);

describe('SigV4: requests signed by @aws-sdk/client-s3 for random input verify (fast-check)', () => {
  it('PutObject (key, metadata, content type), GetObject (range, response overrides), ListObjectsV2 (prefix, delimiter, start-after)', async () => {
    await fc.assert(
      fc.asyncProperty(
        s3Key,
        fc.dictionary(metaName, metaValue, { maxKeys: 4 }),
        metaValue,
        queryText,
        queryText,
        queryText,
        fc.tuple(fc.nat(), fc.nat()),
        async (key, metadata, contentType, prefix, delimiter, disposition, [a, b]) => {
          const captured: Captured[] = [];
          const s3 = capturingClient(captured);
          const commands = [
            new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'hello', Metadata: metadata, ContentType: contentType }),
            new GetObjectCommand({ Bucket: 'bkt', Key: key, Range: `bytes=${Math.min(a, b)}-${Math.max(a, b)}`, ResponseContentDisposition: disposition || undefined }),
            new ListObjectsV2Command({ Bucket: 'bkt', Prefix: prefix || undefined, Delimiter: delimiter || undefined, StartAfter: key }),
          ];
          for (const cmd of commands) await expect(s3.send(cmd as never)).rejects.toThrow('captured');
          s3.destroy();
          expect(captured).toHaveLength(commands.length);
          for (const c of captured) {
            const r = toAuthRequest(c);
            expect(verifies(r), `${c.method} ${r.rawPath}?${r.rawQuery}`).toBe(true);
          }
        },
      ),
      fuzzParams(150),
    );
  }, fuzzTimeout(60_000));

  it('presigned GetObject and PutObject URLs for random keys', async () => {
    const s3 = capturingClient([]);
    await fc.assert(
      fc.asyncProperty(s3Key, fc.integer({ min: 1, max: 604800 }), async (key, expiresIn) => {
        for (const cmd of [new GetObjectCommand({ Bucket: 'bkt', Key: key }), new PutObjectCommand({ Bucket: 'bkt', Key: key })]) {
          const url = await getSignedUrl(s3, cmd as never, { expiresIn, signingDate: NOW });
          // Split by hand: WHATWG URL parsing would resolve the '..' the client sends as is.
          const m = /^http:\/\/([^/]+)([^?]*)\?(.*)$/.exec(url)!;
          const r: AuthRequest = { method: cmd instanceof PutObjectCommand ? 'PUT' : 'GET', rawPath: m[2]!, rawQuery: m[3]!, headers: { host: m[1]! } };
          expect(authenticate(r, opts), url).toMatchObject({ accessKeyId: KEY, presigned: true });
        }
      }),
      fuzzParams(150),
    );
    s3.destroy();
  }, fuzzTimeout(60_000));
});

/** A raw path: segments of bytes, each byte sent literally (when safe) or percent-encoded in either case. */
const rawPath = fc
  .array(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.constantFrom('literal', 'upper', 'lower')), { maxLength: 8 }), { minLength: 1, maxLength: 5 })
  .map((segments) =>
    '/' +
    segments
      .map((seg) =>
        seg
          .map(([byte, how]) => {
            const ch = String.fromCharCode(byte);
            if (how === 'literal' && /[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(ch)) return ch;
            const hex = byte.toString(16).padStart(2, '0');
            return '%' + (how === 'lower' ? hex : hex.toUpperCase());
          })
          .join(''),
      )
      .join('/'),
  );

/** The same bytes, every byte re-spelled at random (never turning a segment's '/' into %2F or back). */
function respell(path: string, choices: number[]): string {
  let i = 0;
  return path
    .split('/')
    .map((seg) =>
      [...percentDecodeBytes(seg)]
        .map((byte) => {
          const c = choices[i++ % Math.max(1, choices.length)] ?? 0;
          const ch = String.fromCharCode(byte);
          if (c % 3 === 0 && /[A-Za-z0-9\-._~]/.test(ch)) return ch;
          const hex = byte.toString(16).padStart(2, '0');
          return '%' + (c % 3 === 1 ? hex : hex.toUpperCase());
        })
        .join(''),
    )
    .join('/');
}

const queryPairs = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/), queryText), { maxLength: 6, selector: ([n]) => n });

describe('SigV4 canonical forms (fast-check)', () => {
  it('canonicalUri is idempotent and the same for every spelling of the same bytes', () => {
    fc.assert(
      fc.property(rawPath, fc.array(fc.nat(), { maxLength: 40 }), (p, choices) => {
        const c = canonicalUri(p);
        expect(canonicalUri(c)).toBe(c);
        expect(canonicalUri(respell(p, choices))).toBe(c);
        // Only unreserved characters, '/' and upper-case escapes remain.
        expect(c).toMatch(/^(\/|[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
      }),
      fuzzParams(2000),
    );
  });

  it('canonicalQuery ignores parameter order and escape spelling', () => {
    fc.assert(
      fc.property(queryPairs, fc.array(fc.nat(), { maxLength: 10 }), (pairs, order) => {
        const q = pairs.map(([n, v]) => `${escape(n)}=${escape(v)}`);
        const shuffled = [...q];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (order[i % Math.max(1, order.length)] ?? 0) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const lowerEscapes = shuffled.map((x) => x.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
        expect(canonicalQuery(lowerEscapes.join('&'))).toBe(canonicalQuery(q.join('&')));
      }),
      fuzzParams(2000),
    );
  });

  type Mutation = (r: AuthRequest) => AuthRequest;
  const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
    fc.constantFrom<[string, Mutation]>(
      ['method', (r) => ({ ...r, method: r.method === 'GET' ? 'DELETE' : 'GET' })],
      ['lower-case method', (r) => ({ ...r, method: r.method.toLowerCase() })],
      ['path + x', (r) => ({ ...r, rawPath: r.rawPath + 'x' })],
      ['path re-encoded', (r) => ({ ...r, rawPath: r.rawPath.replace(/[A-Za-z]/, (c) => '%' + c.charCodeAt(0).toString(16)) })],
      ['trailing slash', (r) => ({ ...r, rawPath: r.rawPath + '/' })],
      ['dot segment', (r) => ({ ...r, rawPath: r.rawPath.replace(/\/([^/]*)$/, '/./$1') })],
      ['double slash', (r) => ({ ...r, rawPath: r.rawPath.replace('/', '//') })],
      ['query appended', (r) => ({ ...r, rawQuery: r.rawQuery ? `${r.rawQuery}&zz=1` : 'zz=1' })],
      ['query reversed', (r) => ({ ...r, rawQuery: r.rawQuery.split('&').reverse().join('&') })],
      ['query + for %20', (r) => ({ ...r, rawQuery: r.rawQuery.replace(/%20/g, '+') })],
      ['header value spaces doubled', (r) => ({ ...r, headers: mapHeaders(r, (v) => v.replace(/ /g, '  ')) })],
      ['header value changed', (r) => ({ ...r, headers: { ...r.headers, 'x-amz-meta-a': `${r.headers['x-amz-meta-a'] ?? ''}!` } })],
      ['header name upper-cased', (r) => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k === 'x-amz-meta-a' ? 'X-Amz-Meta-A' : k, v])) })],
      ['unsigned header added', (r) => ({ ...r, headers: { ...r.headers, 'user-agent': 'fuzz' } })],
      ['host changed', (r) => ({ ...r, headers: { ...r.headers, host: 'evil.example' } })],
    ),
  );

  function mapHeaders(r: AuthRequest, f: (v: string) => string): AuthRequest['headers'] {
    return Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, k === 'authorization' || k === 'x-amz-date' || k === 'x-amz-content-sha256' ? v : typeof v === 'string' ? f(v) : v]));
  }

  it('a signed request verifies after a change exactly when its canonical request is unchanged', () => {
    fc.assert(
      fc.property(rawPath, queryPairs, metaValue, fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE'), mutation, (p, pairs, meta, method, [, mutate]) => {
        const base: AuthRequest = {
          method,
          rawPath: p,
          rawQuery: pairs.map(([n, v]) => `${escape(n)}=${escape(v)}`).join('&'),
          headers: { host: 'cairn.test', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-a': meta },
        };
        const signed = signRequest(base, { accessKeyId: KEY, secretAccessKey: SECRET, region: 'us-east-1', date: NOW });
        const req = signed.request;
        expect(verifies(req)).toBe(true);
        const changed = mutate(req);
        const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization))![1]!.split(';');
        const lowered: AuthRequest = { ...changed, headers: Object.fromEntries(Object.entries(changed.headers).map(([k, v]) => [k.toLowerCase(), v])) };
        const same =
          canonicalRequest({ ...lowered, signedHeaders, payloadHash: 'UNSIGNED-PAYLOAD' }) ===
          canonicalRequest({ ...req, signedHeaders, payloadHash: 'UNSIGNED-PAYLOAD' });
        expect(verifies(lowered)).toBe(same);
      }),
      fuzzParams(2000),
    );
  });
});
