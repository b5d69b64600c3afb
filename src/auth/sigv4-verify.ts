// Verifies SigV4 requests: Authorization header and presigned query. Service-agnostic so
// the AWS test-suite vectors (service 'service') run through the same code as S3.
import { S3Error } from '../s3/errors.js';
import { EMPTY_SHA256, HEX64, prepareHmacKey, safeEqual } from './crypto.js';
import { parseQuery, queryMap } from './encoding.js';
import {
  ALGORITHM,
  UNSIGNED_PAYLOAD,
  canonicalRequest,
  canonicalRequestHashes,
  credentialScope,
  formatAmzDate,
  signatureHex,
  signingKey,
  stringToSignOfHash,
} from './sigv4.js';
import type { AuthRequest, AuthResult, PayloadMode, SecretLookup } from './types.js';

export interface VerifyOptions {
  lookup: SecretLookup;
  region: string;
  service: string;
  now: Date;
  maxSkewMs: number;
}

const MAX_PRESIGN_SECONDS = 604800;

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

type ScopeError = 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError';

function parseCredential(value: string, code: ScopeError, o: VerifyOptions): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || !parts[0] || !/^\d{8}$/.test(parts[1]) || parts[4] !== 'aws4_request') {
    throw new S3Error(code, {}, `Error parsing the Credential parameter: '${value}'.`);
  }
  const [accessKeyId, date, region, service] = parts;
  if (region !== o.region) {
    throw new S3Error(code, { Region: o.region }, `The authorization header is malformed; the region '${region}' is wrong; expecting '${o.region}'`);
  }
  if (service !== o.service) {
    throw new S3Error(code, {}, `The authorization header is malformed; incorrect service '${service}'. This endpoint belongs to '${o.service}'.`);
  }
  return { accessKeyId, date, region, service };
}

/** Parses '20130524T000000Z'; undefined if the text is not exactly that form. */

// The signing key depends only on the secret and the scope (day, region, service): derived once
// a day per key instead of four HMACs per request. Bounded: cleared when it grows past a few
// hundred scopes (keys x days), which only churn could reach.
const signingKeys = new Map<string, Buffer>();
function cachedSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${date}\n${region}\n${service}\n${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size >= 512) signingKeys.clear();
    // Every request of the day, and every chunk signature of a streamed upload, is an HMAC under it.
    key = prepareHmacKey(signingKey(secret, date, region, service));
    signingKeys.set(id, key);
  }
  return key;
}
// Most requests of one second carry the same x-amz-date: the last one parsed is kept.
let lastAmzDate: { value: string; date: Date | undefined } = { value: '', date: undefined };

export function parseAmzDate(value: string): Date | undefined {
  if (value === lastAmzDate.value) return lastAmzDate.date;
  const date = parseAmzDateUncached(value);
  lastAmzDate = { value, date };
  return date;
}

function parseAmzDateUncached(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(t);
  // Reject 20130231T... and friends, which Date.UTC silently rolls over.
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59) return undefined;
  return date;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function secretFor(o: VerifyOptions, accessKeyId: string): string {
  const secret = o.lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: accessKeyId });
  return secret;
}

function requireHostSigned(signed: string[], code: ScopeError): void {
  if (!signed.includes('host')) {
    throw new S3Error(code, {}, 'The host header must be signed.');
  }
}

/**
 * What the payload hash field promises about the body. A missing x-amz-content-sha256 is
 * accepted as UNSIGNED-PAYLOAD (real S3 refuses it): curl --aws-sigv4 sends none, and on
 * a PUT without it we still authenticate the headers, only the body goes unverified.
 */
