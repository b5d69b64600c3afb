import { describe, expect, it } from 'vitest';
import { evaluatePolicy, isPublicPolicy, type PolicyPrincipal } from '../../src/auth/policy/index.js';
import { BUCKET_ARN, OTHER, OWNER, objectArn, otherKey, ownerKey, policy, request, stmt } from './policy-helpers.js';

const KEY_ARN = `arn:aws:iam::${OTHER}:user/${otherKey.accessKeyId}`;
const otherKey2: PolicyPrincipal = { accountId: OTHER, accessKeyId: 'CKOTHER0000000000002' };
// The same key id in another account is another key.
const lookalike: PolicyPrincipal = { accountId: OWNER, accessKeyId: otherKey.accessKeyId };

describe('principals', () => {
  const who = (principal: unknown) => {
    const p = policy(stmt({ Principal: principal }));
    return (caller: PolicyPrincipal | null) => evaluatePolicy(p, request({ principal: caller })) === 'Allow';
  };

  it('"*" and {"AWS": "*"} match everyone, anonymous included', () => {
    for (const principal of ['*', { AWS: '*' }, { AWS: [OTHER, '*'] }]) {
      const allows = who(principal);
      expect([allows(null), allows(ownerKey), allows(otherKey)]).toEqual([true, true, true]);
    }
  });

  it('an account (id, root ARN, CanonicalUser) matches every key of it and nobody else', () => {
    for (const principal of [{ AWS: OTHER }, { AWS: OTHER.toUpperCase() }, { AWS: `arn:aws:iam::${OTHER}:root` }, { CanonicalUser: OTHER }]) {
      const allows = who(principal);
      expect([allows(otherKey), allows(otherKey2), allows(ownerKey), allows(null)]).toEqual([true, true, false, false]);
    }
  });

  it('a key ARN matches that key of that account only', () => {
    const allows = who({ AWS: KEY_ARN });
    expect([allows(otherKey), allows(otherKey2), allows(lookalike), allows(null)]).toEqual([true, false, false, false]);
  });

  it('NotPrincipal applies to everyone it does not name, anonymous included', () => {
    const p = policy(stmt({ Principal: undefined, NotPrincipal: { AWS: [KEY_ARN, OWNER] } }));
    const decide = (caller: PolicyPrincipal | null) => evaluatePolicy(p, request({ principal: caller }));
    expect([decide(otherKey), decide(ownerKey), decide(otherKey2), decide(lookalike), decide(null)]).toEqual([
      undefined, undefined, 'Allow', undefined, 'Allow',
    ]);
    const nobody = policy(stmt({ Principal: undefined, NotPrincipal: '*' }));
    expect(evaluatePolicy(nobody, request({ principal: null }))).toBeUndefined();
  });
});

describe('actions', () => {
  const allows = (action: unknown, requested: string) =>
    evaluatePolicy(policy(stmt({ Action: action, Resource: '*' })), request({ action: requested })) === 'Allow';

  it('match whole names, case-insensitively', () => {
    expect(allows('s3:GetObject', 's3:GetObject')).toBe(true);
    expect(allows('S3:getobject', 's3:GetObject')).toBe(true);
    expect(allows('s3:GetObject', 's3:getOBJECT')).toBe(true);
    expect(allows('s3:GetObject', 's3:GetObjectVersion')).toBe(false);
    expect(allows('s3:GetObject', 's3:PutObject')).toBe(false);
  });

  it('take * and ? wildcards', () => {
    expect(allows('s3:Get*', 's3:GetObject')).toBe(true);
    expect(allows('s3:Get*', 's3:GetBucketAcl')).toBe(true);
    expect(allows('s3:Get*', 's3:PutObject')).toBe(false);
    expect(allows('s3:*Object', 's3:DeleteObject')).toBe(true);
    expect(allows('s3:*Object', 's3:DeleteObjectVersion')).toBe(false);
    expect(allows('s3:GetObject?cl', 's3:GetObjectAcl')).toBe(true);
    expect(allows('s3:G?tObject', 's3:GetObject')).toBe(true);
    expect(allows('s3:G?tObject', 's3:GeetObject')).toBe(false);
    expect(allows(['s3:PutObject', 's3:List*'], 's3:ListBucketVersions')).toBe(true);
  });

  it('"*" and "s3:*" match every action, an action the table does not know too', () => {
    expect(allows('*', 's3:SomeFutureAction')).toBe(true);
    expect(allows('s3:*', 's3:SomeFutureAction')).toBe(true);
    expect(allows('s3:Get*', 's3:GetSomethingNew')).toBe(true);
    expect(allows('s3:GetObject', 's3:SomethingNew')).toBe(false);
  });

  it('NotAction applies to every action it does not name', () => {
    const p = policy(stmt({ Action: undefined, NotAction: ['s3:Delete*', 's3:PutBucketPolicy'] }));
    const decide = (action: string) => evaluatePolicy(p, request({ action }));
    expect([decide('s3:GetObject'), decide('s3:PutObject'), decide('s3:DeleteObject'), decide('s3:DeleteObjectVersion'), decide('s3:PutBucketPolicy')]).toEqual([
      'Allow', 'Allow', undefined, undefined, undefined,
    ]);
  });
});

