import { decodeAcl, isPublicAcl } from '../s3/acl.js';
import { isPublicPolicy, parsePolicy } from './policy/index.js';
import type { BucketRow } from '../store/types.js';

/** Whether the bucket's ACL or policy gives anything to everyone (records' `public`, the console, PolicyStatus). */
export function bucketIsPublic(bucket: Pick<BucketRow, 'name' | 'ownerId' | 'acl' | 'ownership' | 'policy'>): boolean {
  if (bucket.ownership !== 'BucketOwnerEnforced' && isPublicAcl(decodeAcl(bucket.acl, bucket.ownerId))) return true;
  return bucket.policy !== null && isPublicPolicy(parsePolicy(bucket.policy, bucket.name, () => true));
}
