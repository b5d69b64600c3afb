// S3's Signature Version 2 (HMAC-SHA1), header and query forms. `aws s3 presign` still
// produces SigV2 query URLs by default, so this is not just legacy.
import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { safeEqual } from './crypto.js';
import { parseQuery, queryMap, type QueryParam } from './encoding.js';
import { parseAmzDate } from './sigv4-verify.js';
import type { AuthRequest, AuthResult, SecretLookup } from './types.js';

/**
 * Query parameters that are part of the signed resource. botocore's list (a superset of
 * the one in the S3 docs): the aws CLI is the main SigV2 client left, so match what it signs.
 */
export const SIGV2_SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'lifecycle',
  'location', 'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy',
  'replication', 'requestPayment', 'restore', 'select', 'select-type', 'storageClass', 'tagging',
  'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires',
]);

export interface V2StringToSignInput {
  method: string;
  contentMd5: string;
  contentType: string;
  /** Date header, '' when x-amz-date is present, or Expires for the query form. */
  date: string;
  /** Lower-case x-amz-* name -> values. */
  amzHeaders: Record<string, string | string[] | undefined>;
  rawPath: string;
  rawQuery: string;
  virtualHostBucket?: string;
  /**
   * '?uploads' vs '?uploads=': clients sign what they sent, but some sign the bare name.
   * 'literal' keeps the wire form, 'bare' drops '=' of empty values.
   */
  emptyValueStyle?: 'literal' | 'bare';
}

export function canonicalizedAmzHeaders(headers: V2StringToSignInput['amzHeaders']): string {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith('x-amz-') && headers[n] !== undefined)
    .sort();
  return names
    .map((n) => {
      const v = headers[n]!;
      const values = (Array.isArray(v) ? v : [v]).map((x) => x.trim().replace(/\s*\r?\n\s*/g, ' '));
      return `${n}:${values.join(',')}\n`;
    })
    .join('');
}

export function canonicalizedResource(input: Pick<V2StringToSignInput, 'rawPath' | 'rawQuery' | 'virtualHostBucket' | 'emptyValueStyle'>): string {
  let resource = (input.virtualHostBucket ? '/' + input.virtualHostBucket : '') + (input.rawPath || '/');
  const subs = parseQuery(input.rawQuery).filter((p) => SIGV2_SUBRESOURCES.has(p.rawName));
  if (subs.length > 0) {
    // Stable sort by name; values are signed decoded (the S3 docs: "you do not encode these values").
    const sorted = [...subs].sort((a, b) => (a.rawName < b.rawName ? -1 : a.rawName > b.rawName ? 1 : 0));
    const bare = input.emptyValueStyle === 'bare';
    resource += '?' + sorted.map((p: QueryParam) => (p.value === '' && (bare || !p.hasEquals) ? p.rawName : `${p.rawName}=${p.value}`)).join('&');
  }
  return resource;
}

export function stringToSignV2(input: V2StringToSignInput): string {
  return [input.method.toUpperCase(), input.contentMd5, input.contentType, input.date, ''].join('\n') +
    canonicalizedAmzHeaders(input.amzHeaders) +
    canonicalizedResource(input);
}

export function signV2(secret: string, toSign: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return createHmac('sha1', secret).update(toSign, encoding).digest('base64');
}

/**
 * x-amz-* header values with characters beyond ASCII: the bytes as received (Latin-1, as node
 * hands them over) or each character's UTF-8, as for SigV4 (canonicalRequestHashes).
 */
function signedAnyEncoding(secret: string, toSign: string, provided: string): boolean {
  let ok = safeEqual(signV2(secret, toSign), provided);
  if (/[\u0080-\u00ff]/.test(toSign) && !/[\u0100-\uffff]/.test(toSign) && safeEqual(signV2(secret, toSign, 'latin1'), provided)) ok = true;
  return ok;
}

function single(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function amzHeadersOf(req: AuthRequest): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-amz-')) out[k] = v;
  return out;
}

