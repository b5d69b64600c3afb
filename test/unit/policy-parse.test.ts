import { describe, expect, it } from 'vitest';
import { PolicyError, S3_ACTIONS, conditionKeys, parsePolicy } from '../../src/auth/policy/index.js';
import { BUCKET, BUCKET_ARN, OTHER, isAccount, objectArn, parseDoc, policy, stmt } from './policy-helpers.js';

const UNKNOWN = 'f'.repeat(64);

/** The PolicyError a document raises (fails the test when it parses). */
function errorOf(doc: unknown): string {
  try {
    parseDoc(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as Error).message;
  }
  throw new Error('expected a PolicyError');
}

const errorOfStatement = (over: Record<string, unknown>): string => errorOf({ Version: '2012-10-17', Statement: [stmt(over)] });

describe('policy document shape', () => {
  it('accepts Statement as one object or an array, Version 2012-10-17, 2008-10-17 or none, and an Id', () => {
    expect(parseDoc({ Version: '2012-10-17', Statement: stmt() }).statements).toHaveLength(1);
    expect(parseDoc({ Version: '2008-10-17', Statement: [stmt(), stmt()] }).statements).toHaveLength(2);
    expect(parseDoc({ Id: 'mine', Statement: [stmt()] }).statements).toHaveLength(1);
  });

  it('keeps the text as given', () => {
    const text = JSON.stringify({ Statement: stmt() }, null, 2);
    expect(parsePolicy(text, BUCKET, isAccount).text).toBe(text);
  });

  it.each([
    ['not JSON', '{"Statement": ', "Policies must be valid JSON and the first byte must be '{'"],
    ['not JSON, with the parser\'s reason', '{"Statement": [}', "Policies must be valid JSON and the first byte must be '{': "],
    ['a JSON array', '[]', "Policies must be valid JSON and the first byte must be '{': the document is an array, not an object"],
    ['a JSON string', '"x"', "Policies must be valid JSON and the first byte must be '{': the document is a string, not an object"],
    ['JSON null', 'null', 'the document is null, not an object'],
    ['an unknown top-level field', { Statement: stmt(), Extra: 1 }, 'Unknown field Extra in policy'],
    ['another Version', { Version: '2012-10-18', Statement: stmt() }, 'Invalid policy Version "2012-10-18": use "2012-10-17"'],
    ['a numeric Version', { Version: 2012, Statement: stmt() }, 'Invalid policy Version 2012'],
    ['an Id that is not a string', { Id: 5, Statement: stmt() }, 'Policy Id must be a string'],
    ['no Statement', { Version: '2012-10-17' }, 'Missing required field Statement'],
    ['an empty Statement array', { Statement: [] }, 'Statement must be an object or a non-empty array of objects'],
    ['a Statement string', { Statement: 'x' }, 'Statement must be an object or a non-empty array of objects'],
    ['a statement that is not an object', { Statement: ['x'] }, 'Each statement must be an object'],
    ['duplicate Sids', { Statement: [stmt({ Sid: 'A' }), stmt({ Sid: 'A' })] }, 'Statement IDs (SID) must be unique: A appears twice'],
  ])('refuses %s', (_what, doc, message) => {
    expect(errorOf(doc)).toContain(message);
  });

  it('refuses a document over 20 KB and accepts one just under', () => {
    const pad = (n: number) => JSON.stringify({ Id: 'x'.repeat(n), Statement: stmt() });
    const base = pad(0).length;
    expect(() => parsePolicy(pad(20 * 1024 - base), BUCKET, isAccount)).not.toThrow();
    expect(errorOf(pad(20 * 1024 - base + 1))).toBe('Policy exceeds the maximum allowed document size (20480 bytes)');
  });

  it('counts the size in UTF-8 bytes', () => {
    const doc = JSON.stringify({ Id: 'é'.repeat(10_300), Statement: stmt() });
    expect(doc.length).toBeLessThan(20 * 1024);
    expect(errorOf(doc)).toContain('maximum allowed document size');
  });
});

