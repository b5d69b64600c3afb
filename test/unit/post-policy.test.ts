import { describe, expect, it } from 'vitest';
import { checkPostPolicy, parsePostPolicy, postResponseXml, redirectLocation } from '../../src/s3/post-policy.js';
import { verifyPostSignature } from '../../src/auth/post-signature.js';
import { S3Error } from '../../src/s3/errors.js';
import { signedV2Fields, signedV4Fields } from '../helpers/post-form.js';

const b64 = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
const FUTURE = '2099-01-01T00:00:00.000Z';
const policy = (conditions: unknown[], expiration = FUTURE) => parsePostPolicy(b64({ expiration, conditions }));
const fields = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));

function failure(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return { code: err.code, message: err.message };
    throw err;
  }
  return undefined;
}

describe('POST policy documents', () => {
  it.each([
    ['not base64', '%%%', 'Invalid Policy: Policy could not be decoded from base64.'],
    ['not JSON', b64('{"expiration":'), 'Invalid Policy: Invalid JSON.'],
    ['a JSON array', b64([1]), 'Invalid Policy: Invalid JSON.'],
    ['no expiration', b64({ conditions: [] }), 'Invalid Policy: Policy missing expiration.'],
    ['a bad expiration', b64({ expiration: 'tomorrow', conditions: [] }), "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"],
    ['no conditions', b64({ expiration: FUTURE }), 'Invalid Policy: Policy missing conditions.'],
    ['conditions not a list', b64({ expiration: FUTURE, conditions: 7 }), "Invalid Policy: Invalid 'conditions' value: must be a List."],
    ['an unknown operator', b64({ expiration: FUTURE, conditions: [['in', '$key', 'a']] }), 'Invalid Policy: Invalid Condition: ["in","$key","a"]'],
    ['a field without $', b64({ expiration: FUTURE, conditions: [['eq', 'key', 'a']] }), 'Invalid Policy: Invalid Condition: ["eq","key","a"]'],
    ['a reversed range', b64({ expiration: FUTURE, conditions: [['content-length-range', 10, 1]] }), 'Invalid Policy: Invalid content-length-range condition: ["content-length-range",10,1]'],
    ['a negative range', b64({ expiration: FUTURE, conditions: [['content-length-range', -1, 1]] }), 'Invalid Policy: Invalid content-length-range condition: ["content-length-range",-1,1]'],
    ['an object with two names', b64({ expiration: FUTURE, conditions: [{ a: '1', b: '2' }] }), 'Invalid Policy: Invalid Simple-Condition: {"a":"1","b":"2"}'],
  ])('refuses %s: InvalidPolicyDocument', (_name, text, message) => {
    expect(failure(() => parsePostPolicy(text))).toEqual({ code: 'InvalidPolicyDocument', message });
  });

  it('matches eq and starts-with over fields whose names ignore case, operators too', () => {
    const p = policy([{ bucket: 'b' }, ['StArTs-WiTh', '$KeY', 'user/'], ['eq', '$Content-Type', 'image/png'], { 'x-amz-meta-tag': 'blue' }]);
    expect(checkPostPolicy(p, fields({ Key: 'user/a', 'CONTENT-TYPE': 'image/png', 'x-amz-meta-tag': 'blue' }), 'b', Date.now())).toEqual({});
    expect(failure(() => checkPostPolicy(p, fields({ key: 'other/a', 'content-type': 'image/png', 'x-amz-meta-tag': 'blue' }), 'b', Date.now()))?.message).toBe(
      'Invalid according to Policy: Policy Condition failed: ["StArTs-WiTh","$KeY","user/"]',
    );
    // Values are compared as sent: case matters.
    expect(failure(() => checkPostPolicy(p, fields({ key: 'user/a', 'content-type': 'IMAGE/PNG', 'x-amz-meta-tag': 'blue' }), 'b', Date.now()))?.code).toBe('AccessDenied');
    // The bucket condition sees the request's bucket.
    expect(failure(() => checkPostPolicy(p, fields({ key: 'user/a', 'content-type': 'image/png', 'x-amz-meta-tag': 'blue' }), 'other', Date.now()))?.message).toBe(
      'Invalid according to Policy: Policy Condition failed: ["eq","$bucket","b"]',
    );
  });

  it('starts-with "" allows any value, and an absent field', () => {
    const p = policy([['starts-with', '$key', ''], ['starts-with', '$x-amz-meta-note', '']]);
    expect(checkPostPolicy(p, fields({ key: 'anything', 'x-amz-meta-note': 'x' }), 'b', Date.now())).toEqual({});
    expect(checkPostPolicy(p, fields({ key: 'anything' }), 'b', Date.now())).toEqual({});
  });

  it('refuses a field no condition covers; the signature, the policy, the file and x-ignore-* need none', () => {
    const p = policy([{ key: 'k' }]);
    const exempt = { key: 'k', policy: 'p', 'x-amz-signature': 's', AWSAccessKeyId: 'a', signature: 's', 'x-ignore-me': '1' };
    expect(checkPostPolicy(p, fields(exempt), 'b', Date.now())).toEqual({});
    expect(failure(() => checkPostPolicy(p, fields({ ...exempt, acl: 'public-read', 'x-amz-meta-a': '1' }), 'b', Date.now()))?.message).toBe(
      'Invalid according to Policy: Extra input fields: acl, x-amz-meta-a',
    );
  });

  it('refuses an expired policy before its conditions', () => {
    const p = policy([{ key: 'k' }], '2001-01-01T00:00:00Z');
    expect(failure(() => checkPostPolicy(p, fields({ key: 'other' }), 'b', Date.now()))).toEqual({ code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' });
  });

  it('gives the size range, two ranges narrowing each other, numbers or decimal strings', () => {
    const p = policy([['content-length-range', 10, 1000], ['content-length-range', '100', '5000']]);
    expect(checkPostPolicy(p, fields({}), 'b', Date.now())).toEqual({ min: 100, max: 1000 });
  });

  it('writes the 201 XML and the redirect; a redirect that is no http(s) URL is none', () => {
    expect(postResponseXml({ location: 'http://h/b/k', bucket: 'b', key: 'a&b', etag: '"e"' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>http://h/b/k</Location><Bucket>b</Bucket><Key>a&amp;b</Key><ETag>&quot;e&quot;</ETag></PostResponse>',
    );
    expect(redirectLocation('https://app.example/ok?x=1', { bucket: 'b', key: 'k 1', etag: '"e"' })).toBe('https://app.example/ok?x=1&bucket=b&key=k+1&etag=%22e%22');
    expect(redirectLocation('/relative', { bucket: 'b', key: 'k', etag: '"e"' })).toBeUndefined();
    expect(redirectLocation('javascript:alert(1)', { bucket: 'b', key: 'k', etag: '"e"' })).toBeUndefined();
  });
});

describe('POST form signatures', () => {
  const creds = { accessKeyId: 'AKIDPOSTTEST', secretAccessKey: 'secret/of+the/key' };
  const lookup = (id: string) => (id === creds.accessKeyId ? creds.secretAccessKey : undefined);
  const o = { lookup, region: 'us-east-1' };

  it('verifies SigV4 (hex HMAC-SHA256 of the base64 policy) and SigV2 (base64 HMAC-SHA1)', () => {
    expect(verifyPostSignature(fields(signedV4Fields(creds, [])), o)).toMatchObject({ accessKeyId: creds.accessKeyId, signatureVersion: 'v4', form: true });
    expect(verifyPostSignature(fields(signedV2Fields(creds, [])), o)).toMatchObject({ accessKeyId: creds.accessKeyId, signatureVersion: 'v2', form: true });
    expect(verifyPostSignature(fields({ key: 'k' }), o)).toBeNull();
  });

  it('refuses a wrong signature, an unknown key, missing fields, mixed schemes and another region', () => {
    const v4 = signedV4Fields(creds, []);
    expect(failure(() => verifyPostSignature(fields({ ...v4, 'x-amz-signature': 'f'.repeat(64) }), o))?.code).toBe('SignatureDoesNotMatch');
    expect(failure(() => verifyPostSignature(fields({ ...v4, policy: v4.policy + 'e30=' }), o))?.code).toBe('SignatureDoesNotMatch');
    expect(failure(() => verifyPostSignature(fields(signedV4Fields({ ...creds, accessKeyId: 'NOPE' }, [])), o))?.code).toBe('InvalidAccessKeyId');
    const { 'x-amz-date': _d, ...noDate } = v4;
    expect(failure(() => verifyPostSignature(fields(noDate), o))?.message).toMatch(/field named 'x-amz-date'/);
    expect(failure(() => verifyPostSignature(fields({ ...v4, AWSAccessKeyId: 'x' }), o))?.code).toBe('InvalidArgument');
    expect(failure(() => verifyPostSignature(fields({ ...v4, 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }), o))?.code).toBe('InvalidArgument');
    expect(failure(() => verifyPostSignature(fields(signedV4Fields(creds, [], { region: 'eu-west-1' })), o))?.code).toBe('AuthorizationQueryParametersError');
    // A policy needs a signature: an anonymous form carries none.
    expect(failure(() => verifyPostSignature(fields({ key: 'k', policy: v4.policy }), o))?.message).toMatch(/field named 'x-amz-signature'/);
    const v2 = signedV2Fields(creds, []);
    expect(failure(() => verifyPostSignature(fields({ ...v2, signature: 'AAAA' }), o))?.code).toBe('SignatureDoesNotMatch');
  });
});
