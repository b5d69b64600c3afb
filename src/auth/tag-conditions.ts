import { EXISTING_TAG, REQUEST_TAG, REQUEST_TAG_KEYS } from './policy/condition-keys.js';
import type { ConditionValue } from './policy/types.js';
import { parseTaggingHeader } from '../s3/tagging.js';
import type { TagSet } from '../store/types.js';

// The tag condition keys of a bucket policy, for one request:
// - s3:ExistingObjectTag/<key>: the tags of the version acted on (loaded by src/auth/access.ts
//   only when the policy tests one);
// - s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys: the tags the request sets, from
//   PutObjectTagging's body or the x-amz-tagging header (PutObject, CopyObject,
//   CreateMultipartUpload). A header that does not parse gives none: the handler refuses it.

export function usesTags(keys: ReadonlySet<string>, kind: 'existing' | 'request'): boolean {
  for (const k of keys) {
    if (kind === 'existing' ? k.startsWith(EXISTING_TAG) : k.startsWith(REQUEST_TAG) || k === REQUEST_TAG_KEYS) return true;
  }
  return false;
}

function headerTags(headers: Record<string, string | string[] | undefined>): TagSet | undefined {
  const raw = headers['x-amz-tagging'];
  if (typeof raw !== 'string') return undefined;
  try {
    return parseTaggingHeader(raw);
  } catch {
    return undefined;
  }
}

/** The value of a tag condition key; false when `name` is no tag key. */
export function tagCondition(name: string, existing: TagSet | undefined, body: TagSet | undefined, headers: Record<string, string | string[] | undefined>): ConditionValue | false {
  if (name.startsWith(EXISTING_TAG)) return lookup(existing, name.slice(EXISTING_TAG.length));
  if (name.startsWith(REQUEST_TAG)) return lookup(body ?? headerTags(headers), name.slice(REQUEST_TAG.length));
  if (name === REQUEST_TAG_KEYS) return (body ?? headerTags(headers))?.map(([k]) => k);
  return false;
}

function lookup(tags: TagSet | undefined, key: string): string | undefined {
  return tags?.find(([k]) => k === key)?.[1];
}
