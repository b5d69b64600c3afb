import { decodeAcl, isPublicAcl } from '../s3/acl.js';
import { isPublicPolicy, parsePolicy, type CompiledPolicy } from './policy/index.js';
import type { BucketRow } from '../store/types.js';

// A bucket's stored policy, compiled once per policy text (the bucket cache hands out the same
// text again and again): for authorization, the records' `public` and GetBucketPolicyStatus.
const compiled = new Map<string, CompiledPolicy>();

/** The bucket's policy compiled; undefined when it has none. */
export function storedPolicy(bucket: Pick<BucketRow, 'name' | 'policy'>): CompiledPolicy | undefined {
  if (bucket.policy === null) return undefined;
  let p = compiled.get(bucket.policy);
  if (!p) {
    // Validated when it was stored; accounts named in it may have gone since, which only means
    // their statements match nobody.
    p = parsePolicy(bucket.policy, bucket.name, () => true);
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(bucket.policy, p);
  }
  return p;
}

/** Whether the bucket's ACL or policy gives anything to everyone (records' `public`, the console, PolicyStatus). */
export function bucketIsPublic(bucket: Pick<BucketRow, 'name' | 'ownerId' | 'acl' | 'ownership' | 'policy'>): boolean {
  if (bucket.ownership !== 'BucketOwnerEnforced' && isPublicAcl(decodeAcl(bucket.acl, bucket.ownerId))) return true;
  const policy = storedPolicy(bucket);
  return policy !== undefined && isPublicPolicy(policy);
}
