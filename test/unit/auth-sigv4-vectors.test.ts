// The AWS SigV4 test suite (aws-c-auth's v4 folder), run through cairn's canonicalization
// and verifier. The vectors use service 'service', so the verifier is called directly.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.js';
import { sha256Hex } from '../../src/auth/crypto.js';
import { canonicalRequest, credentialScope, signatureHex, signingKey, stringToSign } from '../../src/auth/sigv4.js';
import { verifyHeaderV4 } from '../../src/auth/sigv4-verify.js';
import type { AuthRequest } from '../../src/auth/types.js';

// Vendored with their LICENSE and NOTICE (test/fixtures/sigv4-vectors/README.md).
const ROOT = fileURLToPath(new URL('../fixtures/sigv4-vectors/v4', import.meta.url));

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  region: string;
  service: string;
  timestamp: string;
  normalize: boolean;
}

/** Parses request.txt-style files: request line, headers (with folded lines), body. */
function parseHttp(text: string): AuthRequest & { body: string } {
  const lines = text.split('\n');
  const first = lines[0];
  const method = first.slice(0, first.indexOf(' '));
  const target = first.slice(method.length + 1, first.lastIndexOf(' HTTP/'));
  const q = target.indexOf('?');
  const headers: Record<string, string | string[]> = {};
  let last = '';
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const line = lines[i];
    if (/^[ \t]/.test(line)) {
      // obs-fold continuation: keep it raw, canonicalization collapses the whitespace.
      const v = headers[last];
      if (Array.isArray(v)) v[v.length - 1] += '\n' + line;
      else headers[last] = v + '\n' + line;
      continue;
    }
    const colon = line.indexOf(':');
    last = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1);
    const prev = headers[last];
    headers[last] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers,
    body: lines.slice(i + 1).join('\n'),
  };
}

function read(name: string, file: string): string {
  return readFileSync(path.join(ROOT, name, file), 'utf8');
}

function signedHeadersOfAuthorization(auth: string): string[] {
  return /SignedHeaders=([^,]+)/.exec(auth)![1].split(';');
}

const ALL = readdirSync(ROOT).filter((d) => !d.includes('.')).sort();
// S3 must not normalize paths, so the *-normalized expectations are wrong for us by design.
// They are excluded from the main loop and checked below against their unnormalized twins.
const NORMALIZED = ALL.filter((d) => d.endsWith('-normalized'));
const CASES = ALL.filter((d) => !d.endsWith('-normalized'));

describe('AWS SigV4 test suite', () => {
  it('has all 38 vectors', () => {
    expect(ALL).toHaveLength(38);
    expect(CASES).toHaveLength(31);
    expect(NORMALIZED).toHaveLength(7);
  });

  describe.each(CASES)('%s', (name) => {
    const ctx = JSON.parse(read(name, 'context.json')) as Context;
    const amzDate = ctx.timestamp.replace(/[-:]/g, '');
    const date = amzDate.slice(0, 8);
    const scope = credentialScope(date, ctx.region, ctx.service);
    const key = signingKey(ctx.credentials.secret_access_key, date, ctx.region, ctx.service);

    it('header form: canonical request, string to sign, signature', () => {
      const req = parseHttp(read(name, 'header-signed-request.txt'));
      const auth = req.headers['authorization'] as string;
      const signed = signedHeadersOfAuthorization(auth);
      const payloadHash = (req.headers['x-amz-content-sha256'] as string | undefined) ?? sha256Hex(req.body);
      const cr = canonicalRequest({ ...req, signedHeaders: signed, payloadHash });
      expect(cr).toBe(read(name, 'header-canonical-request.txt'));
      const sts = stringToSign(amzDate, scope, cr);
      expect(sts).toBe(read(name, 'header-string-to-sign.txt'));
      expect(signatureHex(key, sts)).toBe(read(name, 'header-signature.txt').trim());
    });

    it('header form: the verifier accepts the signed request', () => {
      const req = parseHttp(read(name, 'header-signed-request.txt'));
      const verify = () =>
        verifyHeaderV4(req, req.headers['authorization'] as string, {
          lookup: (id) => (id === ctx.credentials.access_key_id ? ctx.credentials.secret_access_key : undefined),
          region: ctx.region,
          service: ctx.service,
          now: new Date(ctx.timestamp),
          maxSkewMs: 15 * 60 * 1000,
        });
      if (name === 'post-sts-header-after') {
        // The token header was added after signing: S3 refuses unsigned x-amz-* headers.
        expect(verify).toThrowError(expect.objectContaining({ code: 'AccessDenied' }) as S3Error);
        return;
      }
      const result = verify();
      expect(result.accessKeyId).toBe(ctx.credentials.access_key_id);
      expect(result.presigned).toBe(false);
    });

    it('query form: canonical request, string to sign, signature', () => {
      const req = parseHttp(read(name, 'query-signed-request.txt'));
      const q = new URLSearchParams(req.rawQuery);
      const signed = q.get('X-Amz-SignedHeaders')!.split(';');
      // The suite signs the body hash even for presigned requests; S3 clients would put
      // UNSIGNED-PAYLOAD here, which the authenticate() tests cover.
      const base = { ...req, signedHeaders: signed, payloadHash: sha256Hex(req.body) };
      // post-sts-header-after appends the token after signing: what was signed leaves it
      // out, and the request as sent must therefore not verify.
      const lateToken = name === 'post-sts-header-after';
      const cr = canonicalRequest({ ...base, excludeQuery: (n) => n === 'X-Amz-Signature' || (lateToken && n === 'X-Amz-Security-Token') });
      expect(cr).toBe(read(name, 'query-canonical-request.txt'));
      if (lateToken) {
        const asSent = canonicalRequest({ ...base, excludeQuery: (n) => n === 'X-Amz-Signature' });
        expect(signatureHex(key, stringToSign(amzDate, scope, asSent))).not.toBe(q.get('X-Amz-Signature'));
      }
      const sts = stringToSign(amzDate, scope, cr);
      expect(sts).toBe(read(name, 'query-string-to-sign.txt'));
      const sig = signatureHex(key, sts);
      expect(sig).toBe(read(name, 'query-signature.txt').trim());
      expect(q.get('X-Amz-Signature')).toBe(sig);
    });
  });

  describe.each(NORMALIZED)('%s (S3 does not normalize)', (name) => {
    const twin = name.replace(/-normalized$/, '-unnormalized');
    it(`matches ${twin}'s expectations instead`, () => {
      const req = parseHttp(read(name, 'header-signed-request.txt'));
      const signed = signedHeadersOfAuthorization(req.headers['authorization'] as string);
      const cr = canonicalRequest({ ...req, signedHeaders: signed, payloadHash: sha256Hex(req.body) });
      expect(cr).toBe(read(twin, 'header-canonical-request.txt'));
      const normalizedPath = read(name, 'header-canonical-request.txt').split('\n')[1];
      const ourPath = cr.split('\n')[1];
      if (normalizedPath !== ourPath) expect(ourPath).toBe(req.rawPath.replace(/ /g, '%20'));
    });
  });
});
