import { describe, expect, it, vi } from 'vitest';

// Spy on the comparison primitive to prove signatures are checked in constant time.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

import { timingSafeEqual } from 'node:crypto';
import { authenticate, type AuthOptions } from '../../src/auth/authenticate.js';
import { EMPTY_SHA256, sha256Hex } from '../../src/auth/crypto.js';
import { presignRequest, signRequest, type SignOptions } from '../../src/auth/sigv4.js';
import { signV2, stringToSignV2 } from '../../src/auth/sigv2.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { req, codeOf } from './auth-helpers.js';

const KEY = 'AKIDCAIRNTEST';
const SECRET = 'cairn/secret+key';
const NOW = new Date('2024-06-01T12:00:00Z');
const HOST = 'localhost:9000';
const opts: AuthOptions = { lookup: (id) => (id === KEY ? SECRET : undefined), region: 'us-east-1', now: NOW };
const sign: SignOptions = { accessKeyId: KEY, secretAccessKey: SECRET, region: 'us-east-1', date: NOW };

function signed(method: string, target: string, headers: AuthRequest['headers'] = {}, o: Partial<SignOptions> = {}): AuthRequest {
  return signRequest(req(method, target, { host: HOST, ...headers }), { ...sign, ...o }).request;
}

describe('authenticate: anonymous and dispatch', () => {
  it('returns null without credentials', () => {
    expect(authenticate(req('GET', '/b/k?list-type=2', { host: HOST }), opts)).toBeNull();
  });

  it('refuses unknown Authorization schemes and mixed mechanisms', () => {
    expect(codeOf(() => authenticate(req('GET', '/b', { host: HOST, authorization: 'Bearer abc' }), opts))).toBe('InvalidArgument');
    const r = signed('GET', '/b/k', { 'x-amz-content-sha256': EMPTY_SHA256 });
    expect(codeOf(() => authenticate({ ...r, rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' }, opts))).toBe('InvalidArgument');
  });
});

describe('authenticate: SigV4 Authorization header', () => {
  it('accepts a good request and reports the payload mode', () => {
    const modes: Array<[string | undefined, unknown]> = [
      ['UNSIGNED-PAYLOAD', { kind: 'unsigned' }],
      [sha256Hex('hello'), { kind: 'sha256', expectedHex: sha256Hex('hello') }],
      [sha256Hex('hello').toUpperCase(), { kind: 'sha256', expectedHex: sha256Hex('hello') }],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned-trailer' }],
    ];
    for (const [contentSha, payload] of modes) {
      const r = signed('PUT', '/bucket/key', { 'x-amz-content-sha256': contentSha });
      expect(authenticate(r, opts)).toEqual({ accessKeyId: KEY, payload, signatureVersion: 'v4', presigned: false });
    }
  });

  it('hands the seed signature over for signed streaming uploads', () => {
    for (const [mode, trailer] of [['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', false], ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', true]] as const) {
      const s = signRequest(req('PUT', '/bucket/key', { host: HOST, 'x-amz-content-sha256': mode }), sign);
      const result = authenticate(s.request, opts)!;
      expect(result.payload).toMatchObject({ kind: 'streaming-signed', trailer });
      if (result.payload.kind !== 'streaming-signed') continue;
      expect(result.payload.seed.seedSignature).toBe(s.signature);
      expect(result.payload.seed.amzDate).toBe('20240601T120000Z');
      expect(result.payload.seed.scope).toBe('20240601/us-east-1/s3/aws4_request');
    }
  });

  it('accepts curl --aws-sigv4 requests (host;x-amz-date only, no x-amz-content-sha256)', () => {
    for (const method of ['GET', 'PUT']) {
      const r = signed(method, '/bucket/some%20key', {}, { signedHeaders: ['host', 'x-amz-date'], payloadHash: EMPTY_SHA256 });
      expect(r.headers['x-amz-content-sha256']).toBeUndefined();
      expect(authenticate(r, opts)?.payload).toEqual({ kind: 'unsigned' });
    }
    const unsignedPayload = signed('PUT', '/bucket/k', {}, { signedHeaders: ['host', 'x-amz-date'], payloadHash: 'UNSIGNED-PAYLOAD' });
    expect(authenticate(unsignedPayload, opts)?.payload).toEqual({ kind: 'unsigned' });
  });

  it('rejects an invalid x-amz-content-sha256', () => {
    for (const bad of ['abc', sha256Hex('x').slice(1), 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD']) {
      expect(codeOf(() => authenticate(signed('PUT', '/b/k', { 'x-amz-content-sha256': bad }), opts))).toBe('InvalidArgument');
    }
  });

  it('wrong secret -> SignatureDoesNotMatch, compared in constant time', () => {
    vi.mocked(timingSafeEqual).mockClear();
    const r = signed('GET', '/b/k', { 'x-amz-content-sha256': EMPTY_SHA256 }, { secretAccessKey: 'wrong' });
    expect(codeOf(() => authenticate(r, opts))).toBe('SignatureDoesNotMatch');
    expect(vi.mocked(timingSafeEqual)).toHaveBeenCalled();
  });

  it('unknown key -> InvalidAccessKeyId', () => {
    expect(codeOf(() => authenticate(signed('GET', '/b/k', {}, { accessKeyId: 'AKIDNOBODY' }), opts))).toBe('InvalidAccessKeyId');
  });

  it('clock skew beyond 15 minutes -> RequestTimeTooSkewed', () => {
    const r = signed('GET', '/b/k', { 'x-amz-content-sha256': EMPTY_SHA256 });
    const at = (ms: number) => ({ ...opts, now: new Date(NOW.getTime() + ms) });
    expect(authenticate(r, at(14 * 60_000))?.accessKeyId).toBe(KEY);
    expect(authenticate(r, at(-14 * 60_000))?.accessKeyId).toBe(KEY);
    expect(codeOf(() => authenticate(r, at(16 * 60_000)))).toBe('RequestTimeTooSkewed');
    expect(codeOf(() => authenticate(r, at(-16 * 60_000)))).toBe('RequestTimeTooSkewed');
    expect(codeOf(() => authenticate(r, { ...at(16 * 60_000), maxSkewMs: 20 * 60_000 }))).toBe('no error');
  });

  it('region mismatch and malformed headers -> AuthorizationHeaderMalformed', () => {
    expect(codeOf(() => authenticate(signed('GET', '/b/k', {}, { region: 'eu-west-1' }), opts))).toBe('AuthorizationHeaderMalformed');
    const good = signed('GET', '/b/k');
    const auth = good.headers.authorization as string;
    const broken = [
      auth.replace(/, Signature=[0-9a-f]+/, ''),
      auth.replace('SignedHeaders=', 'Signed='),
      auth.replace('/aws4_request', '/aws5_request'),
      auth.replace('/s3/', '/ec2/'),
      auth.replace(`Credential=${KEY}/20240601`, `Credential=${KEY}/20240602`),
      auth.replace('SignedHeaders=host;', 'SignedHeaders='),
      'AWS4-HMAC-SHA256 garbage',
    ];
    for (const a of broken) {
      expect(codeOf(() => authenticate({ ...good, headers: { ...good.headers, authorization: a } }, opts))).toBe('AuthorizationHeaderMalformed');
    }
  });

  it('missing date -> AccessDenied', () => {
    const good = signed('GET', '/b/k');
    const { 'x-amz-date': _drop, ...headers } = good.headers;
    expect(codeOf(() => authenticate({ ...good, headers }, opts))).toBe('AccessDenied');
  });

  it('any tampering -> SignatureDoesNotMatch', () => {
    const good = signed('PUT', '/bucket/a%20key', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'text/plain', 'x-amz-meta-a': 'b' });
    expect(authenticate(good, opts)?.accessKeyId).toBe(KEY);
    const tampered: AuthRequest[] = [
      { ...good, method: 'DELETE' },
      { ...good, rawPath: '/bucket/a%20kez' },
      { ...good, rawPath: '/bucket/a/key' },
      { ...good, rawQuery: 'acl' },
      { ...good, headers: { ...good.headers, 'content-type': 'text/html' } },
      { ...good, headers: { ...good.headers, 'x-amz-meta-a': 'c' } },
      { ...good, headers: { ...good.headers, host: 'evil:9000' } },
    ];
    for (const t of tampered) expect(codeOf(() => authenticate(t, opts))).toBe('SignatureDoesNotMatch');
  });

  it('an x-amz-* header added after signing -> AccessDenied', () => {
    const good = signed('PUT', '/b/k', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(codeOf(() => authenticate({ ...good, headers: { ...good.headers, 'x-amz-acl': 'public-read' } }, opts))).toBe('AccessDenied');
    // Other unsigned headers are fine (proxies add them).
    expect(authenticate({ ...good, headers: { ...good.headers, 'user-agent': 'x' } }, opts)?.accessKeyId).toBe(KEY);
  });

  it('signs the path as sent: no normalization, one decoding', () => {
    const r = signed('GET', '/bucket/a//b/../c/./d');
    expect(authenticate(r, opts)?.accessKeyId).toBe(KEY);
    expect(codeOf(() => authenticate({ ...r, rawPath: '/bucket/a/c/d' }, opts))).toBe('SignatureDoesNotMatch');
    // '%7E' and '~', ' ' and '%20' are the same key once decoded.
    const s = signed('GET', '/bucket/%7Ea%20b');
    expect(authenticate({ ...s, rawPath: '/bucket/~a b' }, opts)?.accessKeyId).toBe(KEY);
    // ...but '%2F' inside a segment is not a '/'.
    const slash = signed('GET', '/bucket/a%2Fb');
    expect(codeOf(() => authenticate({ ...slash, rawPath: '/bucket/a/b' }, opts))).toBe('SignatureDoesNotMatch');
  });

  it('reads the Authorization header in any spacing, field order and header-name case alike', () => {
    const r = signed('GET', '/bucket/key', { 'x-amz-content-sha256': EMPTY_SHA256 });
    const header = r.headers.authorization as string;
    const m = /Credential=(\S+), SignedHeaders=(\S+), Signature=(\S+)$/.exec(header)!;
    const [, cred, names, sig] = m;
    const forms = [
      header,
      `AWS4-HMAC-SHA256 Credential=${cred},SignedHeaders=${names},Signature=${sig}`,
      `AWS4-HMAC-SHA256   Credential=${cred} ,  SignedHeaders=${names}, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Signature=${sig}, Credential=${cred}, SignedHeaders=${names}`,
      `AWS4-HMAC-SHA256 Credential=${cred}, SignedHeaders=${names!.toUpperCase()}, Signature=${sig}`,
    ];
    for (const authorization of forms) {
      expect(authenticate({ ...r, headers: { ...r.headers, authorization } }, opts)?.accessKeyId, authorization).toBe(KEY);
    }
    const forged = sig!.slice(0, -1) + (sig!.endsWith('0') ? '1' : '0');
    for (const authorization of [header.replace(sig!, forged), `AWS4-HMAC-SHA256 Credential=${cred},SignedHeaders=${names},Signature=${forged}`]) {
      expect(codeOf(() => authenticate({ ...r, headers: { ...r.headers, authorization } }, opts))).toBe('SignatureDoesNotMatch');
    }
  });

  it('a plain path and its percent-encoded spelling sign alike', () => {
    const plain = signed('GET', '/bucket/dir/file-1.txt');
    expect(authenticate({ ...plain, rawPath: '/bucket/%64ir/file%2D1.txt' }, opts)?.accessKeyId).toBe(KEY);
    const encoded = signed('GET', '/bucket/%64ir/file%2D1.txt');
    expect(authenticate({ ...encoded, rawPath: '/bucket/dir/file-1.txt' }, opts)?.accessKeyId).toBe(KEY);
    expect(codeOf(() => authenticate({ ...plain, rawPath: '/bucket/dir/file-2.txt' }, opts))).toBe('SignatureDoesNotMatch');
  });

  it('checks each x-amz-date, however many requests of the same second came before', () => {
    const a = signed('GET', '/b/k');
    expect(authenticate(a, opts)?.accessKeyId).toBe(KEY);
    expect(authenticate(a, opts)?.accessKeyId).toBe(KEY);
    expect(codeOf(() => authenticate({ ...a, headers: { ...a.headers, 'x-amz-date': '20240601T120000' } }, opts))).toBe('AccessDenied');
    const later = signed('GET', '/b/k', {}, { date: new Date(NOW.getTime() + 20 * 60 * 1000) });
    expect(codeOf(() => authenticate(later, opts))).toBe('RequestTimeTooSkewed');
    expect(authenticate(a, opts)?.accessKeyId).toBe(KEY);
  });

  it('joins repeated header values with commas', () => {
    const r = signed('GET', '/b/k', { 'x-amz-meta-tag': ['one', ' two '] });
    expect(authenticate(r, opts)?.accessKeyId).toBe(KEY);
  });
});

describe('authenticate: SigV4 presigned', () => {
  const presign = (target: string, expiresSeconds = 3600, o: Partial<SignOptions> = {}, headers: AuthRequest['headers'] = {}) =>
    presignRequest(req('GET', target, { host: HOST, ...headers }), { ...sign, expiresSeconds, ...o }).request;

  it('accepts a good URL', () => {
    expect(authenticate(presign('/b/k?response-content-type=text%2Fplain'), opts)).toEqual({
      accessKeyId: KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v4', presigned: true,
    });
  });

  it('accepts SDK presigned PUTs without enforcing their checksum parameters', () => {
    const r = presignRequest(req('PUT', '/b/k?x-id=PutObject&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32', { host: HOST }), {
      ...sign, expiresSeconds: 900,
    }).request;
    expect(authenticate(r, opts)?.payload).toEqual({ kind: 'unsigned' });
  });

  it('enforces a pinned X-Amz-Content-Sha256', () => {
    const hash = sha256Hex('body');
    const r = presign(`/b/k?X-Amz-Content-Sha256=${hash}`, 60, { payloadHash: hash });
    expect(authenticate(r, opts)?.payload).toEqual({ kind: 'sha256', expectedHex: hash });
  });

  it('X-Amz-Expires outside 1..604800 -> AuthorizationQueryParametersError', () => {
    expect(authenticate(presign('/b/k', 604800), opts)?.presigned).toBe(true);
    expect(authenticate(presign('/b/k', 1), opts)?.presigned).toBe(true);
    for (const e of [0, 604801]) expect(codeOf(() => authenticate(presign('/b/k', e), opts))).toBe('AuthorizationQueryParametersError');
    const r = presign('/b/k');
    expect(codeOf(() => authenticate({ ...r, rawQuery: r.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=-5') }, opts))).toBe('AuthorizationQueryParametersError');
  });

  it('expired -> AccessDenied "Request has expired"; not yet valid -> AccessDenied', () => {
    const r = presign('/b/k', 60);
    expect(() => authenticate(r, { ...opts, now: new Date(NOW.getTime() + 61_000) })).toThrowError(
      expect.objectContaining({ code: 'AccessDenied', message: 'Request has expired' }),
    );
    expect(codeOf(() => authenticate(r, { ...opts, now: new Date(NOW.getTime() - 16 * 60_000) }))).toBe('AccessDenied');
  });

  it('bad parameters, keys, signatures', () => {
    const r = presign('/b/k');
    const q = (f: (s: string) => string) => ({ ...r, rawQuery: f(r.rawQuery) });
    expect(codeOf(() => authenticate(q((s) => s.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')), opts))).toBe('AuthorizationQueryParametersError');
    expect(codeOf(() => authenticate(q((s) => s.replace(/&X-Amz-Date=[^&]+/, '')), opts))).toBe('AuthorizationQueryParametersError');
    expect(codeOf(() => authenticate(q((s) => s.replace(/&X-Amz-Signature=[^&]+/, '')), opts))).toBe('AuthorizationQueryParametersError');
    expect(codeOf(() => authenticate(q((s) => s.replace('X-Amz-Date=20240601T120000Z', 'X-Amz-Date=2024-06-01')), opts))).toBe('AuthorizationQueryParametersError');
    expect(codeOf(() => authenticate(presign('/b/k', 60, { region: 'eu-west-1' }), opts))).toBe('AuthorizationQueryParametersError');
    expect(codeOf(() => authenticate(presign('/b/k', 60, { accessKeyId: 'AKIDNOBODY' }), opts))).toBe('InvalidAccessKeyId');
    expect(codeOf(() => authenticate(presign('/b/k', 60, { secretAccessKey: 'nope' }), opts))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate({ ...r, rawPath: '/b/other' }, opts))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(q((s) => s + '&versionId=1'), opts))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(q((s) => s.replace('X-Amz-Expires=3600', 'X-Amz-Expires=7200')), opts))).toBe('SignatureDoesNotMatch');
  });

  it('checks signed headers other than host', () => {
    const r = presign('/b/k', 60, { signedHeaders: ['host', 'x-amz-meta-a'] }, { 'x-amz-meta-a': 'v' });
    expect(authenticate(r, opts)?.presigned).toBe(true);
    expect(codeOf(() => authenticate({ ...r, headers: { ...r.headers, 'x-amz-meta-a': 'w' } }, opts))).toBe('SignatureDoesNotMatch');
  });
});

describe('authenticate: SigV2', () => {
  const dateHeader = NOW.toUTCString();
  function v2(method: string, target: string, headers: Record<string, string> = {}, secret = SECRET, bucket?: string): AuthRequest {
    const r = req(method, target, { host: HOST, date: dateHeader, ...headers }, { virtualHostBucket: bucket });
    const sts = stringToSignV2({
      method, contentMd5: headers['content-md5'] ?? '', contentType: headers['content-type'] ?? '',
      date: headers['x-amz-date'] ? '' : dateHeader, amzHeaders: r.headers, rawPath: r.rawPath, rawQuery: r.rawQuery, virtualHostBucket: bucket,
    });
    return { ...r, headers: { ...r.headers, authorization: `AWS ${KEY}:${signV2(secret, sts)}` } };
  }

  it('accepts a good header-signed request', () => {
    expect(authenticate(v2('PUT', '/b/k', { 'content-type': 'text/plain', 'x-amz-meta-x': 'y' }), opts)).toEqual({
      accessKeyId: KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: false,
    });
    expect(authenticate(v2('GET', '/k', {}, SECRET, 'b'), opts)?.signatureVersion).toBe('v2');
  });

  it('signs sub-resources but not other query parameters', () => {
    const r = v2('GET', '/b/k?versionId=a%2Fb&uploads&prefix=x');
    expect(authenticate(r, opts)?.accessKeyId).toBe(KEY);
    expect(authenticate({ ...r, rawQuery: 'versionId=a%2Fb&uploads&prefix=y' }, opts)?.accessKeyId).toBe(KEY);
    expect(codeOf(() => authenticate({ ...r, rawQuery: 'versionId=a%2Fc&uploads&prefix=x' }, opts))).toBe('SignatureDoesNotMatch');
    // '?uploads=' may have been signed as '?uploads'.
    expect(authenticate({ ...r, rawQuery: 'versionId=a%2Fb&uploads=&prefix=x' }, opts)?.accessKeyId).toBe(KEY);
  });

  it('rejects wrong secret, unknown key, skew, tampering, malformed header', () => {
    expect(codeOf(() => authenticate(v2('GET', '/b/k', {}, 'wrong'), opts))).toBe('SignatureDoesNotMatch');
    const good = v2('GET', '/b/k');
    expect(codeOf(() => authenticate({ ...good, headers: { ...good.headers, authorization: 'AWS AKIDNOBODY:abc=' } }, opts))).toBe('InvalidAccessKeyId');
    expect(codeOf(() => authenticate(good, { ...opts, now: new Date(NOW.getTime() + 16 * 60_000) }))).toBe('RequestTimeTooSkewed');
    expect(codeOf(() => authenticate({ ...good, rawPath: '/b/j' }, opts))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate({ ...good, headers: { ...good.headers, authorization: `AWS ${KEY}` } }, opts))).toBe('InvalidArgument');
  });

  it('query form (aws s3 presign): good, expired, botocore x-amz-* query parameters', () => {
    const expires = String(Math.floor(NOW.getTime() / 1000) + 3600);
    const sts = `GET\n\n\n${expires}\nx-amz-security-token:tok\n/b/k`;
    const sig = encodeURIComponent(signV2(SECRET, sts));
    const r = req('GET', `/b/k?AWSAccessKeyId=${KEY}&Signature=${sig}&Expires=${expires}&x-amz-security-token=tok`, { host: HOST });
    expect(authenticate(r, opts)).toEqual({ accessKeyId: KEY, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: true });
    expect(codeOf(() => authenticate(r, { ...opts, now: new Date(NOW.getTime() + 3601_000) }))).toBe('AccessDenied');
    expect(codeOf(() => authenticate({ ...r, rawQuery: r.rawQuery.replace('Expires=', 'Expires=1') }, opts))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate({ ...r, rawQuery: r.rawQuery.replace(`AWSAccessKeyId=${KEY}`, 'AWSAccessKeyId=NOBODY') }, opts))).toBe('InvalidAccessKeyId');
    expect(codeOf(() => authenticate({ ...r, rawQuery: `AWSAccessKeyId=${KEY}&Expires=${expires}` }, opts))).toBe('AccessDenied');
  });
});
