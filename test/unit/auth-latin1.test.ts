import { describe, expect, it } from 'vitest';
import { authenticate, type AuthOptions } from '../../src/auth/authenticate.js';
import { sha256Hex } from '../../src/auth/crypto.js';
import {
  canonicalRequest,
  canonicalRequestHashes,
  credentialScope,
  formatAmzDate,
  presignRequest,
  signatureHex,
  signingKey,
  signRequest,
  stringToSignOfHash,
  type SignOptions,
} from '../../src/auth/sigv4.js';
import { signV2, stringToSignV2 } from '../../src/auth/sigv2.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { req, codeOf } from './auth-helpers.js';

// Header values beyond ASCII (user metadata 'café'). Node hands a header over as Latin-1, one
// character per byte received; clients sign either those bytes (curl --aws-sigv4; botocore and
// the JS SDK with a string body, which send UTF-8) or each character's UTF-8 while sending
// Latin-1 bytes (the JS SDK with a Buffer or stream body). Both verify; anything else does not.

const KEY = 'AKIDLATIN1TEST';
const SECRET = 'latin1/secret+key';
const NOW = new Date('2024-06-01T12:00:00Z');
const HOST = 'localhost:9000';
const opts: AuthOptions = { lookup: (id) => (id === KEY ? SECRET : undefined), region: 'us-east-1', now: NOW };
const sign: SignOptions = { accessKeyId: KEY, secretAccessKey: SECRET, region: 'us-east-1', date: NOW, payloadHash: 'UNSIGNED-PAYLOAD' };

/** What node hands the server for `text` sent as UTF-8 bytes. */
const receivedAsUtf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const put = (meta: string): AuthRequest => req('PUT', '/b/k', { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-note': meta });

/** Signs over the canonical request's bytes as Latin-1: a client that signs exactly what it sends. */
function signedOverBytes(r: AuthRequest): AuthRequest {
  const date = formatAmzDate(NOW);
  const headers = { ...r.headers, 'x-amz-date': date };
  const signedHeaders = Object.keys(headers).sort();
  const cr = canonicalRequest({ ...r, headers, signedHeaders, payloadHash: 'UNSIGNED-PAYLOAD' });
  const scope = credentialScope(date.slice(0, 8), 'us-east-1', 's3');
  const sts = stringToSignOfHash(date, scope, sha256Hex(Buffer.from(cr, 'latin1')));
  const signature = signatureHex(signingKey(SECRET, date.slice(0, 8), 'us-east-1', 's3'), sts);
  return { ...r, headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${KEY}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}` } };
}

describe('SigV4 with header values beyond ASCII', () => {
  it('canonicalRequestHashes: one form for ASCII or for characters beyond Latin-1, two for Latin-1', () => {
    expect(canonicalRequestHashes('a:b\n')).toEqual([sha256Hex('a:b\n')]);
    expect(canonicalRequestHashes('a:caf\u00e9\n')).toEqual([sha256Hex(Buffer.from('a:caf\u00e9\n', 'latin1')), sha256Hex('a:caf\u00e9\n')]);
    expect(canonicalRequestHashes('a:\u4e2d\n')).toEqual([sha256Hex('a:\u4e2d\n')]);
  });

  it('the JS SDK with a Buffer body: UTF-8 of each character signed, Latin-1 bytes sent', () => {
    // The server receives byte E9, which node hands over as 'é': what the client signed as UTF-8.
    const r = signRequest(put('café'), sign).request;
    expect(authenticate(r, opts)?.accessKeyId).toBe(KEY);
  });

  it('botocore, the JS SDK with a string body: UTF-8 signed and sent as UTF-8 bytes', () => {
    const r = signRequest(put('café'), sign).request;
    const received = { ...r, headers: { ...r.headers, 'x-amz-meta-note': receivedAsUtf8('café') } };
    expect(authenticate(received, opts)?.accessKeyId).toBe(KEY);
  });

  it('curl --aws-sigv4: the raw bytes it sends, signed as they are', () => {
    expect(authenticate(signedOverBytes(put('caf\u00e9')), opts)?.accessKeyId).toBe(KEY);
    expect(authenticate(signedOverBytes(put(receivedAsUtf8('naïve €'))), opts)?.accessKeyId).toBe(KEY);
  });

  it('another value, or the same characters in a third encoding, is still SignatureDoesNotMatch', () => {
    const r = signRequest(put('café'), sign).request;
    expect(codeOf(() => authenticate({ ...r, headers: { ...r.headers, 'x-amz-meta-note': 'cafe' } }, opts))).toBe('SignatureDoesNotMatch');
    // UTF-16 bytes of 'é' are neither form.
    const utf16 = Buffer.from('café', 'utf16le').toString('latin1');
    expect(codeOf(() => authenticate({ ...r, headers: { ...r.headers, 'x-amz-meta-note': utf16 } }, opts))).toBe('SignatureDoesNotMatch');
  });

  it('a presigned URL that signs such a header verifies in both forms', () => {
    const p = presignRequest(req('PUT', '/b/k', { host: HOST, 'x-amz-meta-note': 'café' }), { ...sign, expiresSeconds: 60 }).request;
    expect(authenticate(p, opts)?.presigned).toBe(true);
    expect(authenticate({ ...p, headers: { ...p.headers, 'x-amz-meta-note': receivedAsUtf8('café') } }, opts)?.presigned).toBe(true);
  });
});

describe('SigV2 with header values beyond ASCII', () => {
  const v2 = (value: string, encoding: 'utf8' | 'latin1'): AuthRequest => {
    const date = NOW.toUTCString();
    const r = req('PUT', '/b/k', { host: HOST, date, 'x-amz-meta-note': value });
    const sts = stringToSignV2({ method: 'PUT', contentMd5: '', contentType: '', date, amzHeaders: { 'x-amz-meta-note': value }, rawPath: r.rawPath, rawQuery: '' });
    return { ...r, headers: { ...r.headers, authorization: `AWS ${KEY}:${signV2(SECRET, sts, encoding)}` } };
  };

  it('verifies the bytes as received and each character as UTF-8; not another value', () => {
    expect(authenticate(v2('caf\u00e9', 'latin1'), opts)?.signatureVersion).toBe('v2');
    expect(authenticate(v2('caf\u00e9', 'utf8'), opts)?.signatureVersion).toBe('v2');
    const r = v2('caf\u00e9', 'utf8');
    expect(codeOf(() => authenticate({ ...r, headers: { ...r.headers, 'x-amz-meta-note': 'cafe' } }, opts))).toBe('SignatureDoesNotMatch');
  });
});
