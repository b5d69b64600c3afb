// evaluatePolicy: a statement applies when its principal, action, resource and every condition
// match the request. An applying Deny wins at once; otherwise one applying Allow allows.

import { actionMatches, canonicalAction } from './actions.js';
import { principalMatches } from './principals.js';
import type { CompiledPolicy, CompiledStatement, PolicyDecision, PolicyRequest } from './types.js';

/** Explicit Deny beats Allow; Allow when some Allow statement applies; else undefined. */
export function evaluatePolicy(p: CompiledPolicy, req: PolicyRequest): PolicyDecision {
  const action = canonicalAction(req.action);
  let allowed = false;
  for (const s of p.statements) {
    // Once allowed, only a Deny can change the answer: skip the other Allows' conditions.
    if (allowed && s.effect === 'Allow') continue;
    if (!applies(s, req, action)) continue;
    if (s.effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : undefined;
}

/** Cheapest tests first: action and resource, then principal, then conditions (which ask the request). */
function applies(s: CompiledStatement, req: PolicyRequest, action: string | undefined): boolean {
  if (actionMatches(s.actions, action, req.action) === s.notAction) return false;
  if (s.resource(req.resource) === s.notResource) return false;
  if (principalMatches(s.principals, req.principal) === s.notPrincipal) return false;
  for (const c of s.conditions) if (!c.test(req.condition(c.key))) return false;
  return true;
}