function matchesAny(secret: string, base: Omit<V2StringToSignInput, 'emptyValueStyle'>, provided: string): boolean {
  const literal = stringToSignV2({ ...base, emptyValueStyle: 'literal' });
  const bare = stringToSignV2({ ...base, emptyValueStyle: 'bare' });
  let ok = signedAnyEncoding(secret, literal, provided);
  if (bare !== literal && signedAnyEncoding(secret, bare, provided)) ok = true;
  return ok;
}

export interface V2Options {
  lookup: SecretLookup;
  now: Date;
  maxSkewMs: number;
}

export function verifyHeaderV2(req: AuthRequest, authorization: string, o: V2Options): AuthResult {
  const creds = authorization.slice(4).trim();
  const colon = creds.lastIndexOf(':');
  if (colon <= 0 || colon === creds.length - 1) {
    throw new S3Error('InvalidArgument', {}, 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature');
  }
  const accessKeyId = creds.slice(0, colon);
  const signature = creds.slice(colon + 1);

  // x-amz-date wins over Date, and then the Date line of the string to sign is empty.
  const xAmzDate = req.headers['x-amz-date'] !== undefined ? single(req.headers['x-amz-date']) : undefined;
  const dateHeader = single(req.headers['date']);
  const dateText = (xAmzDate ?? dateHeader).trim();
  const when = parseAmzDate(dateText)?.getTime() ?? Date.parse(dateText);
  if (Number.isNaN(when)) throw new S3Error('AccessDenied', {}, 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(o.now.getTime() - when) > o.maxSkewMs) {
    throw new S3Error('RequestTimeTooSkewed', { RequestTime: new Date(when).toISOString(), ServerTime: o.now.toISOString(), MaxAllowedSkewMilliseconds: o.maxSkewMs });
  }
  const secret = o.lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: accessKeyId });

  const base = {
    method: req.method,
    contentMd5: single(req.headers['content-md5']),
    contentType: single(req.headers['content-type']),
    date: xAmzDate !== undefined ? '' : dateHeader,
    amzHeaders: amzHeadersOf(req),
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    virtualHostBucket: req.virtualHostBucket,
  };
  if (!matchesAny(secret, base, signature)) throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: accessKeyId });
  return { accessKeyId, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: false };
}

export function verifyQueryV2(req: AuthRequest, o: V2Options): AuthResult {
  const params = parseQuery(req.rawQuery);
  const q = queryMap(params);
  const accessKeyId = q.get('AWSAccessKeyId');
  const signature = q.get('Signature');
  const expiresText = q.get('Expires');
  if (!accessKeyId || !signature || !expiresText) {
    throw new S3Error('AccessDenied', {}, 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,12}$/.test(expiresText)) throw new S3Error('AccessDenied', {}, 'Invalid date (should be seconds since epoch): ' + expiresText);
  if (o.now.getTime() > Number(expiresText) * 1000) {
    throw new S3Error('AccessDenied', { Expires: new Date(Number(expiresText) * 1000).toISOString(), ServerTime: o.now.toISOString() }, 'Request has expired');
  }
  const secret = o.lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { AWSAccessKeyId: accessKeyId });

  // botocore's presigner moves x-amz-*, Content-Type and Content-MD5 headers into the
  // query string, and signs them as if they were headers.
  const amzHeaders = amzHeadersOf(req);
  for (const p of params) {
    const n = p.name.toLowerCase();
    if (n.startsWith('x-amz-') && amzHeaders[n] === undefined) amzHeaders[n] = p.value;
  }
  const lower = new Map(params.map((p) => [p.name.toLowerCase(), p.value] as const));
  const base = {
    method: req.method,
    contentMd5: single(req.headers['content-md5']) || (lower.get('content-md5') ?? ''),
    contentType: single(req.headers['content-type']) || (lower.get('content-type') ?? ''),
    date: expiresText,
    amzHeaders,
    rawPath: req.rawPath,
    rawQuery: req.rawQuery,
    virtualHostBucket: req.virtualHostBucket,
  };
  if (!matchesAny(secret, base, signature)) throw new S3Error('SignatureDoesNotMatch', { AWSAccessKeyId: accessKeyId });
  return { accessKeyId, payload: { kind: 'unsigned' }, signatureVersion: 'v2', presigned: true };
}
