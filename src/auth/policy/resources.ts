// The Resource / NotResource element: "*" or S3 ARNs that can name the policy's own bucket or
// objects in it. Matching is case-sensitive, like S3 keys.

import { PolicyError } from './types.js';
import type { ResourceKind } from './actions.js';
import { canMatchPrefix, compileWildcards, compileWildcard, type Matcher } from './wildcard.js';

const S3_ARN = 'arn:aws:s3:::';

export interface CompiledResources {
  readonly match: Matcher;
  /** The kinds of resource the patterns can name ('other' only through "*"). */
  readonly kinds: ReadonlySet<ResourceKind>;
}

export function compileResources(element: unknown, field: string, bucket: string): CompiledResources {
  const list = typeof element === 'string' ? [element] : element;
  if (!Array.isArray(list) || list.length === 0) throw new PolicyError(`${field} must be a string or a non-empty array of strings`);
  const kinds = new Set<ResourceKind>();
  for (const pattern of list) for (const k of resourceKinds(pattern, bucket)) kinds.add(k);
  return { match: compileWildcards(list as string[]), kinds };
}

/** What one pattern can name in `bucket`; PolicyError when it is not an S3 ARN for it. */
function resourceKinds(pattern: unknown, bucket: string): ResourceKind[] {
  if (typeof pattern !== 'string') throw new PolicyError('Policy has invalid resource: a resource must be a string');
  if (pattern.includes('${')) throw new PolicyError(`Policy variables such as \${aws:username} are not supported: ${pattern}`);
  if (pattern === '*') return ['bucket', 'object', 'other'];
  if (!pattern.startsWith(S3_ARN)) throw new PolicyError(`Policy has invalid resource: ${pattern} is not an arn:aws:s3::: ARN`);
  const rest = pattern.slice(S3_ARN.length);
  const kinds: ResourceKind[] = [];
  if (compileWildcard(rest)(bucket)) kinds.push('bucket');
  if (canMatchPrefix(rest, `${bucket}/`)) kinds.push('object');
  if (kinds.length === 0) throw new PolicyError(`Policy has invalid resource: ${pattern} is not bucket ${bucket} or an object in it`);
  return kinds;
}
