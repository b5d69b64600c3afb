// SigV4 building blocks: canonical request, string to sign, signing key, and a small
// signer (used by tests and by anything in cairn that must sign a request itself).
import { EMPTY_SHA256, hmacSha256, sha256Hex } from './crypto.js';
import { parseQuery, percentDecodeBytes, uriEncode } from './encoding.js';
import type { AuthRequest } from './types.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const PLAIN_PATH = /^[A-Za-z0-9\-._~/]+$/;

/**
 * S3 signs the path as sent: no dot-segment removal and no '//' merging (the key 'a//b'
 * and '../x' are legal object keys). Each segment is decoded once and re-encoded, so
 * '%20', ' ' and '%2f' vs '%2F' all end up in one canonical form, never double-encoded.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  // Unreserved characters and '/' only (most paths): decoding and re-encoding changes nothing.
  if (PLAIN_PATH.test(rawPath)) return rawPath;
  return rawPath
    .split('/')
    .map((segment) => uriEncode(percentDecodeBytes(segment)))
    .join('/');
}

/** Decoded then re-encoded pairs, sorted by name then value; `exclude` drops by decoded name. */
export function canonicalQuery(rawQuery: string, exclude?: (name: string) => boolean): string {
  const pairs: Array<[string, string]> = [];
  for (const p of parseQuery(rawQuery)) {
    if (exclude?.(p.name)) continue;
    pairs.push([uriEncode(percentDecodeBytes(p.rawName)), uriEncode(percentDecodeBytes(p.rawValue))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Trim, collapse inner whitespace runs (this also unfolds obs-fold lines), join repeats with ','. */
export function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const parts = Array.isArray(value) ? value : [value];
  return parts.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

export function headerValue(req: Pick<AuthRequest, 'headers' | 'host'>, name: string): string | string[] | undefined {
  const v = req.headers[name];
  if (v === undefined && name === 'host') return req.host;
  return v;
}

export interface CanonicalRequestInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: AuthRequest['headers'];
  host?: string;
  /** Lower-case names, in any order (they are sorted here). */
  signedHeaders: string[];
  payloadHash: string;
  /** Presigned URLs leave their own signature out of what they sign. */
  excludeQuery?: (name: string) => boolean;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const names = [...input.signedHeaders].map((h) => h.toLowerCase()).sort();
  const headerLines = names.map((n) => `${n}:${canonicalHeaderValue(headerValue(input, n))}\n`).join('');
  return [
    input.method.toUpperCase(),
    canonicalUri(input.rawPath),
    canonicalQuery(input.rawQuery, input.excludeQuery),
    headerLines,
    names.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return stringToSignOfHash(amzDate, scope, sha256Hex(canonicalRequestText));
}

export function stringToSignOfHash(amzDate: string, scope: string, canonicalRequestHash: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${canonicalRequestHash}`;
}

const BEYOND_ASCII = /[\u0080-\uffff]/;
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * The canonical request's hash in each form a client may have signed; one for a plain ASCII
 * request. Node hands header values over as Latin-1, one character per byte received. A client
 * that signs the bytes it sends (curl --aws-sigv4; botocore, which sends its headers as UTF-8;
 * the JS SDK with a string body, whose headers node writes as UTF-8 with it) hashed those bytes:
 * the Latin-1 form, tried first. One that hashes its characters as UTF-8 but sends them as
 * Latin-1 bytes (the JS SDK with a Buffer or stream body) hashed each received character's
 * UTF-8: the second form.
 */
export function canonicalRequestHashes(canonicalRequestText: string): string[] {
  const utf8 = sha256Hex(canonicalRequestText);
  if (!BEYOND_ASCII.test(canonicalRequestText) || BEYOND_LATIN1.test(canonicalRequestText)) return [utf8];
  return [sha256Hex(Buffer.from(canonicalRequestText, 'latin1')), utf8];
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256('AWS4' + secret, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, 'aws4_request');
}

export function signatureHex(key: Buffer, toSign: string): string {
  return hmacSha256(key, toSign).toString('hex');
}

/** '20130524T000000Z' from a Date. */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface SignOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
  /** A Date or an amz date string ('20130524T000000Z'). */
  date: Date | string;
  /** Defaults to x-amz-content-sha256 if present, else the empty-body hash (header) / UNSIGNED-PAYLOAD (presign). */
  payloadHash?: string;
  /** Defaults to every header present, plus host. */
  signedHeaders?: string[];
  sessionToken?: string;
}

export interface Signed {
  request: AuthRequest;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

function defaultSignedHeaders(req: AuthRequest): string[] {
  const names = new Set(Object.keys(req.headers).filter((k) => req.headers[k] !== undefined).map((k) => k.toLowerCase()));
  if (req.host !== undefined || req.headers.host !== undefined) names.add('host');
  names.delete('authorization');
  return [...names].sort();
}

/** Minimal header signer: adds x-amz-date (and the token), then Authorization. */
export function signRequest(req: AuthRequest, o: SignOptions): Signed {
  const service = o.service ?? 's3';
  const amzDate = typeof o.date === 'string' ? o.date : formatAmzDate(o.date);
  const headers: AuthRequest['headers'] = { ...req.headers, 'x-amz-date': amzDate };
  if (o.sessionToken) headers['x-amz-security-token'] = o.sessionToken;
  const withDate: AuthRequest = { ...req, headers };
  const contentSha = headers['x-amz-content-sha256'];
  const payloadHash = o.payloadHash ?? (typeof contentSha === 'string' ? contentSha : EMPTY_SHA256);
  const signedHeaders = o.signedHeaders ?? defaultSignedHeaders(withDate);
  const scope = credentialScope(amzDate.slice(0, 8), o.region, service);
  const cr = canonicalRequest({ ...withDate, signedHeaders, payloadHash });
  const sts = stringToSign(amzDate, scope, cr);
  const signature = signatureHex(signingKey(o.secretAccessKey, amzDate.slice(0, 8), o.region, service), sts);
  headers.authorization =
    `${ALGORITHM} Credential=${o.accessKeyId}/${scope}, ` +
    `SignedHeaders=${[...signedHeaders].sort().join(';')}, Signature=${signature}`;
  return { request: withDate, signature, canonicalRequest: cr, stringToSign: sts };
}

/** Minimal presigner: appends the X-Amz-* parameters and X-Amz-Signature to the query. */
export function presignRequest(req: AuthRequest, o: SignOptions & { expiresSeconds: number }): Signed {
  const service = o.service ?? 's3';
  const amzDate = typeof o.date === 'string' ? o.date : formatAmzDate(o.date);
  const scope = credentialScope(amzDate.slice(0, 8), o.region, service);
  const signedHeaders = o.signedHeaders ?? defaultSignedHeaders(req);
  const params: Array<[string, string]> = [
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${o.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(o.expiresSeconds)],
  ];
  if (o.sessionToken) params.push(['X-Amz-Security-Token', o.sessionToken]);
  params.push(['X-Amz-SignedHeaders', [...signedHeaders].sort().join(';')]);
  const added = params.map(([k, v]) => `${k}=${uriEncode(v)}`).join('&');
  const rawQuery = req.rawQuery ? `${req.rawQuery}&${added}` : added;
  const payloadHash = o.payloadHash ?? UNSIGNED_PAYLOAD;
  const cr = canonicalRequest({ ...req, rawQuery, signedHeaders, payloadHash });
  const sts = stringToSign(amzDate, scope, cr);
  const signature = signatureHex(signingKey(o.secretAccessKey, amzDate.slice(0, 8), o.region, service), sts);
  return {
    request: { ...req, rawQuery: `${rawQuery}&X-Amz-Signature=${signature}` },
    signature,
    canonicalRequest: cr,
    stringToSign: sts,
  };
}
