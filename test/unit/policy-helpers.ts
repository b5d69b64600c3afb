// Shared by the policy-*.test.ts files: accounts, a bucket, and small builders for policies and
// requests.
import { parsePolicy, type CompiledPolicy, type ConditionValue, type PolicyPrincipal, type PolicyRequest } from '../../src/auth/policy/index.js';

export const BUCKET = 'recipes';
export const OWNER = '1'.repeat(64);
export const OTHER = '2'.repeat(64);
export const isAccount = (id: string): boolean => id === OWNER || id === OTHER;

export const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
export const objectArn = (key: string): string => `${BUCKET_ARN}/${key}`;

export const ownerKey: PolicyPrincipal = { accountId: OWNER, accessKeyId: 'CKOWNER0000000000001' };
export const otherKey: PolicyPrincipal = { accountId: OTHER, accessKeyId: 'CKOTHER0000000000001' };

export type Statement = Record<string, unknown>;

/** A statement that applies to everything unless overridden. */
export function stmt(over: Statement = {}): Statement {
  return { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`], ...over };
}

export function policy(...statements: Statement[]): CompiledPolicy {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), BUCKET, isAccount);
}

export function parseDoc(doc: unknown): CompiledPolicy {
  return parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc), BUCKET, isAccount);
}

export interface RequestSpec {
  action?: string;
  resource?: string;
  principal?: PolicyPrincipal | null;
  conditions?: Record<string, ConditionValue>;
}

export function request(spec: RequestSpec = {}): PolicyRequest {
  const conditions = spec.conditions ?? {};
  return {
    action: spec.action ?? 's3:GetObject',
    resource: spec.resource ?? objectArn('a.txt'),
    principal: spec.principal === undefined ? ownerKey : spec.principal,
    condition: (key) => conditions[key],
  };
}
