import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.js';
import { decodeAcl, encodeAcl, grantsFromHeaders } from '../../src/s3/acl.js';
import { parseAccessControlPolicy } from '../../src/s3/acl-xml.js';
import { OTHER, OWNER, resolver } from '../helpers/acl-accounts.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';

// ACL bodies and grant headers from random pieces: each either gives grants that are valid and
// survive the stored form, or is one of the errors S3 answers; never another exception.

const BODY_ERRORS = ['MalformedACLError', 'AccessDenied', 'InvalidArgument', 'UnresolvableGrantByEmailAddress'];

function outcome<T>(fn: () => T, codes: string[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(S3Error);
    expect(codes).toContain((err as S3Error).code);
    return undefined;
  }
}

const aclish = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('<AccessControlPolicy>', '</AccessControlPolicy>', '<Owner>', '</Owner>', '<ID>', '</ID>', '<DisplayName>', '</DisplayName>', '<AccessControlList>', '</AccessControlList>', '<AccessControlList/>', '<Grant>', '</Grant>', '<Grantee>', '</Grantee>', '<URI>', '</URI>', '<EmailAddress>', '</EmailAddress>', '<Permission>', '</Permission>') },
      { weight: 3, arbitrary: fc.constantFrom('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">', '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">', '<Grantee xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="AmazonCustomerByEmail">', '<Grantee xsi:type="Group">', '<x:Grant xmlns:x="u">', '</x:Grant>', '<Grant xmlns:xsi="urn:x">') },
      { weight: 3, arbitrary: fc.constantFrom(OWNER, OTHER, 'a'.repeat(64), 'http://acs.amazonaws.com/groups/global/AllUsers', 'http://acs.amazonaws.com/groups/s3/LogDelivery', 'xyz@amazon.com', 'READ', 'WRITE', 'FULL_CONTROL', 'Write', ' ', '\n') },
      { weight: 1, arbitrary: fc.constantFrom('<?xml version="1.0"?>', '<!DOCTYPE x>', '<![CDATA[', ']]>', '<!--', '-->', '&amp;', '&#64;', '&lol;', '&', '<', '"', '__proto__', '<__proto__>', '</__proto__>') },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    { maxLength: 40 },
  )
  .map((a) => a.join(''));

describe('ACLs (fast-check)', () => {
  it('a body gives valid grants or an S3 error', () => {
    fc.assert(
      fc.property(fc.oneof(aclish, fc.string({ maxLength: 200 })), fc.constantFrom('bucket' as const, 'object' as const), (body, kind) => {
        const grants = outcome(() => parseAccessControlPolicy(body, kind, OWNER, resolver), BODY_ERRORS);
        if (grants) expect(decodeAcl(encodeAcl(grants), OWNER)).toEqual(grants);
      }),
      fuzzParams(2000),
    );
  }, fuzzTimeout(60_000));

  it('a grant header gives valid grants or an S3 error', () => {
    const value = fc
      .array(fc.oneof(fc.constantFrom('id=', 'uri=', 'emailAddress=', 'ID=', '"', ',', ' ', '\t', '=', OWNER, OTHER, 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers', 'xyz@amazon.com'), fc.string({ maxLength: 4 })), { maxLength: 12 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(value, (v) => {
        const grants = outcome(() => grantsFromHeaders({ 'x-amz-grant-read': v }, 'object', resolver), ['InvalidArgument', 'UnresolvableGrantByEmailAddress']);
        if (grants) expect(decodeAcl(encodeAcl(grants), OWNER)).toEqual(grants);
      }),
      fuzzParams(3000),
    );
  }, fuzzTimeout(60_000));
});
