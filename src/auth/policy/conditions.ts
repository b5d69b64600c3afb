// The Condition element: { Operator: { key: value | [values] } }. Every operator/key pair is one
// clause and all clauses must hold (AND); the values of one clause are alternatives (OR).
//
// How a clause treats the request's value(s) of its key (following AWS's documented rules):
// - absent key: false, except ...IfExists (true), negated operators such as StringNotEquals
//   (true), ForAllValues (true) and Null (which tests exactly that);
// - no set qualifier: some request value matches some policy value (negated: none does);
// - ForAnyValue: some request value passes the operator; ForAllValues: every one does, where a
//   negated operator passes a value that matches none of the policy's values.

import { checkConditionKey } from './condition-keys.js';
import { PolicyError, type CompiledCondition, type ConditionValue } from './types.js';
import { isPlainObject } from './principals.js';
import { ipMatcher, parseBase64, parseCidr, parseDate, parseNumber, splitArn } from './values.js';
import { compileWildcard, compileWildcards, type Matcher } from './wildcard.js';

type OpType = 'string' | 'stringIgnoreCase' | 'stringLike' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';
type Compare = (request: number, policy: number) => boolean;

interface OpDef {
  readonly name: string;
  readonly type: OpType;
  readonly negated: boolean;
  readonly compare?: Compare;
}

const eq: Compare = (a, b) => a === b;
const lt: Compare = (a, b) => a < b;
const le: Compare = (a, b) => a <= b;
const gt: Compare = (a, b) => a > b;
const ge: Compare = (a, b) => a >= b;

const OPERATORS = new Map<string, OpDef>();
function op(name: string, type: OpType, negated = false, compare?: Compare): void {
  OPERATORS.set(name.toLowerCase(), { name, type, negated, compare });
}
op('StringEquals', 'string');
op('StringNotEquals', 'string', true);
op('StringEqualsIgnoreCase', 'stringIgnoreCase');
op('StringNotEqualsIgnoreCase', 'stringIgnoreCase', true);
op('StringLike', 'stringLike');
op('StringNotLike', 'stringLike', true);
for (const [kind, type] of [['Numeric', 'numeric'], ['Date', 'date']] as const) {
  op(`${kind}Equals`, type, false, eq);
  op(`${kind}NotEquals`, type, true, eq);
  op(`${kind}LessThan`, type, false, lt);
  op(`${kind}LessThanEquals`, type, false, le);
  op(`${kind}GreaterThan`, type, false, gt);
  op(`${kind}GreaterThanEquals`, type, false, ge);
}
op('Bool', 'bool');
op('BinaryEquals', 'binary');
op('IpAddress', 'ip');
op('NotIpAddress', 'ip', true);
op('ArnEquals', 'arn');
op('ArnLike', 'arn');
op('ArnNotEquals', 'arn', true);
op('ArnNotLike', 'arn', true);
op('Null', 'null');

const OPERATOR_NAME = /^(ForAnyValue:|ForAllValues:)?(.+?)(IfExists)?$/i;

export function compileConditions(element: unknown): CompiledCondition[] {
  if (!isPlainObject(element)) throw new PolicyError('Condition must be an object of {"Operator": {"key": value}}');
  const out: CompiledCondition[] = [];
  for (const [operatorName, block] of Object.entries(element)) {
    const m = OPERATOR_NAME.exec(operatorName);
    const def = m ? OPERATORS.get(m[2].toLowerCase()) : undefined;
    if (!m || !def) throw new PolicyError(`Invalid condition operator: ${operatorName}`);
    const qualifier = m[1] === undefined ? undefined : m[1].toLowerCase() === 'foranyvalue:' ? 'ForAnyValue' : 'ForAllValues';
    const ifExists = m[3] !== undefined;
    if (def.type === 'null' && (ifExists || qualifier)) throw new PolicyError(`Invalid condition operator: ${operatorName} (Null takes no IfExists or set qualifier)`);
    if (!isPlainObject(block)) throw new PolicyError(`Condition operator ${operatorName} must map condition keys to values`);
    for (const [key, raw] of Object.entries(block)) {
      const lower = checkConditionKey(key);
      const values = conditionValues(raw, operatorName, key);
      const test = def.type === 'null' ? nullTest(values, key) : clauseTest(qualifier, def.negated, ifExists, buildMatch(def, values, key));
      out.push({ key: lower, operator: def.name, qualifier, ifExists, values, test });
    }
  }
  return out;
}