describe('statement elements', () => {
  it.each([
    ['an unknown element', { Principals: '*' }, 'Unknown field Principals in statement'],
    ['a Sid that is not a string', { Sid: 1 }, 'Sid must be a string'],
    ['no Effect', { Effect: undefined }, 'Missing required field Effect'],
    ['a lower-case Effect', { Effect: 'allow' }, 'Invalid effect "allow": use Allow or Deny'],
    ['both Principal and NotPrincipal', { NotPrincipal: '*' }, 'A statement cannot have both Principal and NotPrincipal'],
    ['no Principal', { Principal: undefined }, 'Missing required field Principal'],
    ['both Action and NotAction', { NotAction: 's3:GetObject' }, 'A statement cannot have both Action and NotAction'],
    ['no Action', { Action: undefined }, 'Missing required field Action'],
    ['both Resource and NotResource', { NotResource: BUCKET_ARN }, 'A statement cannot have both Resource and NotResource'],
    ['no Resource', { Resource: undefined }, 'Missing required field Resource'],
    ['an empty Action array', { Action: [] }, 'Action must be a string or a non-empty array of strings'],
    ['an empty Resource array', { Resource: [] }, 'Resource must be a string or a non-empty array of strings'],
  ])('refuses %s', (_what, over, message) => {
    expect(errorOfStatement(over)).toBe(message);
  });
});

describe('principals', () => {
  it.each([
    ['"*"', '*'],
    ['{"AWS": "*"}', { AWS: '*' }],
    ['a 64-hex account', { AWS: OTHER }],
    ['an upper-case 64-hex account', { AWS: OTHER.toUpperCase() }],
    ['an account root ARN', { AWS: `arn:aws:iam::${OTHER}:root` }],
    ['a key ARN', { AWS: `arn:aws:iam::${OTHER}:user/CKOTHER0000000000001` }],
    ['a CanonicalUser', { CanonicalUser: OTHER }],
    ['a mixed array', { AWS: [OTHER, `arn:aws:iam::${OTHER}:user/CK1`], CanonicalUser: [OTHER] }],
  ])('accepts %s', (_what, principal) => {
    expect(() => policy(stmt({ Principal: principal }))).not.toThrow();
  });

  it.each([
    ['an account the server does not know', { AWS: UNKNOWN }],
    ['a root ARN of an unknown account', { AWS: `arn:aws:iam::${UNKNOWN}:root` }],
    ['a key ARN of an unknown account', { AWS: `arn:aws:iam::${UNKNOWN}:user/CK1` }],
    ['an unknown CanonicalUser', { CanonicalUser: UNKNOWN }],
  ])('refuses %s with S3 words, naming the id', (_what, principal) => {
    expect(errorOfStatement({ Principal: principal })).toBe(`Invalid principal in policy: no account has the id ${UNKNOWN}`);
  });

  it.each([
    ['a string other than "*"', 'bob'],
    ['an empty object', {}],
    ['an array', ['*']],
    ['a service principal', { Service: 's3.amazonaws.com' }],
    ['a federated principal', { Federated: 'cognito-identity.amazonaws.com' }],
    ['a 12-digit AWS account', { AWS: '123456789012' }],
    ['a role ARN', { AWS: `arn:aws:iam::${OTHER}:role/admin` }],
    ['a key ARN with no key', { AWS: `arn:aws:iam::${OTHER}:user/` }],
    ['a key ARN with a wildcard', { AWS: `arn:aws:iam::${OTHER}:user/CK*` }],
    ['an sts ARN', { AWS: `arn:aws:sts::${OTHER}:assumed-role/r/s` }],
    ['an empty AWS array', { AWS: [] }],
    ['a number', { AWS: 5 }],
    ['a CanonicalUser that is not 64 hex', { CanonicalUser: 'abc' }],
  ])('refuses %s', (_what, principal) => {
    expect(errorOfStatement({ Principal: principal })).toMatch(/^Invalid principal in policy: /);
  });
});

