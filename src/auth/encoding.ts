// Percent-encoding as SigV4 defines it, done on bytes: a key may hold any UTF-8 (or even
// invalid UTF-8 sent by a careless client), and decodeURIComponent would throw on those.

const HEX = '0123456789ABCDEF';

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e // - . _ ~
  );
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/** RFC 3986 encoding of every byte outside the unreserved set, upper-case hex. */
export function uriEncode(input: string | Buffer): string {
  if (typeof input === 'string' && UNRESERVED_ONLY.test(input)) return input;
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  for (const b of bytes) {
    out += isUnreserved(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Decodes %XX sequences to bytes. A '%' not followed by two hex digits stays literal, and
 * '+' stays '+': SDKs always send spaces as %20, so a bare '+' can only mean a plus sign.
 */
export function percentDecodeBytes(input: string): Buffer {
  const src = Buffer.from(input, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x25 && i + 2 < src.length) {
      const hi = hexVal(src[i + 1]);
      const lo = hexVal(src[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

export function percentDecode(input: string): string {
  return percentDecodeBytes(input).toString('utf8');
}

export interface QueryParam {
  /** As on the wire, still encoded. */
  rawName: string;
  rawValue: string;
  /** Whether the wire form had '=' at all ('?uploads' vs '?uploads='). */
  hasEquals: boolean;
  name: string;
  value: string;
}

/** Splits a raw query string; empty pieces ('a=1&&b=2') are dropped, as S3 does. */
export function parseQuery(rawQuery: string): QueryParam[] {
  if (!rawQuery) return [];
  const params: QueryParam[] = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    params.push({
      rawName,
      rawValue,
      hasEquals: eq >= 0,
      name: percentDecode(rawName),
      value: percentDecode(rawValue),
    });
  }
  return params;
}

/** First value of each name (auth parameters are expected once). */
export function queryMap(params: QueryParam[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of params) if (!map.has(p.name)) map.set(p.name, p.value);
  return map;
}