/** The values as strings: JSON strings, numbers and booleans, alone or in a non-empty array. */
function conditionValues(raw: unknown, operator: string, key: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyError(`Condition ${operator} on ${key} has no values`);
  return list.map((v) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new PolicyError(`Condition ${operator} on ${key}: values must be strings, numbers or booleans`);
    }
    const s = String(v);
    if (s.includes('${')) throw new PolicyError(`Policy variables such as \${aws:username} are not supported: ${s}`);
    return s;
  });
}

/** "Does this request value match one of the policy's values", in the operator's positive sense. */
function buildMatch(def: OpDef, values: string[], key: string): Matcher {
  const bad = (v: string, what: string): never => {
    throw new PolicyError(`Condition ${def.name} on ${key}: ${JSON.stringify(v)} is not ${what}`);
  };
  switch (def.type) {
    case 'string': {
      const set = new Set(values);
      return (s) => set.has(s);
    }
    case 'stringIgnoreCase': {
      const set = new Set(values.map((v) => v.toLowerCase()));
      return (s) => set.has(s.toLowerCase());
    }
    case 'stringLike':
      return compileWildcards(values);
    case 'numeric':
      return compared(values.map((v) => parseNumber(v) ?? bad(v, 'a number')), parseNumber, def.compare!);
    case 'date':
      return compared(values.map((v) => parseDate(v) ?? bad(v, 'an ISO 8601 date or epoch seconds')), parseDate, def.compare!);
    case 'bool':
    case 'null': {
      const set = new Set(values.map((v) => (/^(true|false)$/i.test(v) ? v.toLowerCase() : bad(v, 'true or false'))));
      return (s) => set.has(s.toLowerCase());
    }
    case 'binary': {
      const bufs = values.map((v) => parseBase64(v) ?? bad(v, 'base64'));
      return (s) => {
        const b = Buffer.from(s, 'utf8');
        return bufs.some((x) => x.equals(b));
      };
    }
    case 'ip': {
      return ipMatcher(values.map((v) => parseCidr(v) ?? bad(v, 'an IP address or CIDR block')));
    }
    case 'arn': {
      const patterns = values.map((v) => (v.startsWith('arn:') ? splitArn(v) : undefined) ?? bad(v, 'an ARN (arn:partition:service:region:account:resource)'));
      const compiled = patterns.map((parts) => parts.map(compileWildcard));
      return (s) => {
        const parts = splitArn(s);
        return parts !== undefined && compiled.some((p) => p.every((m, i) => m(parts[i])));
      };
    }
  }
}

function compared(policy: number[], parse: (s: string) => number | undefined, compare: Compare): Matcher {
  return (s) => {
    const n = parse(s);
    return n !== undefined && policy.some((p) => compare(n, p));
  };
}

function isAbsent(v: ConditionValue): v is undefined {
  return v === undefined || (typeof v !== 'string' && v.length === 0);
}

function clauseTest(
  qualifier: 'ForAnyValue' | 'ForAllValues' | undefined,
  negated: boolean,
  ifExists: boolean,
  match: Matcher,
): (v: ConditionValue) => boolean {
  const passes: Matcher = negated ? (s) => !match(s) : match;
  if (qualifier === 'ForAnyValue') {
    return (v) => (isAbsent(v) ? ifExists : typeof v === 'string' ? passes(v) : v.some(passes));
  }
  if (qualifier === 'ForAllValues') {
    return (v) => (isAbsent(v) ? true : typeof v === 'string' ? passes(v) : v.every(passes));
  }
  const whenAbsent = ifExists || negated;
  return (v) => {
    if (isAbsent(v)) return whenAbsent;
    const hit = typeof v === 'string' ? match(v) : v.some(match);
    return negated ? !hit : hit;
  };
}

/** Null: "true" holds when the key is absent, "false" when it is present. */
function nullTest(values: string[], key: string): (v: ConditionValue) => boolean {
  const lower = values.map((v) => {
    if (!/^(true|false)$/i.test(v)) throw new PolicyError(`Condition Null on ${key}: ${JSON.stringify(v)} is not true or false`);
    return v.toLowerCase();
  });
  const whenAbsent = lower.includes('true');
  const whenPresent = lower.includes('false');
  return (v) => (isAbsent(v) ? whenAbsent : whenPresent);
}
