// parsePolicy: the document's shape (AWS's elements, nothing else), then each statement
// compiled into matchers. Every problem is a PolicyError whose message names it.

import { actionKind, compileActions } from './actions.js';
import { compileConditions } from './conditions.js';
import { isPlainObject, parsePrincipal } from './principals.js';
import { compileResources } from './resources.js';
import { PolicyError, type CompiledPolicy, type CompiledStatement } from './types.js';

/** S3's limit on a bucket policy. */
const MAX_BYTES = 20 * 1024;
// 2008-10-17 is the older grammar (no policy variables, which cairn refuses anyway); a missing
// Version means it, as in AWS.
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** Parses and validates a policy document for `bucket`. isAccount(id) says whether a 64-hex canonical account id exists. */
export function parsePolicy(text: string, bucket: string, isAccount: (id: string) => boolean): CompiledPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_BYTES) throw new PolicyError(`Policy exceeds the maximum allowed document size (${MAX_BYTES} bytes)`);
  // S3's words, then what is wrong: the parser's reason (it names the position), or the JSON type.
  const notJson = "Policies must be valid JSON and the first byte must be '{'";
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`${notJson}: ${(err as Error).message}`);
  }
  if (!isPlainObject(doc)) throw new PolicyError(`${notJson}: the document is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`}, not an object`);
  for (const field of Object.keys(doc)) if (!TOP_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field} in policy`);
  if (doc.Version !== undefined && (typeof doc.Version !== 'string' || !VERSIONS.has(doc.Version))) {
    throw new PolicyError(`Invalid policy Version ${JSON.stringify(doc.Version)}: use "2012-10-17"`);
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyError('Policy Id must be a string');
  if (doc.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const raw = isPlainObject(doc.Statement) ? [doc.Statement] : doc.Statement;
  if (!Array.isArray(raw) || raw.length === 0) throw new PolicyError('Statement must be an object or a non-empty array of objects');
  const statements = raw.map((s) => compileStatement(s, bucket, isAccount));
  const sids = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined) continue;
    if (sids.has(s.sid)) throw new PolicyError(`Statement IDs (SID) must be unique: ${s.sid} appears twice`);
    sids.add(s.sid);
  }
  const conditionKeys = new Set<string>();
  for (const s of statements) for (const c of s.conditions) conditionKeys.add(c.key);
  return { text, statements, conditionKeys };
}

function compileStatement(raw: unknown, bucket: string, isAccount: (id: string) => boolean): CompiledStatement {
  if (!isPlainObject(raw)) throw new PolicyError('Each statement must be an object');
  for (const field of Object.keys(raw)) if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field} in statement`);
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') throw new PolicyError('Sid must be a string');
  if (raw.Effect === undefined) throw new PolicyError('Missing required field Effect');
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw new PolicyError(`Invalid effect ${JSON.stringify(raw.Effect)}: use Allow or Deny`);
  const notPrincipal = exactlyOne(raw, 'Principal', 'NotPrincipal');
  const notAction = exactlyOne(raw, 'Action', 'NotAction');
  const notResource = exactlyOne(raw, 'Resource', 'NotResource');
  const principals = parsePrincipal(notPrincipal ? raw.NotPrincipal : raw.Principal, isAccount);
  const actions = compileActions(notAction ? raw.NotAction : raw.Action, notAction ? 'NotAction' : 'Action');
  const resources = compileResources(notResource ? raw.NotResource : raw.Resource, notResource ? 'NotResource' : 'Resource', bucket);
  // Only a plain Action/Resource pair says what the statement is meant to cover; with NotAction
  // or NotResource any mix is meaningful.
  if (!notAction && !notResource) {
    for (const { pattern, names } of actions.perPattern) {
      if (!names.some((n) => resources.kinds.has(actionKind(n)!))) {
        throw new PolicyError(`Action does not apply to any resource(s) in statement: ${pattern}`);
      }
    }
  }
  return {
    sid: raw.Sid as string | undefined,
    effect: raw.Effect,
    principals,
    notPrincipal,
    actions: actions.set,
    notAction,
    resource: resources.match,
    notResource,
    conditions: raw.Condition === undefined ? [] : compileConditions(raw.Condition),
  };
}

/** Which of the pair the statement uses (true = the Not form); exactly one must be present. */
function exactlyOne(raw: Record<string, unknown>, plain: string, not: string): boolean {
  const hasPlain = raw[plain] !== undefined;
  const hasNot = raw[not] !== undefined;
  if (hasPlain && hasNot) throw new PolicyError(`A statement cannot have both ${plain} and ${not}`);
  if (!hasPlain && !hasNot) throw new PolicyError(`Missing required field ${plain}`);
  return hasNot;
}
