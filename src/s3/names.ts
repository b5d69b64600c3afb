// Bucket names, object keys and user metadata: the limits S3 enforces, with S3's errors.

import { S3Error } from './errors.js';

// Reserved by S3 for access point aliases, Object Lambda, MRAP, directory and table
// buckets; S3 refuses to create general-purpose buckets that could be mistaken for them.
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function validateBucketName(name: string): void {
  const bad = () => new S3Error('InvalidBucketName', { BucketName: name });
  if (name.length < 3 || name.length > 63) throw bad();
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) throw bad();
  if (name.includes('..')) throw bad();
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) throw bad();
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) throw bad();
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) throw bad();
}

export const MAX_KEY_BYTES = 1024;

/** The limit is in UTF-8 bytes, not characters: 342 CJK characters already exceed it. */
export function validateKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', { ArgumentName: 'key', ArgumentValue: '' }, 'The key must not be empty.');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', { Size: bytes, MaxSizeAllowed: MAX_KEY_BYTES });
}

export const MAX_METADATA_BYTES = 2048;
const META_PREFIX = 'x-amz-meta-';

/**
 * Collects x-amz-meta-* headers under their lower-case names without the prefix.
 * S3 measures the 2 KB limit as the UTF-8 bytes of every name and value together.
 * A repeated header arrives as an array from Node and is joined the way HTTP folds it.
 */
export function extractUserMetadata(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const meta: Record<string, string> = Object.create(null);
  let size = 0;
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const lower = rawName.toLowerCase();
    if (!lower.startsWith(META_PREFIX)) continue;
    const name = lower.slice(META_PREFIX.length);
    // A bare 'x-amz-meta-' names nothing and could not be sent back as a header.
    if (name === '') continue;
    const value = Array.isArray(rawValue) ? rawValue.join(',') : rawValue;
    if (name in meta) {
      size -= Buffer.byteLength(name, 'utf8') + Buffer.byteLength(meta[name]!, 'utf8');
      meta[name] = `${meta[name]},${value}`;
    } else {
      meta[name] = value;
    }
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(meta[name]!, 'utf8');
  }
  if (size > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', { Size: size, MaxSizeAllowed: MAX_METADATA_BYTES });
  }
  return { ...meta };
}
