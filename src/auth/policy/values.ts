// Typed condition values: numbers, dates, IP ranges and ARNs, as the policy writes them and as
// a request carries them. Each parser returns undefined for a malformed value; the policy side
// turns that into a PolicyError, the request side into "does not match".

import ipaddr from 'ipaddr.js';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

// The W3C profile of ISO 8601 that AWS documents (year, month, day, then time with an optional
// zone); a missing zone is read as UTC rather than the server's local time.
const ISO_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const EPOCH_SECONDS = /^\d{1,12}$/;

/** Milliseconds since the epoch, from an ISO 8601 date or epoch seconds (four digits read as a year). */
export function parseDate(s: string): number | undefined {
  if (EPOCH_SECONDS.test(s) && s.length !== 4) return Number(s) * 1000;
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const withZone = m[4] !== undefined && m[7] === undefined ? `${s}Z` : s;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2020-02-30 over to March; AWS would not.
  if (m[3] !== undefined && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() !== Number(m[3])) return undefined;
  return ms;
}

export type IpRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A CIDR block, or one address as /32 or /128; only dotted-quad IPv4 (ipaddr.js also takes '10.1'). */
export function parseCidr(s: string): IpRange | undefined {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!v4 && !ipaddr.IPv6.isValid(addr)) return undefined;
  const max = v4 ? 32 : 128;
  if (slash < 0) return [ipaddr.parse(addr), max];
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return [ipaddr.parse(addr), Number(bits)];
}

/**
 * A request's address: dotted-quad IPv4 or IPv6, where IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes
 * IPv4 so IPv4 ranges match it. ipaddr.js's other IPv4 spellings ('10.1', octal) are refused.
 */
export function parseIp(s: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  return ipaddr.IPv6.isValid(s) ? ipaddr.process(s) : undefined;
}

/**
 * Whether a request's address lies in one of the ranges. A dotted-quad IPv4 address (the usual
 * aws:SourceIp) is read by hand and compared as a 32-bit number: ipaddr.js's parse costs about
 * a microsecond, more than the rest of a policy evaluation. Other forms go through ipaddr.js.
 */
export function ipMatcher(ranges: readonly IpRange[]): (s: string) => boolean {
  const v4: Array<[net: number, mask: number]> = [];
  const v6: IpRange[] = [];
  for (const [addr, bits] of ranges) {
    if (addr.kind() === 'ipv6') {
      v6.push([addr, bits]);
      continue;
    }
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    v4.push([(ipv4Number((addr as ipaddr.IPv4).octets) & mask) >>> 0, mask]);
  }
  const inV4 = (n: number): boolean => v4.some(([net, mask]) => ((n & mask) >>> 0) === net);
  return (s) => {
    const n = dottedQuad(s);
    if (n >= 0) return inV4(n);
    const ip = parseIp(s);
    if (ip === undefined) return false;
    if (ip.kind() === 'ipv4') return inV4(ipv4Number((ip as ipaddr.IPv4).octets));
    return v6.some((r) => ip.match(r));
  };
}

function ipv4Number(octets: readonly number[]): number {
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

/** a.b.c.d with each part 0-255 (no leading zeros past one digit) as a number, else -1. */
function dottedQuad(s: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + part : -1;
}

/** An ARN's six parts (the sixth keeps its colons), or undefined when it has fewer. */
export function splitArn(s: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = s.indexOf(':', start);
    if (colon < 0) return undefined;
    parts.push(s.slice(start, colon));
    start = colon + 1;
  }
  parts.push(s.slice(start));
  return parts;
}

/** Base64 as AWS writes binary condition values (padded, standard alphabet). */
export function parseBase64(s: string): Buffer | undefined {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) ? Buffer.from(s, 'base64') : undefined;
}
