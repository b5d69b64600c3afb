// Object and bucket tags: S3's limits, the Tagging document (Put/GetObjectTagging,
// Put/GetBucketTagging) and the x-amz-tagging header's query-string form. Pure: handlers read
// the request, the store keeps a TagSet, this decides what is valid and writes the XML.

import type { TagSet } from '../store/types.js';
import { S3Error } from './errors.js';
import { asArray, doc, el, leafText, rootOf } from './xml.js';

export type { TagSet };

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
/** Lengths count Unicode characters (code points), not bytes. */
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

// AWS's tag pattern: letters, numbers, spaces (any Unicode separator) and + - = . _ : / @.
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const chars = (s: string): number => [...s].length;

export type TagTarget = 'object' | 'bucket';

/**
 * S3's checks, in the order S3 applies them: each tag (key, then value) as it comes, then
 * duplicates, then the count. Throws the S3Error S3 answers; returns the set unchanged.
 */
export function validateTagSet(tags: TagSet, target: TagTarget): TagSet {
  const seen = new Set<string>();
  for (const [key, value] of tags) {
    if (key === '' || chars(key) > MAX_TAG_KEY || !TAG_CHARS.test(key)) throw new S3Error('InvalidTag');
    if (key.toLowerCase().startsWith('aws:')) {
      throw new S3Error('InvalidTag', {}, target === 'object' ? 'Your TagKey cannot be prefixed with aws:' : "User-defined tag keys can't start with \"aws:\". This prefix is reserved for system tags. Remove \"aws:\" from your tag keys and try again.");
    }
    if (chars(value) > MAX_TAG_VALUE || !TAG_CHARS.test(value)) throw new S3Error('InvalidTag', {}, 'The TagValue you have provided is invalid');
    if (seen.has(key)) throw new S3Error('InvalidTag', {}, 'Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  if (target === 'object' && tags.length > MAX_OBJECT_TAGS) throw new S3Error('BadRequest', {}, `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  if (target === 'bucket' && tags.length > MAX_BUCKET_TAGS) throw new S3Error('InvalidTag', {}, `Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`);
  return tags;
}

function onlyNames(node: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [name, value] of Object.entries(node)) {
    if (name === '#text') {
      if (typeof value !== 'string' || value.trim() !== '') throw new S3Error('MalformedXML');
    } else if (!allowed.includes(name)) throw new S3Error('MalformedXML');
  }
}

/** One <Tag> element: Key and Value, each once (Value may be empty). */
function parseTag(t: unknown): [string, string] {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new S3Error('MalformedXML');
  const node = t as Record<string, unknown>;
  onlyNames(node, ['Key', 'Value']);
  if (Array.isArray(node.Key) || Array.isArray(node.Value)) throw new S3Error('MalformedXML');
  const key = leafText(node.Key);
  const value = leafText(node.Value);
  if (key === undefined || value === undefined) throw new S3Error('MalformedXML');
  return [key, value];
}

/** A Tagging document (PutObjectTagging, PutBucketTagging), validated for its target. */
export function parseTagging(xml: string, target: TagTarget): TagSet {
  const root = rootOf(xml, 'Tagging');
  onlyNames(root, ['TagSet']);
  if (Array.isArray(root.TagSet) || root.TagSet === undefined) throw new S3Error('MalformedXML');
  const set = root.TagSet;
  // `<TagSet/>` and `<TagSet></TagSet>` parse to a string: an empty set.
  if (typeof set === 'string') {
    if (set.trim() !== '') throw new S3Error('MalformedXML');
    return [];
  }
  onlyNames(set as Record<string, unknown>, ['Tag']);
  return validateTagSet(asArray((set as Record<string, unknown>).Tag).map(parseTag), target);
}

/** GetObjectTagging / GetBucketTagging. */
export function taggingXml(tags: TagSet): string {
  const inner = tags.map(([k, v]) => `<Tag>${el('Key', k)}${el('Value', v)}</Tag>`).join('');
  return doc('Tagging', `<TagSet>${inner}</TagSet>`);
}

const HEADER_MESSAGE = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

/**
 * The x-amz-tagging header (PutObject, CreateMultipartUpload, CopyObject with REPLACE) and the
 * POST form's `tagging` field carry `k1=v1&k2=v2`, URL-encoded; `k` alone has an empty value.
 */
export function parseTaggingHeader(value: string): TagSet {
  if (value === '') return [];
  const tags: TagSet = [];
  const seen = new Set<string>();
  for (const pair of value.split('&')) {
    const eq = pair.indexOf('=');
    const [rawKey, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let key: string;
    let val: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      val = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-tagging', ArgumentValue: value }, HEADER_MESSAGE);
    }
    if (seen.has(key)) throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-tagging', ArgumentValue: value }, HEADER_MESSAGE);
    seen.add(key);
    tags.push([key, val]);
  }
  return validateTagSet(tags, 'object');
}

/** A tag set as the x-amz-tagging header writes it (the POST form's Tagging document, for the same path as PutObject's header). */
export function taggingHeaderValue(tags: TagSet): string {
  return tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** The stored form (buckets.tags, multipart_uploads.tags): null for no tags. */
export function encodeTags(tags: TagSet | undefined): string | null {
  return tags && tags.length > 0 ? JSON.stringify(tags) : null;
}

export function decodeTags(stored: string | null): TagSet {
  return stored ? (JSON.parse(stored) as TagSet) : [];
}
