import { presignRequest } from '../auth/sigv4.js';
import { uriEncode } from '../auth/encoding.js';

// Presigned S3 URLs (SigV4 query signing), for the admin API (the console) and the CLI.

/** 7 days: the longest expiry SigV4 allows. */
export const MAX_PRESIGN_SECONDS = 604_800;

export interface PresignInput {
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** The S3 endpoint: scheme, host and port, and a base path if it has one. */
  endpoint: URL;
  bucket: string;
  key: string;
  /** GET unless told. */
  method?: string;
  /** Extra query parameters, signed with the rest (the console's multipart calls). */
  query?: Record<string, string>;
  /**
   * Headers the request will carry, signed with it (lower-case names): S3 refuses unsigned x-amz-*
   * headers, so a presigned CopyObject must sign its x-amz-copy-source.
   */
  headers?: Record<string, string>;
  expiresSeconds: number;
  date?: Date;
}

/** A path-style presigned URL: `<endpoint>/<bucket>/<key>?...&X-Amz-Signature=...`. */
export function presignUrl(o: PresignInput): string {
  const base = o.endpoint.pathname.replace(/\/+$/, '');
  const rawPath = `${base}/${uriEncode(o.bucket)}/${o.key.split('/').map((s) => uriEncode(s)).join('/')}`;
  const rawQuery = Object.entries(o.query ?? {})
    .map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`))
    .join('&');
  const host = o.endpoint.host;
  const signed = presignRequest(
    { method: o.method ?? 'GET', rawPath, rawQuery, headers: { ...o.headers, host }, host },
    { ...o.credentials, region: o.region, date: o.date ?? new Date(), expiresSeconds: o.expiresSeconds },
  );
  return `${o.endpoint.protocol}//${host}${signed.request.rawPath}?${signed.request.rawQuery}`;
}
