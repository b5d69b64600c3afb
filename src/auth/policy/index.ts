// Bucket policies in the IAM policy language: parse and validate once per bucket, then evaluate
// each request against the compiled form. Pure: no HTTP, no database.

export { PolicyError } from './types.js';
export type {
  PolicyPrincipal,
  PolicyRequest,
  PolicyDecision,
  CompiledPolicy,
  CompiledStatement,
  CompiledCondition,
  ConditionValue,
} from './types.js';
export { parsePolicy } from './parse.js';
export { evaluatePolicy } from './evaluate.js';
export { isPublicPolicy } from './public.js';
export { S3_ACTIONS } from './actions.js';
export { CONDITION_KEYS } from './condition-keys.js';

import type { CompiledPolicy } from './types.js';

/** The condition keys a policy mentions (lower-case), so the server builds only those. */
export function conditionKeys(p: CompiledPolicy): ReadonlySet<string> {
  return p.conditionKeys;
}
