// The console's browser signer (console/src/lib/sigv4.ts, plain-TS SHA-256/HMAC) against the
// server's SigV4 code: same canonical forms and signatures, and accepted by authenticate().
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hmacSha256, sha256Hex, toHex } from '../../console/src/lib/sha256.js';
import { amzDate, buildQuery, canonicalQuery, canonicalUri, copySource, objectPath, presign, signHeaders, signingKey, uriEncode } from '../../console/src/lib/sigv4.js';
import { presignUrl } from '../../src/services/presign.js';
import { parseCopySource } from '../../src/s3/endpoint.js';
import * as server from '../../src/auth/sigv4.js';
import { uriEncode as serverUriEncode } from '../../src/auth/encoding.js';
import { authenticate } from '../../src/auth/authenticate.js';
import { DOC_KEY, DOC_NOW, DOC_SECRET, docLookup } from './auth-helpers.js';

/** Lone surrogates become U+FFFD, as TextEncoder and Buffer.from both do. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
const creds = { accessKeyId: DOC_KEY, secretAccessKey: DOC_SECRET, region: 'us-east-1' };

describe('sha256 / hmac in plain TypeScript', () => {
  it('matches node:crypto for every length around the block boundaries, and random inputs', () => {
    for (let n = 0; n < 200; n++) {
      const data = randomBytes(n);
      expect(sha256Hex(data)).toBe(createHash('sha256').update(data).digest('hex'));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 150 }), (key, msg) => {
        expect(toHex(hmacSha256(key, msg))).toBe(createHmac('sha256', key).update(msg).digest('hex'));
      }),
    );
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('héllo ✓ 𝄞')).toBe(createHash('sha256').update('héllo ✓ 𝄞').digest('hex'));
  });

  it('a 1 MiB input', () => {
    const big = randomBytes(1024 * 1024);
    expect(sha256Hex(big)).toBe(createHash('sha256').update(big).digest('hex'));
  });
});

describe('canonical forms', () => {
  it('uriEncode equals the server on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(uriEncode(s)).toBe(serverUriEncode(wellFormed(s)));
      }),
    );
  });

  it('paths and queries canonicalize as the server does', () => {
    for (const [bucket, key] of [
      ['photos', '2026/cat.jpg'],
      ['b', 'a b/c+d/%41/ü/日本/😀'],
      ['b', 'a//b/../x'],
      ['b', "it's (1) [x] ~_-.txt"],
    ] as const) {
      const p = objectPath(bucket, key);
      expect(canonicalUri(p)).toBe(server.canonicalUri(p));
    }
    for (const q of ['uploads', 'partNumber=2&uploadId=abc%2Fdef', 'b=2&a=1&a=0', buildQuery({ 'response-content-disposition': "attachment; filename*=UTF-8''a b.txt", prefix: 'x/y' })]) {
      expect(canonicalQuery(q)).toBe(server.canonicalQuery(q));
    }
    expect(toHex(signingKey(DOC_SECRET, '20130524', 'us-east-1'))).toBe(server.signingKey(DOC_SECRET, '20130524', 'us-east-1', 's3').toString('hex'));
  });
});

describe('signatures', () => {
  it('the AWS documentation example: GET /test.txt with a Range header', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (signature f0e8bdb8...)
    const h = signHeaders(
      { method: 'GET', path: '/test.txt', query: '', host: 'examplebucket.s3.amazonaws.com', headers: { range: 'bytes=0-9' } },
      creds,
      { date: DOC_NOW },
    );
    expect(h.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('the AWS documentation presigned URL example', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (signature aeeed9bb...)
    const url = presign({ method: 'GET', path: '/test.txt', query: '', host: 'examplebucket.s3.amazonaws.com', origin: 'https://examplebucket.s3.amazonaws.com' }, creds, 86400, DOC_NOW);
    expect(url).toBe(
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('header-signed requests (with a JSON body) verify with the server, odd keys and queries included', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).map((s) => wellFormed(s)),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/^x-amz-/i.test(k)), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
        fc.option(fc.json(), { nil: undefined }),
        (key, query, body) => {
          const path = `/v1/objects${objectPath('bucket', key)}`;
          const q = buildQuery(query);
          const method = body === undefined ? 'GET' : 'POST';
          const headers = signHeaders({ method, path, query: q, host: '127.0.0.1:9001' }, creds, { body, date: DOC_NOW });
          const res = authenticate({ method, rawPath: path, rawQuery: q, headers, host: '127.0.0.1:9001' }, { lookup: docLookup, region: 'us-east-1', now: DOC_NOW });
          expect(res?.accessKeyId).toBe(DOC_KEY);
          expect(res?.payload).toEqual({ kind: 'sha256', expectedHex: sha256Hex(body ?? '') });
        },
      ),
    );
  });

  it('presigned URLs equal the server presigner and verify', () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['GET', '2026/cat.jpg', {}],
      ['PUT', 'a b/ü.txt', {}],
      ['PUT', 'big.bin', { partNumber: '3', uploadId: 'xyz/+=' }],
      ['POST', 'big.bin', { uploads: '' }],
      ['GET', 'x', { 'response-content-disposition': "attachment; filename*=UTF-8''x%20y" }],
    ];
    for (const [method, key, query] of cases) {
      const p = objectPath('photos', key);
      const q = buildQuery(query);
      const mine = presign({ method, path: p, query: q, host: '127.0.0.1:9000', origin: 'http://127.0.0.1:9000' }, creds, 3600, DOC_NOW);
      const theirs = server.presignRequest({ method, rawPath: p, rawQuery: q, headers: {}, host: '127.0.0.1:9000' }, { ...creds, date: DOC_NOW, expiresSeconds: 3600 });
      expect(mine).toBe(`http://127.0.0.1:9000${theirs.request.rawPath}?${theirs.request.rawQuery}`);
      const u = new URL(mine);
      const res = authenticate({ method, rawPath: u.pathname, rawQuery: u.search.slice(1), headers: {}, host: u.host }, { lookup: docLookup, region: 'us-east-1', now: DOC_NOW });
      expect(res?.presigned).toBe(true);
    }
  });

  it('presigned URLs with signed headers (a CopyObject of a version) equal the server presigner; the request must send them', () => {
    const source = copySource('photos', 'a b/ü+.txt', 'Ab_-9');
    expect(parseCopySource(source)).toMatchObject({ bucket: 'photos', key: 'a b/ü+.txt', versionId: 'Ab_-9' });
    const p = objectPath('photos', 'a b/ü+.txt');
    const headers = { 'x-amz-copy-source': source };
    const mine = presign({ method: 'PUT', path: p, query: '', host: '127.0.0.1:9000', origin: 'http://127.0.0.1:9000', headers }, creds, 300, DOC_NOW);
    expect(mine).toContain('X-Amz-SignedHeaders=host%3Bx-amz-copy-source');
    const theirs = presignUrl({ credentials: creds, region: 'us-east-1', endpoint: new URL('http://127.0.0.1:9000'), bucket: 'photos', key: 'a b/ü+.txt', method: 'PUT', headers, expiresSeconds: 300, date: DOC_NOW });
    expect(mine).toBe(theirs);
    const u = new URL(mine);
    const auth = (h: Record<string, string>) =>
      authenticate({ method: 'PUT', rawPath: u.pathname, rawQuery: u.search.slice(1), headers: h, host: u.host }, { lookup: docLookup, region: 'us-east-1', now: DOC_NOW });
    expect(auth(headers)?.presigned).toBe(true);
    expect(() => auth({ 'x-amz-copy-source': copySource('photos', 'other', 'Ab_-9') })).toThrow(/SignatureDoesNotMatch|signature/i);
  });

  it('amz dates', () => {
    expect(amzDate(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102T030405Z');
  });
});