describe('actions', () => {
  it('knows every action the brief lists, and more from the S3 reference', () => {
    for (const a of ['GetObject', 'GetObjectVersion', 'PutObject', 'DeleteObject', 'DeleteObjectVersion', 'ListBucket', 'ListBucketVersions',
      'ListBucketMultipartUploads', 'ListMultipartUploadParts', 'AbortMultipartUpload', 'GetObjectAcl', 'GetObjectVersionAcl', 'PutObjectAcl',
      'PutObjectVersionAcl', 'GetBucketAcl', 'PutBucketAcl', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus',
      'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'GetBucketVersioning', 'PutBucketVersioning', 'GetBucketLocation', 'GetBucketCORS',
      'PutBucketCORS', 'GetBucketObjectLockConfiguration', 'PutBucketObjectLockConfiguration', 'GetObjectRetention', 'PutObjectRetention',
      'GetObjectLegalHold', 'PutObjectLegalHold', 'BypassGovernanceRetention', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging',
      'GetBucketTagging', 'PutBucketTagging', 'GetLifecycleConfiguration', 'PutLifecycleConfiguration', 'GetObjectAttributes',
      'GetObjectVersionAttributes', 'ListAllMyBuckets', 'CreateBucket', 'DeleteBucket', 'RestoreObject', 'GetBucketWebsite', 'PutReplicationConfiguration']) {
      expect(S3_ACTIONS).toContain(`s3:${a}`);
    }
    expect(new Set(S3_ACTIONS).size).toBe(S3_ACTIONS.length);
  });

  it.each(['*', 's3:*', 'S3:*', 's3:Get*', 's3:get*', 'S3:GETOBJECT', 's3:GetObject?ersion', ['s3:GetObject', 's3:PutObject']])('accepts %s', (action) => {
    expect(() => policy(stmt({ Action: action }))).not.toThrow();
  });

  it.each([
    ['a misspelt action', 's3:GetObjekt'],
    ['another service', 'iam:PassRole'],
    ['a pattern that names nothing', 's3:Get*Zebra'],
    ['no service prefix', 'GetObject'],
    ['a lone service', 's3:'],
  ])('refuses %s', (_what, action) => {
    expect(errorOfStatement({ Action: action })).toBe(`Policy has invalid action: ${action}`);
  });

  it('refuses a non-string action, and checks NotAction the same way', () => {
    expect(errorOfStatement({ Action: 5 })).toBe('Action must be a string or a non-empty array of strings');
    expect(errorOfStatement({ Action: ['s3:GetObject', 5] })).toBe('Policy has invalid action: an action must be a string');
    expect(errorOfStatement({ Action: undefined, NotAction: 's3:Nope' })).toBe('Policy has invalid action: s3:Nope');
  });
});

