import { S3Error } from './errors.js';
import { doc, el } from './xml.js';

// The POST policy of a browser form upload (PostObject): a base64 JSON document with an
// expiration and conditions over the form's fields, which S3 checks before it stores anything.
// No I/O here: src/http/handlers/post-object.ts hands over the fields it read.

/** One condition, field names lower case without '$'. */
export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  expiration: number;
  conditions: PolicyCondition[];
}

/** What the conditions say of the file's size (bytes, both inclusive). */
export interface SizeRange {
  min?: number;
  max?: number;
}

/** Fields no condition needs to cover, as S3 documents (the signature, the policy itself, the file). */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);
export const isExemptField = (name: string): boolean => EXEMPT.has(name) || name.startsWith('x-ignore-');

const invalid = (why: string) => new S3Error('InvalidPolicyDocument', {}, `Invalid Policy: ${why}`);
const denied = (why: string) => new S3Error('AccessDenied', {}, `Invalid according to Policy: ${why}`);

/** Decodes and validates the `policy` field (InvalidPolicyDocument when it cannot be read). */
export function parsePostPolicy(base64: string): PostPolicy {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) throw invalid('Policy could not be decoded from base64.');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid('Invalid JSON.');
  // S3's element names are case-sensitive: "Expiration" is not the expiration.
  const { expiration, conditions } = json as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalid('Policy missing expiration.');
  const when = typeof expiration === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(expiration) ? Date.parse(expiration) : NaN;
  if (Number.isNaN(when)) throw invalid(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw invalid('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalid("Invalid 'conditions' value: must be a List.");
  return { expiration: when, conditions: conditions.map(parseCondition) };
}

function parseCondition(c: unknown): PolicyCondition {
  if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
    const entries = Object.entries(c);
    if (entries.length !== 1 || typeof entries[0]![1] !== 'string') throw invalid(`Invalid Simple-Condition: ${JSON.stringify(c)}`);
    const [name, value] = entries[0] as [string, string];
    return { op: 'eq', field: name.replace(/^\$/, '').toLowerCase(), value, text: JSON.stringify(['eq', `$${name.replace(/^\$/, '')}`, value]) };
  }
  if (!Array.isArray(c) || c.length !== 3 || typeof c[0] !== 'string') throw invalid(`Invalid Condition: ${JSON.stringify(c)}`);
  const op = c[0].toLowerCase();
  if (op === 'content-length-range') {
    const [min, max] = [sizeOf(c[1]), sizeOf(c[2])];
    if (min === undefined || max === undefined || min > max) throw invalid(`Invalid content-length-range condition: ${JSON.stringify(c)}`);
    return { op, min, max };
  }
  if (op !== 'eq' && op !== 'starts-with') throw invalid(`Invalid Condition: ${JSON.stringify(c)}`);
  if (typeof c[1] !== 'string' || !c[1].startsWith('$') || typeof c[2] !== 'string') throw invalid(`Invalid Condition: ${JSON.stringify(c)}`);
  return { op, field: c[1].slice(1).toLowerCase(), value: c[2], text: JSON.stringify([c[0], c[1], c[2]]) };
}

/** A size bound: a non-negative integer, as a number or a decimal string (both are seen in the wild). */
function sizeOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Checks the form's fields (lower-case names) and the request's bucket against
 * the policy, in S3's order: expired, a condition failed, a field no condition covers. Returns the
 * size range the file must fall in (checked while it streams).
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, bucket: string, now: number): SizeRange {
  if (now > policy.expiration) throw denied('Policy expired.');
  const covered = new Set<string>();
  const range: SizeRange = {};
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      // Two ranges: both must hold.
      range.min = Math.max(range.min ?? 0, c.min);
      range.max = Math.min(range.max ?? Number.MAX_SAFE_INTEGER, c.max);
      continue;
    }
    covered.add(c.field);
    // The bucket is the one the request goes to, whatever a `bucket` field says (the handler
    // refuses one that names another).
    const actual = c.field === 'bucket' ? bucket : (fields.get(c.field) ?? '');
    const ok = c.op === 'eq' ? actual === c.value : actual.startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((name) => !isExemptField(name) && !covered.has(name));
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

/** The 201 answer's body (success_action_status 201). */
export function postResponseXml(r: { location: string; bucket: string; key: string; etag: string }): string {
  return doc('PostResponse', el('Location', r.location) + el('Bucket', r.bucket) + el('Key', r.key) + el('ETag', r.etag), false);
}

/**
 * The 303's Location for success_action_redirect: the URL with bucket, key and etag added to its
 * query; undefined when it is not an http(s) URL, and then S3 answers as if it were absent.
 */
export function redirectLocation(target: string, r: { bucket: string; key: string; etag: string }): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.searchParams.append('bucket', r.bucket);
  url.searchParams.append('key', r.key);
  url.searchParams.append('etag', r.etag);
  return url.toString();
}