function payloadModeFor(contentSha: string | undefined, seed: () => PayloadMode): PayloadMode {
  if (contentSha === undefined || contentSha === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (HEX64.test(contentSha)) return { kind: 'sha256', expectedHex: contentSha.toLowerCase() };
  if (contentSha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { kind: 'streaming-unsigned-trailer' };
  if (contentSha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || contentSha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') {
    return seed();
  }
  throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha },
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a valid sha256 value.');
}

function checkSkew(requestTime: Date, o: VerifyOptions): void {
  if (Math.abs(o.now.getTime() - requestTime.getTime()) > o.maxSkewMs) {
    throw new S3Error('RequestTimeTooSkewed', {
      RequestTime: requestTime.toISOString(),
      ServerTime: o.now.toISOString(),
      MaxAllowedSkewMilliseconds: o.maxSkewMs,
    });
  }
}

// The form every SDK writes: one space after the algorithm, ', ' between the fields, in this order.
const USUAL_AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s=]+), ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]+)$/;

function parseAuthorizationHeader(value: string): { credential: string; signedHeaders: string[]; signature: string } {
  const usual = USUAL_AUTHORIZATION.exec(value);
  if (usual) return { credential: usual[1]!, signedHeaders: usual[2]!.split(';'), signature: usual[3]! };
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length).split(',')) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) throw new S3Error('AuthorizationHeaderMalformed');
    fields.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signed || !signature) {
    throw new S3Error('AuthorizationHeaderMalformed', {}, 'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.');
  }
  return { credential, signedHeaders: signed.split(';').map((h) => h.trim().toLowerCase()), signature };
}

export function verifyHeaderV4(req: AuthRequest, authorization: string, o: VerifyOptions): AuthResult {
  const auth = parseAuthorizationHeader(authorization);
  const cred = parseCredential(auth.credential, 'AuthorizationHeaderMalformed', o);
  requireHostSigned(auth.signedHeaders, 'AuthorizationHeaderMalformed');

  const xAmzDate = single(req.headers['x-amz-date']);
  const dateHeader = single(req.headers['date']);
  let requestTime: Date | undefined;
  let amzDate: string;
  if (xAmzDate !== undefined) {
    requestTime = parseAmzDate(xAmzDate.trim());
    amzDate = xAmzDate.trim();
  } else {
    const ms = dateHeader === undefined ? NaN : Date.parse(dateHeader);
    requestTime = Number.isNaN(ms) ? undefined : new Date(ms);
    amzDate = requestTime ? formatAmzDate(requestTime) : '';
  }
  if (!requestTime) throw new S3Error('AccessDenied', {}, 'AWS authentication requires a valid Date or x-amz-date header');
  if (amzDate.slice(0, 8) !== cred.date) {
    throw new S3Error('AuthorizationHeaderMalformed', {}, 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  checkSkew(requestTime, o);
  const secret = secretFor(o, cred.accessKeyId);

  rejectUnsignedAmzHeaders(req, auth.signedHeaders);

  const contentSha = single(req.headers['x-amz-content-sha256'])?.trim();
  const key = cachedSigningKey(secret, cred.date, cred.region, cred.service);
  const scope = credentialScope(cred.date, cred.region, cred.service);

  // Without the header we cannot know what the client hashed: generic SigV4 signers
  // (curl) hash an empty body, others write UNSIGNED-PAYLOAD.
  const candidates = contentSha === undefined ? [EMPTY_SHA256, UNSIGNED_PAYLOAD] : [contentSha];
  let ok = false;
  for (const payloadHash of candidates) {
    const cr = canonicalRequest({ ...req, signedHeaders: auth.signedHeaders, payloadHash });
    if (signedAnyForm(key, amzDate, scope, cr, auth.signature)) ok = true;
  }
  if (!ok) throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: cred.accessKeyId });
  // Only a signed request learns what is wrong with its payload mode: a forged one is a 403.
  const payload = payloadModeFor(contentSha, () => ({
    kind: 'streaming-signed',
    trailer: contentSha!.endsWith('-TRAILER'),
    seed: { signingKey: key, amzDate, scope, seedSignature: auth.signature.toLowerCase() },
  }));
  return { accessKeyId: cred.accessKeyId, payload, signatureVersion: 'v4', presigned: false };
}

