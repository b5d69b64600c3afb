// Where a request points: bucket and key, from the raw request path and Host.

import { S3Error } from './errors.js';

/**
 * Decodes percent-escapes exactly once. decodeURIComponent leaves '+' alone (S3 keys
 * keep '+'), and rejects bad escapes and escapes that do not form UTF-8.
 */
function decodeOnce(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI', { URI: s });
  }
}

function hostname(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1); // IPv6 literal
  const colon = h.lastIndexOf(':');
  return (colon === -1 ? h : h.slice(0, colon)).replace(/\.$/, '');
}

/**
 * Splits a request into bucket and key. Path style: '/bucket/key...'. Virtual-host
 * style when `domain` is set and Host is '<bucket>.<domain>[:port]'. The key comes
 * from the raw path, decoded once, because router wildcards normalise or re-decode it
 * ('//', '%2F', '../' are all legal in keys). '/bucket' and '/bucket/' have no key;
 * '/bucket//x' has key '/x'.
 */
export function parseEndpoint(rawPath: string, host: string | undefined, domain?: string): { bucket?: string; key?: string; virtualHost?: boolean } {
  const q = rawPath.indexOf('?');
  const path = q === -1 ? rawPath : rawPath.slice(0, q);
  const rest = path.startsWith('/') ? path.slice(1) : path;

  if (domain && host) {
    const h = hostname(host);
    const d = hostname(domain);
    if (h.length > d.length + 1 && h.endsWith(`.${d}`)) {
      const bucket = h.slice(0, h.length - d.length - 1);
      return rest === '' ? { bucket, virtualHost: true } : { bucket, key: decodeOnce(rest, 'key'), virtualHost: true };
    }
  }

  if (rest === '') return {};
  const slash = rest.indexOf('/');
  if (slash === -1) return { bucket: decodeOnce(rest, 'bucket') };
  const bucket = decodeOnce(rest.slice(0, slash), 'bucket');
  const key = rest.slice(slash + 1);
  return key === '' ? { bucket } : { bucket, key: decodeOnce(key, 'key') };
}

/**
 * x-amz-copy-source: 'b/k', '/b/k', partly encoded (rclone) or fully encoded (SDK,
 * where even the '/' between bucket and key may arrive as %2F). The version suffix is
 * split off before decoding so an encoded '?' (%3F) in a key stays part of the key.
 */
export function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  let src = header.trim();
  let versionId: string | undefined;
  const v = src.lastIndexOf('?versionId=');
  if (v !== -1) {
    versionId = decodeOnce(src.slice(v + '?versionId='.length), 'x-amz-copy-source');
    src = src.slice(0, v);
  }
  const literalSlash = src.startsWith('/');
  if (literalSlash) src = src.slice(1);
  let decoded = decodeOnce(src, 'x-amz-copy-source');
  // A fully encoded '/b/k' arrives as '%2Fb%2Fk'; still only one leading '/' goes.
  if (!literalSlash && decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  const bucket = slash === -1 ? decoded : decoded.slice(0, slash);
  const key = slash === -1 ? '' : decoded.slice(slash + 1);
  if (bucket === '' || key === '') {
    throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header }, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  }
  return versionId === undefined || versionId === '' ? { bucket, key } : { bucket, key, versionId };
}
