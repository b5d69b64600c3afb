// Bucket CORS: the CORSConfiguration document (PutBucketCors / GetBucketCors) and how a
// request is matched against its rules. Pure: the handlers (src/http/handlers/cors.ts) read
// the request, the repository stores the rules as JSON, and this decides what to answer.
//
// S3's evaluation: the first CORSRule whose AllowedOrigin matches the Origin header, whose
// AllowedMethod holds the method (Access-Control-Request-Method when the request carries one,
// on a preflight or an actual request, else the request's own method), and whose AllowedHeader
// patterns cover every name in Access-Control-Request-Headers. A pattern may hold one '*',
// which matches any run of characters, the empty one included. Origins compare
// case-sensitively (browsers send them lower case), header names case-insensitively.

import { S3Error } from './errors.js';
import { asArray, doc, el, leafText, rootOf } from './xml.js';

export const CORS_METHODS = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

/** "You can add up to 100 rules to the configuration." */
export const MAX_CORS_RULES = 100;
/** "The document is limited to 64 KB in size." */
export const MAX_CORS_BYTES = 64 * 1024;
/** CORSRule ID: "The value cannot be longer than 255 characters." */
export const MAX_CORS_ID = 255;

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: CorsMethod[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** The response headers of a matched request, by their canonical names. */
export type CorsHeaders = Record<string, string>;

/** S3 sends this Vary with every CORS answer (preflight or actual) whose rule matched. */
export const CORS_VARY = ['Origin', 'Access-Control-Request-Headers', 'Access-Control-Request-Method'] as const;

export function isCorsMethod(m: string): m is CorsMethod {
  return (CORS_METHODS as readonly string[]).includes(m);
}

// RFC 9110 token: what a header field name is made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// ---------------------------------------------------------------------------
// The document

const RULE_ELEMENTS = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

/** Whitespace between elements is fine; other text beside them is not the schema. */
function onlyElements(node: Record<string, unknown>, allowed: Set<string>): void {
  for (const [name, value] of Object.entries(node)) {
    if (name === '#text') {
      if (typeof value !== 'string' || value.trim() !== '') throw new S3Error('MalformedXML');
      continue;
    }
    if (!allowed.has(name)) throw new S3Error('MalformedXML');
  }
}

function single(v: unknown): string | undefined {
  if (Array.isArray(v)) throw new S3Error('MalformedXML');
  return leafText(v);
}

function list(v: unknown): string[] {
  return asArray(v).map((x) => {
    const s = leafText(x);
    if (s === undefined) throw new S3Error('MalformedXML');
    return s;
  });
}

function countStars(s: string): number {
  let n = 0;
  for (const c of s) if (c === '*') n++;
  return n;
}

/**
 * Parses and validates a PutBucketCors body. MalformedXML for a document that is not the
 * schema (no rule, a rule without AllowedOrigin or AllowedMethod, more than 100 rules, a
 * MaxAgeSeconds that is not an integer); InvalidRequest for a method S3 does not allow or a
 * pattern with more than one '*'. Values are kept as sent (GetBucketCors gives them back).
 */
export function parseCorsConfiguration(xml: string): CorsRule[] {
  const root = rootOf(xml, 'CORSConfiguration');
  onlyElements(root, new Set(['CORSRule']));
  const raw = asArray(root.CORSRule as unknown);
  if (raw.length === 0 || raw.length > MAX_CORS_RULES) throw new S3Error('MalformedXML');
  return raw.map((r) => {
    // An empty <CORSRule/> parses to a string: it has neither origin nor method.
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new S3Error('MalformedXML');
    const node = r as Record<string, unknown>;
    onlyElements(node, RULE_ELEMENTS);

    const rule: CorsRule = {
      allowedOrigins: list(node.AllowedOrigin),
      allowedMethods: [],
      allowedHeaders: list(node.AllowedHeader),
      exposeHeaders: list(node.ExposeHeader),
    };
    const methods = list(node.AllowedMethod);
    if (rule.allowedOrigins.length === 0 || methods.length === 0) throw new S3Error('MalformedXML');
    for (const m of methods) {
      if (!isCorsMethod(m)) throw new S3Error('InvalidRequest', {}, `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
      rule.allowedMethods.push(m);
    }
    for (const o of rule.allowedOrigins) {
      if (countStars(o) > 1) throw new S3Error('InvalidRequest', {}, `AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    for (const h of rule.allowedHeaders) {
      if (countStars(h) > 1) throw new S3Error('InvalidRequest', {}, `AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    for (const h of rule.exposeHeaders) {
      if (h.includes('*')) throw new S3Error('InvalidRequest', {}, 'We currently do not support wildcard for ExposeHeader.');
      // These go out verbatim in Access-Control-Expose-Headers: header names only.
      if (!TOKEN.test(h)) throw new S3Error('InvalidRequest', {}, `ExposeHeader "${h}" is not a valid header name.`);
    }

    const id = single(node.ID);
    if (id !== undefined) {
      if (id.length > MAX_CORS_ID) {
        throw new S3Error('InvalidArgument', { ArgumentName: 'ID', ArgumentValue: id.slice(0, 64) + '...' }, `ID length should not exceed allowed limit of ${MAX_CORS_ID}`);
      }
      rule.id = id;
    }
    const maxAge = single(node.MaxAgeSeconds);
    if (maxAge !== undefined) {
      const t = maxAge.trim();
      if (!/^\d{1,10}$/.test(t) || Number(t) > 2 ** 31 - 1) throw new S3Error('MalformedXML');
      rule.maxAgeSeconds = Number(t);
    }
    return rule;
  });
}

/** GetBucketCors: only the members a rule has; element order as in S3's response syntax. */
export function corsConfigurationXml(rules: readonly CorsRule[]): string {
  const inner = rules
    .map((r) => {
      let x = '';
      for (const h of r.allowedHeaders) x += el('AllowedHeader', h);
      for (const m of r.allowedMethods) x += el('AllowedMethod', m);
      for (const o of r.allowedOrigins) x += el('AllowedOrigin', o);
      for (const h of r.exposeHeaders) x += el('ExposeHeader', h);
      if (r.id !== undefined) x += el('ID', r.id);
      if (r.maxAgeSeconds !== undefined) x += el('MaxAgeSeconds', r.maxAgeSeconds);
      return `<CORSRule>${x}</CORSRule>`;
    })
    .join('');
  return doc('CORSConfiguration', inner);
}

// ---------------------------------------------------------------------------
// Matching

/** One '*' matches any run of characters, the empty one included; the pattern is anchored at both ends. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/**
 * Access-Control-Request-Headers as a list of lower-case names, in the order requested,
 * without duplicates or empty elements. Undefined when one is not a header name at all.
 */
export function parseRequestHeaders(value: string | undefined): string[] | undefined {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const item of value.split(',')) {
    const name = item.trim().toLowerCase();
    if (name === '') continue;
    if (!TOKEN.test(name)) return undefined;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export interface CorsMatch {
  rule: CorsRule;
  /** Index of the rule in the configuration. */
  index: number;
  headers: CorsHeaders;
}

/**
 * The first rule allowing `origin` to use `method` with `requestHeaders` (the raw
 * Access-Control-Request-Headers value, if any), and the headers S3 answers with; null when
 * no rule does. The same answer serves a preflight and an actual request:
 * - Access-Control-Allow-Origin: '*' when the origin matched the pattern '*' (and then no
 *   Access-Control-Allow-Credentials), else the request's origin with
 *   Access-Control-Allow-Credentials: true;
 * - Access-Control-Allow-Methods: the rule's methods; Access-Control-Allow-Headers: the
 *   requested names (lower case), when some were requested; Access-Control-Expose-Headers and
 *   Access-Control-Max-Age when the rule has them; Vary (CORS_VARY).
 */
export function matchCors(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  requestHeaders?: string,
): CorsMatch | null {
  const requested = parseRequestHeaders(requestHeaders);
  if (requested === undefined) return null;
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    const matched = rule.allowedOrigins.find((p) => wildcardMatch(p, origin));
    if (matched === undefined) continue;
    if (!(rule.allowedMethods as readonly string[]).includes(method)) continue;
    const patterns = rule.allowedHeaders.map((h) => h.toLowerCase());
    if (!requested.every((name) => patterns.some((p) => wildcardMatch(p, name)))) continue;

    const headers: CorsHeaders = {};
    if (matched === '*') {
      headers['Access-Control-Allow-Origin'] = '*';
    } else {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Allow-Credentials'] = 'true';
    }
    headers['Access-Control-Allow-Methods'] = rule.allowedMethods.join(', ');
    if (requested.length > 0) headers['Access-Control-Allow-Headers'] = requested.join(', ');
    if (rule.exposeHeaders.length > 0) headers['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
    if (rule.maxAgeSeconds !== undefined) headers['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
    headers.Vary = CORS_VARY.join(', ');
    return { rule, index, headers };
  }
  return null;
}