/** Whether `signature` signs the canonical request in one of its forms (non-ASCII header values: two), each compared in constant time. */
function signedAnyForm(key: Buffer, amzDate: string, scope: string, cr: string, signature: string): boolean {
  let ok = false;
  for (const hash of canonicalRequestHashes(cr)) {
    if (safeEqual(signatureHex(key, stringToSignOfHash(amzDate, scope, hash)), signature)) ok = true;
  }
  return ok;
}

/**
 * S3 refuses x-amz-* headers the client did not sign, in the header form and under a presigned
 * URL alike (x-amz-acl, x-amz-copy-source... would change the request's meaning). A presigned
 * request may still carry x-amz-content-sha256: its payload hash is the signed query's.
 */
function rejectUnsignedAmzHeaders(req: AuthRequest, signed: string[], exempt?: string): void {
  const unsigned = Object.keys(req.headers).filter(
    (h) => h.startsWith('x-amz-') && h !== exempt && req.headers[h] !== undefined && !signed.includes(h),
  );
  if (unsigned.length > 0) {
    throw new S3Error('AccessDenied', { HeadersNotSigned: unsigned.join(', ') }, 'There were headers present in the request which were not signed');
  }
}

const REQUIRED_QUERY = ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];

export function verifyPresignedV4(req: AuthRequest, o: VerifyOptions): AuthResult {
  const q = queryMap(parseQuery(req.rawQuery));
  if (q.get('X-Amz-Algorithm') !== ALGORITHM) {
    throw new S3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  if (REQUIRED_QUERY.some((k) => !q.get(k))) {
    throw new S3Error('AuthorizationQueryParametersError', {},
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const cred = parseCredential(q.get('X-Amz-Credential')!, 'AuthorizationQueryParametersError', o);
  const amzDate = q.get('X-Amz-Date')!;
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw new S3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (amzDate.slice(0, 8) !== cred.date) {
    throw new S3Error('AuthorizationQueryParametersError', {}, 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const expiresText = q.get('X-Amz-Expires')!;
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expires >= 1)) throw new S3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Expires must be a positive integer');
  if (expires > MAX_PRESIGN_SECONDS) {
    throw new S3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  if (signedAt.getTime() - o.now.getTime() > o.maxSkewMs) {
    throw new S3Error('AccessDenied', {}, 'Request is not valid yet');
  }
  if (o.now.getTime() > signedAt.getTime() + expires * 1000) {
    throw new S3Error('AccessDenied', { Expires: new Date(signedAt.getTime() + expires * 1000).toISOString(), ServerTime: o.now.toISOString() }, 'Request has expired');
  }
  const signedHeaders = q.get('X-Amz-SignedHeaders')!.split(';').map((h) => h.trim().toLowerCase());
  requireHostSigned(signedHeaders, 'AuthorizationQueryParametersError');
  const secret = secretFor(o, cred.accessKeyId);
  rejectUnsignedAmzHeaders(req, signedHeaders, 'x-amz-content-sha256');

  const contentSha = q.get('X-Amz-Content-Sha256');
  const payloadHash = contentSha ?? UNSIGNED_PAYLOAD;
  const key = cachedSigningKey(secret, cred.date, cred.region, cred.service);
  const scope = credentialScope(cred.date, cred.region, cred.service);
  const cr = canonicalRequest({ ...req, signedHeaders, payloadHash, excludeQuery: (n) => n === 'X-Amz-Signature' });
  if (!signedAnyForm(key, amzDate, scope, cr, q.get('X-Amz-Signature')!)) {
    throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: cred.accessKeyId });
  }
  // A presigned URL that pins a body hash gets it enforced; anything else is unsigned
  // (streaming modes need a seed signature from a header, which a URL cannot carry).
  const payload: PayloadMode =
    contentSha !== undefined && HEX64.test(contentSha) ? { kind: 'sha256', expectedHex: contentSha.toLowerCase() } : { kind: 'unsigned' };
  return { accessKeyId: cred.accessKeyId, payload, signatureVersion: 'v4', presigned: true };
}