describe('resources', () => {
  it.each([
    '*', BUCKET_ARN, `${BUCKET_ARN}/*`, `${BUCKET_ARN}/public/*`, `${BUCKET_ARN}/img?.png`, 'arn:aws:s3:::recipes*', 'arn:aws:s3:::rec?pes/*', 'arn:aws:s3:::*',
  ])('accepts %s', (resource) => {
    expect(() => policy(stmt({ Resource: resource }))).not.toThrow();
  });

  it.each([
    ['another bucket', 'arn:aws:s3:::other'],
    ['objects of another bucket', 'arn:aws:s3:::other/*'],
    ['a bucket whose name starts with ours', 'arn:aws:s3:::recipesX/*'],
    ['our name in another case', 'arn:aws:s3:::Recipes/*'],
    ['a non-S3 ARN', 'arn:aws:iam::123456789012:user/x'],
    ['a bare bucket name', 'recipes/*'],
  ])('refuses %s', (_what, resource) => {
    expect(errorOfStatement({ Resource: resource })).toMatch(/^Policy has invalid resource: /);
  });

  it('refuses policy variables in resources, and checks NotResource too', () => {
    expect(errorOfStatement({ Resource: `${BUCKET_ARN}/home/\${aws:username}/*` })).toMatch(/^Policy variables .* are not supported/);
    expect(errorOfStatement({ Resource: undefined, NotResource: 'arn:aws:s3:::other' })).toMatch(/^Policy has invalid resource/);
  });

  it.each([
    ['an object action on the bucket', { Action: 's3:GetObject', Resource: BUCKET_ARN }, 's3:GetObject'],
    ['a bucket action on objects', { Action: 's3:ListBucket', Resource: objectArn('*') }, 's3:ListBucket'],
    ['one of several actions', { Action: ['s3:GetObject', 's3:ListBucket'], Resource: objectArn('*') }, 's3:ListBucket'],
    ['an account-level action', { Action: 's3:ListAllMyBuckets', Resource: BUCKET_ARN }, 's3:ListAllMyBuckets'],
    ['a pattern of object actions only', { Action: 's3:*ObjectVersion*', Resource: BUCKET_ARN }, 's3:*ObjectVersion*'],
  ])('refuses %s ("Action does not apply")', (_what, over, named) => {
    expect(errorOfStatement(over)).toBe(`Action does not apply to any resource(s) in statement: ${named}`);
  });

  it('accepts patterns that reach some resource named, "*" resources, and NotAction / NotResource', () => {
    expect(() => policy(stmt({ Action: 's3:Get*', Resource: BUCKET_ARN }))).not.toThrow();
    expect(() => policy(stmt({ Action: 's3:ListAllMyBuckets', Resource: '*' }))).not.toThrow();
    expect(() => policy(stmt({ Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::recipes*' }))).not.toThrow();
    expect(() => policy(stmt({ Action: undefined, NotAction: 's3:GetObject', Resource: BUCKET_ARN }))).not.toThrow();
    expect(() => policy(stmt({ Action: 's3:GetObject', Resource: undefined, NotResource: BUCKET_ARN }))).not.toThrow();
  });
});

describe('condition element', () => {
  const withCondition = (condition: unknown) => errorOfStatement({ Condition: condition });

  it.each([
    ['a Condition that is not an object', 'x', 'Condition must be an object of {"Operator": {"key": value}}'],
    ['an unknown operator', { StringEqualz: { 's3:prefix': 'a' } }, 'Invalid condition operator: StringEqualz'],
    ['an unknown set qualifier', { 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } }, 'Invalid condition operator: ForSomeValues:StringEquals'],
    ['NullIfExists', { NullIfExists: { 's3:prefix': 'true' } }, 'Invalid condition operator: NullIfExists (Null takes no IfExists or set qualifier)'],
    ['ForAnyValue:Null', { 'ForAnyValue:Null': { 's3:prefix': 'true' } }, 'Invalid condition operator: ForAnyValue:Null'],
    ['an operator block that is not an object', { StringEquals: 'a' }, 'Condition operator StringEquals must map condition keys to values'],
    ['no values', { StringEquals: { 's3:prefix': [] } }, 'Condition StringEquals on s3:prefix has no values'],
    ['an object value', { StringEquals: { 's3:prefix': { a: 1 } } }, 'values must be strings, numbers or booleans'],
    ['a null value', { StringEquals: { 's3:prefix': null } }, 'values must be strings, numbers or booleans'],
    ['an unknown key', { StringEquals: { 'aws:Nonsense': 'a' } }, 'Policy has an invalid condition key: aws:Nonsense'],
    ['a policy variable', { StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, 'Policy variables such as ${aws:username} are not supported: home/${aws:username}/*'],
    ['a malformed number', { NumericLessThan: { 's3:max-keys': 'ten' } }, 'Condition NumericLessThan on s3:max-keys: "ten" is not a number'],
    ['a malformed date', { DateLessThan: { 'aws:CurrentTime': '2024-13-01' } }, '"2024-13-01" is not an ISO 8601 date or epoch seconds'],
    ['a date that does not exist', { DateLessThan: { 'aws:CurrentTime': '2024-02-30' } }, '"2024-02-30" is not an ISO 8601 date'],
    ['a malformed IP', { IpAddress: { 'aws:SourceIp': '300.1.1.1' } }, '"300.1.1.1" is not an IP address or CIDR block'],
    ['a prefix too long', { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }, '"10.0.0.0/33" is not an IP address or CIDR block'],
    ['a short IPv4 form', { IpAddress: { 'aws:SourceIp': '10.1' } }, '"10.1" is not an IP address or CIDR block'],
    ['a malformed Bool', { Bool: { 'aws:SecureTransport': 'yes' } }, 'Condition Bool on aws:SecureTransport: "yes" is not true or false'],
    ['a malformed Null', { Null: { 's3:prefix': 'maybe' } }, '"maybe" is not true or false'],
    ['malformed base64', { BinaryEquals: { 'aws:UserAgent': '***' } }, '"***" is not base64'],
    ['a malformed ARN', { ArnLike: { 'aws:PrincipalArn': 'not-an-arn' } }, '"not-an-arn" is not an ARN'],
  ])('refuses %s', (_what, condition, message) => {
    expect(withCondition(condition)).toContain(message);
  });

  it.each([
    ['aws:RequestTag/team', 'IAM resource tags: cairn buckets carry S3 tags, tested with s3:ExistingObjectTag and s3:RequestObjectTag'],
    ['aws:ResourceTag/team', 'IAM resource tags: cairn buckets carry S3 tags, tested with s3:ExistingObjectTag and s3:RequestObjectTag'],
    ['aws:TagKeys', 'IAM resource tags: cairn buckets carry S3 tags, tested with s3:ExistingObjectTag and s3:RequestObjectTag'],
    ['s3:x-amz-server-side-encryption-aws-kms-key-id', 'cairn has no KMS, so KMS condition keys never apply'],
    ['s3:x-amz-server-side-encryption-context', 'cairn has no KMS, so KMS condition keys never apply'],
    ['aws:SourceVpc', 'cairn has no VPCs, so VPC condition keys never apply'],
    ['aws:SourceVpce', 'cairn has no VPCs, so VPC condition keys never apply'],
  ])('refuses %s, saying why', (key, why) => {
    const message = withCondition({ StringEquals: { [key]: 'x' } });
    expect(message).toBe(`Policy has an invalid condition key: ${key} (${why})`);
  });

  it('accepts keys in any case and reports them lower-cased', () => {
    const p = policy(stmt({ Condition: { IpAddress: { 'AWS:SOURCEIP': '10.0.0.0/8' }, StringLike: { 'S3:Prefix': 'a/*', 's3:delimiter': '/' } } }));
    expect([...conditionKeys(p)].sort()).toEqual(['aws:sourceip', 's3:delimiter', 's3:prefix']);
    expect(conditionKeys(policy(stmt()))).toEqual(new Set());
  });

  it('keeps the tag key of s3:ExistingObjectTag/<key> and s3:RequestObjectTag/<key> as written (tag keys are case-sensitive)', () => {
    const p = policy(stmt({ Condition: { StringEquals: { 'S3:ExistingObjectTag/Team': 'a', 's3:requestobjecttag/Env': 'b', 's3:RequestObjectTagKeys': 'c' } } }));
    expect([...conditionKeys(p)].sort()).toEqual(['s3:existingobjecttag/Team', 's3:requestobjecttag/Env', 's3:requestobjecttagkeys']);
  });

  it('accepts operator names in any case, numbers and booleans as values, and an empty Condition', () => {
    expect(() => policy(stmt({ Condition: { stringequals: { 's3:prefix': 'a' }, 'foranyvalue:stringlikeifexists': { 's3:prefix': 'b*' } } }))).not.toThrow();
    expect(() => policy(stmt({ Condition: { NumericLessThan: { 's3:max-keys': 10 }, Bool: { 'aws:SecureTransport': true } } }))).not.toThrow();
    expect(() => policy(stmt({ Condition: {} }))).not.toThrow();
  });
});
