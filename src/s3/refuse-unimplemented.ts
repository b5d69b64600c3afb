import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.js';
import { COMMON, OPERATIONS, type Rule, type Rows } from './request-headers.js';

// Applies the refusals of src/s3/request-headers.ts. It runs once the operation is resolved and
// before its handler, so a refused request has read no body and changed nothing.

type RefusingRule = Extract<Rule, { status: 'refused' | 'by-value' }>;
interface Checks {
  headers: Array<{ lower: string; name: string; rule: RefusingRule }>;
  query: string[];
}

function refusing(rule: Rule): rule is RefusingRule {
  return rule.status === 'refused' || rule.status === 'by-value';
}

function checksOf(rows: Rows): Checks {
  const checks: Checks = { headers: [], query: [] };
  for (const [name, rule] of Object.entries({ ...COMMON, ...rows })) {
    if (!refusing(rule)) continue;
    if (name.startsWith('?')) {
      if (rule.status === 'refused') checks.query.push(name.slice(1));
    } else {
      checks.headers.push({ lower: name.toLowerCase(), name, rule });
    }
  }
  return checks;
}

// Worked out once: this runs on every request, the small GETs included.
const CHECKS = new Map(Object.entries(OPERATIONS).map(([op, rows]) => [op, checksOf(rows)]));

const notImplemented = (what: string, details: Record<string, string>) =>
  new S3Error('NotImplemented', details, `A header you provided implies functionality that is not implemented: ${what}.`);

/**
 * Throws the S3 error for the first header or query parameter of the request that the table
 * refuses for this operation. Operations the table does not list (the ones the router refuses
 * whole) pass.
 */
export function refuseUnimplemented(operation: string, headers: IncomingHttpHeaders, query: URLSearchParams): void {
  const checks = CHECKS.get(operation);
  if (!checks) return;
  for (const { lower, name, rule } of checks.headers) {
    const raw = headers[lower];
    if (raw === undefined) continue;
    if (rule.status === 'refused') throw notImplemented(name, { Header: name });
    const value = (Array.isArray(raw) ? raw.join(',') : raw).trim();
    if (Object.hasOwn(rule.accept, value)) continue;
    if (rule.refuse.includes(value)) throw notImplemented(`${name}: ${value}`, { Header: name });
    throw new S3Error(rule.unknown, { ArgumentName: name, ArgumentValue: value }, `${value} is not a valid value for ${name}.`);
  }
  for (const param of checks.query) {
    if (query.has(param)) {
      throw new S3Error('NotImplemented', { ArgumentName: param }, `A query parameter you provided implies functionality that is not implemented: ${param}.`);
    }
  }
}
