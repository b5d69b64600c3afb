import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type ConditionValue } from '../../src/auth/policy/index.js';
import { policy, request, stmt } from './policy-helpers.js';

/** Whether an Allow statement holding only this condition applies to a request with `value` for `key`. */
function holds(operator: string, key: string, policyValues: unknown, value: ConditionValue): boolean {
  const p = policy(stmt({ Condition: { [operator]: { [key]: policyValues } } }));
  return evaluatePolicy(p, request({ conditions: { [key.toLowerCase()]: value } })) === 'Allow';
}

type Case = [operator: string, key: string, policyValues: unknown, requestValue: ConditionValue, expected: boolean];

const EPOCH_2024 = '1704067200'; // 2024-01-01T00:00:00Z
const HELLO_B64 = Buffer.from('hello').toString('base64');

const CASES: Case[] = [
  ['StringEquals', 's3:prefix', ['a', 'b'], 'a', true],
  ['StringEquals', 's3:prefix', ['a', 'b'], 'b', true],
  ['StringEquals', 's3:prefix', ['a', 'b'], 'c', false],
  ['StringEquals', 's3:prefix', ['a', 'b'], 'A', false],
  ['StringEquals', 's3:prefix', '', '', true],
  ['StringEquals', 's3:max-keys', 10, '10', true],
  ['StringNotEquals', 's3:prefix', ['a', 'b'], 'a', false],
  ['StringNotEquals', 's3:prefix', ['a', 'b'], 'c', true],
  ['StringEqualsIgnoreCase', 's3:prefix', 'Abc', 'aBC', true],
  ['StringEqualsIgnoreCase', 's3:prefix', 'Abc', 'abd', false],
  ['StringNotEqualsIgnoreCase', 's3:prefix', 'Abc', 'ABC', false],
  ['StringNotEqualsIgnoreCase', 's3:prefix', 'Abc', 'x', true],
  ['StringLike', 's3:prefix', ['home/*', 'a?c'], 'home/x/y', true],
  ['StringLike', 's3:prefix', ['home/*', 'a?c'], 'home/', true],
  ['StringLike', 's3:prefix', ['home/*', 'a?c'], 'abc', true],
  ['StringLike', 's3:prefix', ['home/*', 'a?c'], 'abbc', false],
  ['StringLike', 's3:prefix', ['home/*', 'a?c'], 'Home/x', false],
  ['StringLike', 's3:prefix', '*', 'anything', true],
  ['StringLike', 's3:prefix', 'a.c', 'abc', false],
  ['StringLike', 's3:prefix', '*(x)', '(x)', true],
  ['StringNotLike', 's3:prefix', 'home/*', 'home/x', false],
  ['StringNotLike', 's3:prefix', 'home/*', 'other', true],
  ['NumericEquals', 's3:max-keys', '10', '10', true],
  ['NumericEquals', 's3:max-keys', '10', '10.0', true],
  ['NumericEquals', 's3:max-keys', 10, '11', false],
  ['NumericEquals', 's3:max-keys', '10', 'ten', false],
  ['NumericNotEquals', 's3:max-keys', '10', '10', false],
  ['NumericNotEquals', 's3:max-keys', '10', '11', true],
  ['NumericLessThan', 's3:max-keys', '10', '9', true],
  ['NumericLessThan', 's3:max-keys', '10', '10', false],
  ['NumericLessThan', 's3:max-keys', ['5', '10'], '7', true],
  ['NumericLessThanEquals', 's3:max-keys', '10', '10', true],
  ['NumericLessThanEquals', 's3:max-keys', '10', '11', false],
  ['NumericGreaterThan', 's3:max-keys', '10', '11', true],
  ['NumericGreaterThan', 's3:max-keys', '10', '10', false],
  ['NumericGreaterThanEquals', 's3:max-keys', '-1.5', '-1.5', true],
  ['NumericGreaterThanEquals', 's3:max-keys', '10', '9', false],
  ['DateEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-01-01T01:00:00+01:00', true],
  ['DateEquals', 'aws:EpochTime', '2024-01-01T00:00:00Z', EPOCH_2024, true],
  ['DateEquals', 'aws:CurrentTime', Number(EPOCH_2024), '2024-01-01', true],
  ['DateEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', false],
  ['DateEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', 'tomorrow', false],
  ['DateNotEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', false],
  ['DateNotEquals', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', true],
  ['DateLessThan', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2023-12-31T23:59:59Z', true],
  ['DateLessThan', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', false],
  ['DateLessThanEquals', 'aws:CurrentTime', '2024-01-01', '2024-01-01T00:00:00Z', true],
  ['DateLessThanEquals', 'aws:EpochTime', '2024-01-01T00:00:00Z', String(Number(EPOCH_2024) + 1), false],
  ['DateGreaterThan', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2024-06-01T12:30Z', true],
  ['DateGreaterThan', 'aws:CurrentTime', '2024-01-01T00:00:00Z', '2023-06-01T00:00:00Z', false],
  ['DateGreaterThanEquals', 'aws:CurrentTime', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00Z', true],
  ['DateGreaterThanEquals', 'aws:CurrentTime', '2024', '2023-12-31T23:59:59Z', false],
  ['Bool', 'aws:SecureTransport', 'true', 'true', true],
  ['Bool', 'aws:SecureTransport', true, 'TRUE', true],
  ['Bool', 'aws:SecureTransport', 'false', 'true', false],
  ['Bool', 'aws:SecureTransport', 'False', 'false', true],
  ['BinaryEquals', 'aws:UserAgent', HELLO_B64, 'hello', true],
  ['BinaryEquals', 'aws:UserAgent', HELLO_B64, 'world', false],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], '203.0.113.7', true],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], '203.0.114.1', false],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], '2001:db8:1::1', true],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], '2001:db9::1', false],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], '::ffff:203.0.113.9', true],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8::/32'], 'not-an-ip', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '010.0.0.1', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.1', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.0.0.256', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.0.0.', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.1.2.3.4', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.255.255.255', true],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '11.0.0.0', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', '::ffff:10.0.0.1', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.99/24', '203.0.113.1', true],
  ['IpAddress', 'aws:SourceIp', '255.255.255.255/32', '255.255.255.255', true],
  ['IpAddress', 'aws:SourceIp', '10.0.0.1', '10.0.0.1', true],
  ['IpAddress', 'aws:SourceIp', '10.0.0.1', '10.0.0.2', false],
  ['IpAddress', 'aws:SourceIp', '0.0.0.0/0', '192.0.2.1', true],
  ['IpAddress', 'aws:SourceIp', '0.0.0.0/0', '2001:db8::1', false],
  ['NotIpAddress', 'aws:SourceIp', '127.0.0.0/8', '127.0.0.1', false],
  ['NotIpAddress', 'aws:SourceIp', '127.0.0.0/8', '10.0.0.1', true],
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111:user/CK1', 'arn:aws:iam::111:user/CK1', true],
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::111:user/CK1', 'arn:aws:iam::111:user/CK2', false],
  ['ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::*:user/*', 'arn:aws:iam::111:user/CK2', true],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::11?:root', 'arn:aws:iam::111:root', true],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::111:user/*', 'arn:aws:iam::111:root', false],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::111:user/*', 'not an arn', false],
  // The documented difference: '*' in an ARN part stops at the part's colons.
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:s3:*:111:finance/*', 'arn:aws:s3:us-east-2:999:store/abc:111:finance/doc', false],
  ['StringLike', 'aws:PrincipalArn', 'arn:aws:s3:*:111:finance/*', 'arn:aws:s3:us-east-2:999:store/abc:111:finance/doc', true],
  ['ArnLike', 'aws:PrincipalArn', 'arn:aws:s3:::b/*', 'arn:aws:s3:::b/x:y:z', true],
  ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::111:root', 'arn:aws:iam::111:root', false],
  ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::111:root', 'arn:aws:iam::222:root', true],
  ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:root', 'arn:aws:iam::222:root', false],
  ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:root', 'arn:aws:iam::222:user/x', true],
  ['Null', 's3:x-amz-acl', 'true', undefined, true],
  ['Null', 's3:x-amz-acl', 'true', 'private', false],
  ['Null', 's3:x-amz-acl', 'false', 'private', true],
  ['Null', 's3:x-amz-acl', false, undefined, false],
  ['Null', 's3:x-amz-acl', 'true', [], true],
  ['Null', 's3:x-amz-acl', 'false', '', true],
];

describe('condition operators', () => {
  it.each(CASES)('%s on %s with %j: %j -> %s', (operator, key, values, value, expected) => {
    expect(holds(operator, key, values, value)).toBe(expected);
  });

  it('adds IfExists without changing the test on a present key', () => {
    for (const [operator, key, values, value, expected] of CASES) {
      if (operator === 'Null') continue;
      expect(holds(`${operator}IfExists`, key, values, value), `${operator}IfExists ${JSON.stringify(value)}`).toBe(expected);
    }
  });
});

describe('an absent key', () => {
  const SAMPLES: Record<string, [string, unknown]> = {
    String: ['s3:prefix', 'a'],
    Numeric: ['s3:max-keys', '1'],
    Date: ['aws:CurrentTime', '2024-01-01T00:00:00Z'],
    Arn: ['aws:PrincipalArn', 'arn:aws:iam::1:root'],
  };
  const positive = [
    ['StringEquals', 'String'], ['StringEqualsIgnoreCase', 'String'], ['StringLike', 'String'], ['NumericEquals', 'Numeric'],
    ['NumericLessThan', 'Numeric'], ['NumericLessThanEquals', 'Numeric'], ['NumericGreaterThan', 'Numeric'], ['NumericGreaterThanEquals', 'Numeric'],
    ['DateEquals', 'Date'], ['DateLessThan', 'Date'], ['DateLessThanEquals', 'Date'], ['DateGreaterThan', 'Date'], ['DateGreaterThanEquals', 'Date'],
    ['ArnEquals', 'Arn'], ['ArnLike', 'Arn'],
  ] as const;
  const negated = [
    ['StringNotEquals', 'String'], ['StringNotEqualsIgnoreCase', 'String'], ['StringNotLike', 'String'], ['NumericNotEquals', 'Numeric'],
    ['DateNotEquals', 'Date'], ['ArnNotEquals', 'Arn'], ['ArnNotLike', 'Arn'],
  ] as const;
  const others: Array<[string, string, unknown]> = [
    ['Bool', 'aws:SecureTransport', 'true'],
    ['BinaryEquals', 'aws:UserAgent', HELLO_B64],
    ['IpAddress', 'aws:SourceIp', '10.0.0.0/8'],
  ];

  it.each(positive)('fails %s, and passes %sIfExists', (operator, family) => {
    const [key, v] = SAMPLES[family];
    expect(holds(operator, key, v, undefined)).toBe(false);
    expect(holds(`${operator}IfExists`, key, v, undefined)).toBe(true);
  });

  it.each(others)('fails %s, and passes %sIfExists', (operator, key, v) => {
    expect(holds(operator, key, v, undefined)).toBe(false);
    expect(holds(`${operator}IfExists`, key, v, undefined)).toBe(true);
  });

  it.each(negated)('passes the negated %s, and %sIfExists', (operator, family) => {
    const [key, v] = SAMPLES[family];
    expect(holds(operator, key, v, undefined)).toBe(true);
    expect(holds(`${operator}IfExists`, key, v, undefined)).toBe(true);
  });

  it('passes NotIpAddress, and treats an empty list of values as absent', () => {
    expect(holds('NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', undefined)).toBe(true);
    expect(holds('StringEquals', 's3:prefix', 'a', [])).toBe(false);
    expect(holds('StringNotEquals', 's3:prefix', 'a', [])).toBe(true);
  });
});

describe('several request values', () => {
  const many: Case[] = [
    // No qualifier: some request value matches some policy value (negated: none does).
    ['StringEquals', 's3:prefix', 'a', ['x', 'a'], true],
    ['StringEquals', 's3:prefix', 'a', ['x', 'y'], false],
    ['StringNotEquals', 's3:prefix', 'a', ['x', 'a'], false],
    ['StringNotEquals', 's3:prefix', 'a', ['x', 'y'], true],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], ['x', 'a'], true],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], ['x', 'y'], false],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], 'b', true],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], [], false],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], undefined, false],
    ['ForAnyValue:StringEqualsIfExists', 's3:prefix', ['a', 'b'], undefined, true],
    ['ForAnyValue:StringNotEquals', 's3:prefix', 'a', ['a', 'x'], true],
    ['ForAnyValue:StringNotEquals', 's3:prefix', 'a', ['a'], false],
    ['ForAnyValue:StringLike', 's3:prefix', 'home/*', ['x', 'home/1'], true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], ['a', 'x'], false],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], 'a', true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], [], true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], undefined, true],
    ['ForAllValues:StringNotEquals', 's3:prefix', ['a', 'b'], ['x', 'y'], true],
    ['ForAllValues:StringNotEquals', 's3:prefix', ['a', 'b'], ['x', 'a'], false],
    ['ForAllValues:StringLike', 's3:prefix', ['home/*', 'tmp/*'], ['home/a', 'tmp/b'], true],
    ['ForAllValues:StringLike', 's3:prefix', ['home/*', 'tmp/*'], ['home/a', 'etc/b'], false],
    ['ForAllValues:NumericLessThan', 's3:max-keys', '10', ['1', '9'], true],
    ['ForAllValues:NumericLessThan', 's3:max-keys', '10', ['1', '10'], false],
    ['ForAnyValue:IpAddress', 'aws:SourceIp', '10.0.0.0/8', ['192.0.2.1', '10.1.2.3'], true],
  ];
  it.each(many)('%s on %s with %j: %j -> %s', (operator, key, values, value, expected) => {
    expect(holds(operator, key, values, value)).toBe(expected);
  });
});

describe('combining clauses', () => {
  const both = policy(stmt({ Condition: { StringEquals: { 's3:prefix': ['a', 'b'], 's3:delimiter': '/' }, NumericLessThan: { 's3:max-keys': '100' } } }));
  const decide = (conditions: Record<string, ConditionValue>) => evaluatePolicy(both, request({ conditions }));

  it('needs every operator and every key (AND), any one of a key\'s values (OR)', () => {
    expect(decide({ 's3:prefix': 'b', 's3:delimiter': '/', 's3:max-keys': '10' })).toBe('Allow');
    expect(decide({ 's3:prefix': 'c', 's3:delimiter': '/', 's3:max-keys': '10' })).toBeUndefined();
    expect(decide({ 's3:prefix': 'a', 's3:delimiter': '-', 's3:max-keys': '10' })).toBeUndefined();
    expect(decide({ 's3:prefix': 'a', 's3:delimiter': '/', 's3:max-keys': '1000' })).toBeUndefined();
    expect(decide({ 's3:prefix': 'a', 's3:delimiter': '/' })).toBeUndefined();
  });

  it('asks the request only for the keys it needs, lower-cased', () => {
    const asked: string[] = [];
    const p = policy(stmt({ Condition: { StringEquals: { 'S3:Prefix': 'a' } } }));
    evaluatePolicy(p, { ...request(), condition: (k) => (asked.push(k), 'a') });
    expect(asked).toEqual(['s3:prefix']);
  });
});