describe('resources', () => {
  const allows = (resource: unknown, arn: string) =>
    evaluatePolicy(policy(stmt({ Resource: resource })), request({ resource: arn })) === 'Allow';

  it('match case-sensitively, "*" spanning slashes', () => {
    const r = `${BUCKET_ARN}/public/*`;
    expect(allows(r, objectArn('public/a'))).toBe(true);
    expect(allows(r, objectArn('public/a/b/c.txt'))).toBe(true);
    expect(allows(r, objectArn('public/'))).toBe(true);
    expect(allows(r, objectArn('Public/a'))).toBe(false);
    expect(allows(r, objectArn('publicx/a'))).toBe(false);
    expect(allows(r, objectArn('private/public/a'))).toBe(false);
    expect(allows(r, BUCKET_ARN)).toBe(false);
  });

  it('take ? for exactly one character, before a trailing * too', () => {
    expect(allows(`${BUCKET_ARN}/img?.png`, objectArn('img1.png'))).toBe(true);
    expect(allows(`${BUCKET_ARN}/img?.png`, objectArn('img10.png'))).toBe(false);
    expect(allows(`${BUCKET_ARN}/img?.png`, objectArn('img.png'))).toBe(false);
    expect(allows(`${BUCKET_ARN}/img?.png`, objectArn('imgé.png'))).toBe(true);
    expect(allows(`${BUCKET_ARN}/v?/*`, objectArn('v1/x'))).toBe(true);
    expect(allows(`${BUCKET_ARN}/v?/*`, objectArn('v10/x'))).toBe(false);
  });

  it('treat regular-expression characters in keys literally and match keys with newlines', () => {
    expect(allows(`${BUCKET_ARN}/a.b(1)+[x]`, objectArn('a.b(1)+[x]'))).toBe(true);
    expect(allows(`${BUCKET_ARN}/a.b`, objectArn('axb'))).toBe(false);
    expect(allows(`${BUCKET_ARN}/*`, objectArn('line\nbreak'))).toBe(true);
    expect(allows(`${BUCKET_ARN}/a*z`, objectArn('a\nz'))).toBe(true);
  });

  it('name the bucket alone, objects alone, or both', () => {
    expect(allows(BUCKET_ARN, BUCKET_ARN)).toBe(true);
    expect(allows(BUCKET_ARN, objectArn('a'))).toBe(false);
    expect(allows('arn:aws:s3:::recipes*', BUCKET_ARN)).toBe(true);
    expect(allows('arn:aws:s3:::recipes*', objectArn('a'))).toBe(true);
    expect(allows('*', objectArn('a'))).toBe(true);
    expect(allows('*', BUCKET_ARN)).toBe(true);
  });

  it('NotResource applies to every resource it does not name', () => {
    const p = policy(stmt({ Effect: 'Deny', Action: 's3:GetObject', Resource: undefined, NotResource: `${BUCKET_ARN}/public/*` }));
    expect(evaluatePolicy(p, request({ resource: objectArn('private/a') }))).toBe('Deny');
    expect(evaluatePolicy(p, request({ resource: objectArn('public/a') }))).toBeUndefined();
  });
});

