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

/** A request's address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4 so IPv4 ranges match it. */
export function parseIp(s: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  return ipaddr.isValid(s) ? ipaddr.process(s) : undefined;
}

export function ipInRange(ip: ipaddr.IPv4 | ipaddr.IPv6, range: IpRange): boolean {
  return ip.kind() === range[0].kind() && ip.match(range);
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
