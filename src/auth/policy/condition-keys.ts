// The condition keys a cairn bucket policy may test. Keys cairn cannot fill (resource tags of
// IAM, KMS, VPCs) are refused with a message saying so, rather than accepted as keys that are never present:
// a condition that can never hold would silently change what a policy means.

import { PolicyError } from './types.js';

const KNOWN = [
  'aws:SourceIp', 'aws:SecureTransport', 'aws:CurrentTime', 'aws:EpochTime', 'aws:PrincipalAccount', 'aws:PrincipalArn',
  'aws:PrincipalType', 'aws:userid', 'aws:username', 'aws:UserAgent', 'aws:Referer',
  's3:prefix', 's3:delimiter', 's3:max-keys', 's3:x-amz-acl', 's3:x-amz-content-sha256', 's3:x-amz-copy-source',
  's3:x-amz-metadata-directive', 's3:x-amz-storage-class', 's3:VersionId', 's3:signatureversion', 's3:authType',
  's3:x-amz-grant-read', 's3:x-amz-grant-write', 's3:x-amz-grant-read-acp', 's3:x-amz-grant-write-acp',
  's3:x-amz-grant-full-control', 's3:object-lock-mode', 's3:object-lock-retain-until-date',
  's3:object-lock-remaining-retention-days', 's3:object-lock-legal-hold', 's3:ResourceAccount', 's3:TlsVersion',
  's3:x-amz-server-side-encryption', 's3:x-amz-server-side-encryption-customer-algorithm',
  's3:RequestObjectTagKeys',
];

/**
 * Object tag keys (src/auth/access.ts fills them): the prefix in lower case like every key name,
 * the tag's key as written, since tag keys are case-sensitive.
 */
export const EXISTING_TAG = 's3:existingobjecttag/';
export const REQUEST_TAG = 's3:requestobjecttag/';
export const REQUEST_TAG_KEYS = 's3:requestobjecttagkeys';

/** Lower-case name to the documented spelling. */
export const CONDITION_KEYS: ReadonlyMap<string, string> = new Map(KNOWN.map((k) => [k.toLowerCase(), k]));

const REFUSED: ReadonlyArray<[RegExp, string]> = [
  [/^(aws:requesttag\/|aws:resourcetag\/)|^aws:tagkeys$/, 'IAM resource tags: cairn buckets carry S3 tags, tested with s3:ExistingObjectTag and s3:RequestObjectTag'],
  [/^s3:x-amz-server-side-encryption-(aws-kms-key-id|context)$/, 'cairn has no KMS, so KMS condition keys never apply'],
  [/^aws:(sourcevpc|sourcevpce|sourcevpcarn|vpcsourceip)$/, 'cairn has no VPCs, so VPC condition keys never apply'],
];

/** The key in lower case; PolicyError for keys cairn does not know or cannot fill. */
export function checkConditionKey(key: string): string {
  const lower = key.toLowerCase();
  if (CONDITION_KEYS.has(lower)) return lower;
  for (const prefix of [EXISTING_TAG, REQUEST_TAG]) {
    if (lower.startsWith(prefix) && key.length > prefix.length) return prefix + key.slice(prefix.length);
  }
  for (const [re, why] of REFUSED) if (re.test(lower)) throw new PolicyError(`Policy has an invalid condition key: ${key} (${why})`);
  throw new PolicyError(`Policy has an invalid condition key: ${key}`);
}
