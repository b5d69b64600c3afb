// Conditional request headers, evaluated in the order RFC 7232 section 6 gives and S3 follows.

import { S3Error } from './errors.js';

export interface ConditionalHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

function normalizeEtag(tag: string): string {
  let t = tag.trim();
  // Weak validators compare by opaque value here: S3 ETags are never weak, and a
  // client echoing W/"x" means the same object.
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

function etagMatches(header: string, etag: string): boolean {
  const want = normalizeEtag(etag);
  return header.split(',').some((part) => {
    const t = part.trim();
    return t === '*' || (t !== '' && normalizeEtag(t) === want);
  });
}

/** HTTP dates have 1-second resolution, so the object's time is compared truncated to seconds. */
function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * Throws when a precondition stops the request:
 *  - If-Match false -> 412; when If-Match is true, If-Unmodified-Since is not consulted
 *    (S3 returns 200 for If-Match true + If-Unmodified-Since false).
 *  - else If-Unmodified-Since false -> 412.
 *  - If-None-Match matching -> 304 (read) / 412 (copy); when If-None-Match is present
 *    and does not match, If-Modified-Since is not consulted.
 *  - else If-Modified-Since not modified -> 304 (read) / 412 (copy).
 * `mode` 'copy' is for the x-amz-copy-source-if-* headers: a copy never answers 304.
 * Unparsable dates are ignored, as RFC 7232 requires.
 */
export function checkConditions(
  h: ConditionalHeaders,
  obj: { etag: string; lastModified: Date },
  mode: 'read' | 'copy' = 'read',
): void {
  const prefix = mode === 'copy' ? 'x-amz-copy-source-' : '';
  const failed = (condition: string) => new S3Error('PreconditionFailed', { Condition: prefix + condition });
  const modified = Math.floor(obj.lastModified.getTime() / 1000);

  if (h.ifMatch !== undefined) {
    if (!etagMatches(h.ifMatch, obj.etag)) throw failed('If-Match');
  } else {
    const since = parseHttpDate(h.ifUnmodifiedSince);
    if (since !== undefined && modified > since) throw failed('If-Unmodified-Since');
  }

  if (h.ifNoneMatch !== undefined) {
    if (etagMatches(h.ifNoneMatch, obj.etag)) {
      if (mode === 'copy') throw failed('If-None-Match');
      throw new S3Error('NotModified');
    }
  } else {
    const since = parseHttpDate(h.ifModifiedSince);
    if (since !== undefined && modified <= since) {
      if (mode === 'copy') throw failed('If-Modified-Since');
      throw new S3Error('NotModified');
    }
  }
}

/**
 * A write's precondition (If-None-Match: * / If-Match on PutObject, CopyObject and
 * CompleteMultipartUpload) against the key's current version (a delete marker is none):
 * 'exists' means If-None-Match failed (412), 'etag' that If-Match failed (412), 'missing' that
 * If-Match found no current version (404 NoSuchKey).
 */
export function writeConditionHolds(
  c: { ifNoneMatch?: boolean; ifMatch?: string },
  current: { etag: string } | undefined,
): 'ok' | 'exists' | 'etag' | 'missing' {
  if (c.ifNoneMatch && current) return 'exists';
  if (c.ifMatch !== undefined) {
    if (!current) return 'missing';
    if (!etagMatches(c.ifMatch, current.etag)) return 'etag';
  }
  return 'ok';
}

/** The 412/404 a write's precondition gives when it fails before the body is received. */
export function writeConditionError(outcome: 'exists' | 'etag' | 'missing', key: string): S3Error {
  if (outcome === 'missing') return new S3Error('NoSuchKey', { Key: key });
  return new S3Error('PreconditionFailed', { Condition: outcome === 'exists' ? 'If-None-Match' : 'If-Match' });
}