describe('decisions', () => {
  const allow = stmt({ Action: 's3:GetObject', Resource: `${BUCKET_ARN}/*` });
  const deny = stmt({ Effect: 'Deny', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/secret/*` });

  it('an applying Deny wins over an applying Allow, in either order', () => {
    for (const p of [policy(allow, deny), policy(deny, allow)]) {
      expect(evaluatePolicy(p, request({ resource: objectArn('secret/x') }))).toBe('Deny');
      expect(evaluatePolicy(p, request({ resource: objectArn('open/x') }))).toBe('Allow');
      expect(evaluatePolicy(p, request({ action: 's3:PutObject' }))).toBeUndefined();
    }
  });

  it('a Deny whose condition fails does not apply', () => {
    const p = policy(allow, stmt({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(evaluatePolicy(p, request({ conditions: { 'aws:securetransport': 'true' } }))).toBe('Allow');
    expect(evaluatePolicy(p, request({ conditions: { 'aws:securetransport': 'false' } }))).toBe('Deny');
  });

  it('a Deny after an Allow is still found', () => {
    const p = policy(allow, stmt({ Sid: 'a' }), stmt({ Sid: 'b', Effect: 'Deny', Principal: { AWS: OTHER } }));
    expect(evaluatePolicy(p, request({ principal: otherKey }))).toBe('Deny');
    expect(evaluatePolicy(p, request({ principal: ownerKey }))).toBe('Allow');
  });

  it('no statement applying gives undefined, Deny-only policies never allow', () => {
    const p = policy(stmt({ Effect: 'Deny', Principal: { AWS: OTHER } }));
    expect(evaluatePolicy(p, request({ principal: ownerKey }))).toBeUndefined();
    expect(evaluatePolicy(p, request({ principal: otherKey }))).toBe('Deny');
  });
});

describe('isPublicPolicy', () => {
  const pub = (...statements: Parameters<typeof stmt>[0][]) => isPublicPolicy(policy(...statements.map((s) => stmt(s))));
  const ip = (v: unknown) => ({ Condition: { IpAddress: { 'aws:SourceIp': v } } });

  it('is true for an Allow to "*", {"AWS": "*"} or NotPrincipal without a pinning condition', () => {
    expect(pub({})).toBe(true);
    expect(pub({ Principal: { AWS: '*' } })).toBe(true);
    expect(pub({ Principal: { AWS: [OTHER, '*'] } })).toBe(true);
    expect(pub({ Principal: undefined, NotPrincipal: { AWS: OTHER } })).toBe(true);
    expect(pub({ Condition: { StringLike: { 's3:prefix': 'public/*' } } })).toBe(true);
    expect(pub({ Principal: { AWS: OTHER } }, {})).toBe(true);
  });

  it('is false when only accounts or keys are granted, or only Deny is said', () => {
    expect(pub({ Principal: { AWS: OTHER } })).toBe(false);
    expect(pub({ Principal: { AWS: KEY_ARN } }, { Principal: { CanonicalUser: OWNER } })).toBe(false);
    expect(pub({ Effect: 'Deny' })).toBe(false);
  });

  it('is false when the source IPs are pinned to narrow ranges, true for broad ones', () => {
    expect(pub(ip('203.0.113.0/24'))).toBe(false);
    expect(pub(ip(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']))).toBe(false);
    expect(pub(ip('0.0.0.0/1'))).toBe(true);
    expect(pub(ip('0.0.0.0/0'))).toBe(true);
    expect(pub(ip(['10.0.0.0/8', '2001:db8::/16']))).toBe(true);
    expect(pub({ Condition: { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } } })).toBe(true);
    expect(pub({ Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })).toBe(true);
  });

  it('is false when the caller\'s account or ARN is pinned to fixed values, true with wildcards', () => {
    expect(pub({ Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER } } })).toBe(false);
    expect(pub({ Condition: { ArnEquals: { 'aws:PrincipalArn': KEY_ARN } } })).toBe(false);
    expect(pub({ Condition: { StringEquals: { 'aws:userid': 'CKOTHER0000000000001' } } })).toBe(false);
    expect(pub({ Condition: { StringLike: { 'aws:PrincipalAccount': '2*' } } })).toBe(true);
    expect(pub({ Condition: { StringNotEquals: { 'aws:PrincipalAccount': OTHER } } })).toBe(true);
    expect(pub({ Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalAccount': OTHER } } })).toBe(true);
  });
});

describe('speed', () => {
  it('evaluates a 10-statement policy in microseconds (printed, not asserted)', () => {
    const statements = [
      stmt({ Sid: 's1', Principal: { AWS: KEY_ARN }, Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${BUCKET_ARN}/incoming/*` }),
      stmt({ Sid: 's2', Effect: 'Deny', Principal: { AWS: KEY_ARN }, Action: undefined, NotAction: ['s3:PutObject', 's3:AbortMultipartUpload'] }),
      stmt({ Sid: 's3', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      stmt({ Sid: 's4', Effect: 'Deny', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8', '::1/128'] } } }),
      stmt({ Sid: 's5', Action: 's3:ListBucket', Resource: BUCKET_ARN, Condition: { StringLike: { 's3:prefix': ['public/*', ''] } } }),
      stmt({ Sid: 's6', Principal: { AWS: OTHER }, Action: 's3:Get*', Resource: `${BUCKET_ARN}/shared/*` }),
      stmt({ Sid: 's7', Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: `${BUCKET_ARN}/archive/*` }),
      stmt({ Sid: 's8', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/img/*.png`, Condition: { StringEquals: { 'aws:Referer': 'https://example.com/' } } }),
      stmt({ Sid: 's9', Effect: 'Deny', Action: 's3:PutObject', Condition: { StringNotEquals: { 's3:x-amz-acl': 'private' } } }),
      stmt({ Sid: 's10', Action: 's3:GetObject', Resource: `${BUCKET_ARN}/public/*` }),
    ];
    const p = policy(...statements);
    const values: Record<string, string> = { 'aws:securetransport': 'true', 'aws:sourceip': '10.1.2.3', 's3:x-amz-acl': 'private' };
    const req = { action: 's3:GetObject', resource: objectArn('public/cake.jpg'), principal: ownerKey, condition: (k: string) => values[k] };
    expect(evaluatePolicy(p, req)).toBe('Allow');
    const n = 100_000;
    for (let i = 0; i < 10_000; i++) evaluatePolicy(p, req);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) evaluatePolicy(p, req);
    const ns = Number(process.hrtime.bigint() - start) / n;
    console.log(`policy engine: 10-statement policy, ${n} evaluations, ${(ns / 1000).toFixed(2)} µs each`);
  });
});
