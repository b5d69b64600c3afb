// A small SigV4 signer for the browser: signs admin API requests (Authorization header) and
// presigns S3 URLs when the console is signed in with an access key pair. Same canonical forms as
// the server's src/auth/sigv4.ts (test/unit/console-sigv4.test.ts checks them against it).
import { hmacSha256, sha256Hex, toHex, utf8 } from './sha256.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** RFC 3986 percent-encoding of every UTF-8 byte outside A-Z a-z 0-9 - . _ ~ (upper-case hex). */
export function uriEncode(text: string): string {
  let out = '';
  for (const b of utf8(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** x-amz-copy-source for a version: 'bucket/a/b%20c.txt?versionId=V', the key encoded as in a path. */
export function copySource(bucket: string, key: string, versionId: string): string {
  return `${objectPath(bucket, key).slice(1)}?versionId=${uriEncode(versionId)}`;
}

/** '/bucket/a/b%20c.txt': path-style S3 object path, each key segment encoded once ('/' kept). */
export function objectPath(bucket: string, key?: string): string {
  return key === undefined ? `/${uriEncode(bucket)}` : `/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`;
}

/** Pairs -> 'a=1&b=x%20y' in the given order; a '' value is written as the bare name ('uploads'). */
export function buildQuery(params: Array<[string, string]> | Record<string, string>): string {
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)).join('&');
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Sorted 'name=value' pairs, each decoded once and re-encoded (the server's canonical form). */
export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p): [string, string] => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? '' : p.slice(eq + 1);
      return [uriEncode(decodeComponent(name)), uriEncode(decodeComponent(value))];
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((s) => uriEncode(decodeComponent(s)))
    .join('/');
}

/** '20130524T000000Z'. */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function signingKey(secret: string, date: string, region: string, service = 's3'): Uint8Array {
  return hmacSha256(hmacSha256(hmacSha256(hmacSha256('AWS4' + secret, date), region), service), 'aws4_request');
}

export interface RequestToSign {
  method: string;
  /** Already encoded, as it goes on the wire (objectPath() builds one). */
  path: string;
  /** Already encoded, without '?'. */
  query: string;
  /** host:port the browser sends. */
  host: string;
  /** Extra headers to sign (lower-case names), e.g. content-type. */
  headers?: Record<string, string>;
}

export function canonicalRequest(r: RequestToSign, headers: Record<string, string>, payloadHash: string): { text: string; signed: string } {
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const text = [
    r.method.toUpperCase(),
    canonicalUri(r.path),
    canonicalQuery(r.query),
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    names.join(';'),
    payloadHash,
  ].join('\n');
  return { text, signed: names.join(';') };
}

/**
 * Headers for a signed request: x-amz-date, x-amz-content-sha256 (the body's hash, so the admin
 * API can check the body) and Authorization. `host` is signed but not returned (browsers set it).
 */
export function signHeaders(r: RequestToSign, c: Credentials, opts: { date?: Date; body?: string | Uint8Array; service?: string } = {}): Record<string, string> {
  const date = amzDate(opts.date ?? new Date());
  const service = opts.service ?? 's3';
  const payloadHash = opts.body === undefined ? EMPTY_SHA256 : sha256Hex(opts.body);
  const headers: Record<string, string> = { ...(r.headers ?? {}), host: r.host, 'x-amz-date': date, 'x-amz-content-sha256': payloadHash };
  const scope = `${date.slice(0, 8)}/${c.region}/${service}/aws4_request`;
  const cr = canonicalRequest(r, headers, payloadHash);
  const sts = `${ALGORITHM}\n${date}\n${scope}\n${sha256Hex(cr.text)}`;
  const signature = toHex(hmacSha256(signingKey(c.secretAccessKey, date.slice(0, 8), c.region, service), sts));
  const out = { ...headers, authorization: `${ALGORITHM} Credential=${c.accessKeyId}/${scope}, SignedHeaders=${cr.signed}, Signature=${signature}` };
  delete (out as Record<string, string>).host;
  return out;
}

/**
 * A presigned URL (UNSIGNED-PAYLOAD), as `aws s3 presign` makes them: host signed, and `r.headers`
 * (lower-case names), which the request must then send as signed (x-amz-copy-source).
 */
export function presign(r: RequestToSign & { origin: string }, c: Credentials, expiresSeconds: number, date = new Date()): string {
  const d = amzDate(date);
  const scope = `${d.slice(0, 8)}/${c.region}/s3/aws4_request`;
  const headers = { ...r.headers, host: r.host };
  const added = buildQuery([
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${c.accessKeyId}/${scope}`],
    ['X-Amz-Date', d],
    ['X-Amz-Expires', String(expiresSeconds)],
    ['X-Amz-SignedHeaders', Object.keys(headers).sort().join(';')],
  ]);
  const query = r.query ? `${r.query}&${added}` : added;
  const cr = canonicalRequest({ ...r, query }, headers, UNSIGNED_PAYLOAD);
  const sts = `${ALGORITHM}\n${d}\n${scope}\n${sha256Hex(cr.text)}`;
  const signature = toHex(hmacSha256(signingKey(c.secretAccessKey, d.slice(0, 8), c.region), sts));
  return `${r.origin}${r.path}?${query}&X-Amz-Signature=${signature}`;
}
