// isPublicPolicy, after S3's "The meaning of public": a policy is public unless every Allow
// statement that grants to everyone ("*" or NotPrincipal) is pinned by a condition on who is
// asking, with fixed values (no wildcards): the caller's account, ARN or user id, or source IP
// ranges no broader than /8 (IPv4) or /32 (IPv6). Deny statements never make a policy public.

import type { CompiledPolicy, CompiledStatement, ConditionInfo } from './types.js';
import { hasWildcard } from './wildcard.js';
import { parseCidr } from './values.js';

// Operators that, with fixed values, admit only the callers those values name.
const PINNING_OPERATORS = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike']);
const WHO_KEYS = new Set(['aws:principalaccount', 'aws:principalarn', 'aws:userid']);

/** GetBucketPolicyStatus's IsPublic. */
export function isPublicPolicy(p: CompiledPolicy): boolean {
  return p.statements.some(grantsToEveryone);
}

function grantsToEveryone(s: CompiledStatement): boolean {
  if (s.effect !== 'Allow') return false;
  if (!s.notPrincipal && !s.principals.anyone) return false;
  return !s.conditions.some(pinsCaller);
}

function pinsCaller(c: ConditionInfo): boolean {
  // IfExists passes when the key is missing and ForAllValues passes on no values: neither pins.
  if (c.ifExists || c.qualifier === 'ForAllValues') return false;
  if (c.key === 'aws:sourceip') return c.operator === 'IpAddress' && c.values.every(narrowRange);
  return WHO_KEYS.has(c.key) && PINNING_OPERATORS.has(c.operator) && !c.values.some(hasWildcard);
}

function narrowRange(cidr: string): boolean {
  const range = parseCidr(cidr);
  return range !== undefined && range[1] >= (range[0].kind() === 'ipv4' ? 8 : 32);
}
