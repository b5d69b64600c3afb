import { describe, expect, it } from 'vitest';
import {
  ACL_PERMISSIONS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  LOG_DELIVERY,
  aclFromHeaders,
  cannedGrants,
  grantsFromHeaders,
  type AclGrant,
  type AclPermission,
  type GroupUri,
} from '../../src/s3/acl.js';
import { err } from '../helpers/errors.js';
import { NOBODY, OTHER, OWNER, THIRD, resolver } from '../helpers/acl-accounts.js';

const user = (id: string, permission: AclPermission): AclGrant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: GroupUri, permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission });

describe('cannedGrants', () => {
  const ownerFull = user(OWNER, 'FULL_CONTROL');
  // [name, kind, bucket owner, expected grants], written out from the canned ACL table.
  const cases: Array<[string, 'bucket' | 'object', string, AclGrant[]]> = [
    ['private', 'bucket', OWNER, [ownerFull]],
    ['private', 'object', OTHER, [ownerFull]],
    ['public-read', 'bucket', OWNER, [ownerFull, group(ALL_USERS, 'READ')]],
    ['public-read', 'object', OTHER, [ownerFull, group(ALL_USERS, 'READ')]],
    ['public-read-write', 'bucket', OWNER, [ownerFull, group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')]],
    ['public-read-write', 'object', OTHER, [ownerFull, group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')]],
    ['authenticated-read', 'bucket', OWNER, [ownerFull, group(AUTHENTICATED_USERS, 'READ')]],
    ['authenticated-read', 'object', OTHER, [ownerFull, group(AUTHENTICATED_USERS, 'READ')]],
    ['bucket-owner-read', 'object', OTHER, [ownerFull, user(OTHER, 'READ')]],
    ['bucket-owner-read', 'object', OWNER, [ownerFull]],
    ['bucket-owner-read', 'bucket', OWNER, [ownerFull]],
    ['bucket-owner-full-control', 'object', OTHER, [ownerFull, user(OTHER, 'FULL_CONTROL')]],
    ['bucket-owner-full-control', 'object', OWNER, [ownerFull]],
    ['bucket-owner-full-control', 'bucket', OWNER, [ownerFull]],
    // A bucket's owner is its bucket owner; a different one changes nothing for the bucket-owner-* ones.
    ['bucket-owner-full-control', 'bucket', OTHER, [ownerFull]],
    ['log-delivery-write', 'bucket', OWNER, [ownerFull, group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')]],
    ['log-delivery-write', 'object', OTHER, [ownerFull, group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')]],
  ];
  it.each(cases)('%s on a %s (bucket owner %s)', (name, kind, bucketOwner, expected) => {
    expect(cannedGrants(name, kind, OWNER, bucketOwner)).toEqual(expected);
  });

  it('lists the seven canned ACLs it takes, each covered above on both kinds', () => {
    expect([...CANNED_ACLS].sort()).toEqual([
      'authenticated-read', 'bucket-owner-full-control', 'bucket-owner-read', 'log-delivery-write',
      'private', 'public-read', 'public-read-write',
    ]);
    for (const name of CANNED_ACLS) {
      for (const kind of ['bucket', 'object'] as const) expect(cases.some(([n, k]) => n === name && k === kind)).toBe(true);
    }
  });

  it('refuses aws-exec-read as NotImplemented', () => {
    const e = err(() => cannedGrants('aws-exec-read', 'object', OWNER, OWNER));
    expect([e?.code, e?.status, e?.details]).toEqual(['NotImplemented', 501, { Header: 'x-amz-acl' }]);
    expect(e?.message).toContain('aws-exec-read');
  });

  it.each(['', 'Private', 'public_read', 'public-read ', 'everyone'])('refuses %j as InvalidArgument naming x-amz-acl', (name) => {
    const e = err(() => cannedGrants(name, 'bucket', OWNER, OWNER));
    expect([e?.code, e?.status, e?.details]).toEqual(['InvalidArgument', 400, { ArgumentName: 'x-amz-acl', ArgumentValue: name }]);
    expect(e?.message).toBe(`${name} is not a valid value for x-amz-acl.`);
  });

  it('returns a fresh list each time', () => {
    const a = cannedGrants('private', 'bucket', OWNER, OWNER);
    a.push(group(ALL_USERS, 'READ'));
    expect(cannedGrants('private', 'bucket', OWNER, OWNER)).toEqual([user(OWNER, 'FULL_CONTROL')]);
  });
});

describe('grantsFromHeaders', () => {
  const grants = (headers: Record<string, string | string[] | undefined>, kind: 'bucket' | 'object' = 'bucket') =>
    grantsFromHeaders(headers, kind, resolver);

  it('is undefined without grant headers', () => {
    expect(grants({})).toBeUndefined();
    expect(grants({ 'x-amz-acl': 'private', 'x-amz-grant': `id=${OTHER}`, 'x-amz-grant-everything': `id=${OTHER}`, 'x-amz-grant-read': undefined })).toBeUndefined();
  });

  const headerPermissions: Array<[string, AclPermission]> = [
    ['x-amz-grant-read', 'READ'],
    ['x-amz-grant-write', 'WRITE'],
    ['x-amz-grant-read-acp', 'READ_ACP'],
    ['x-amz-grant-write-acp', 'WRITE_ACP'],
    ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ];
  describe.each(headerPermissions)('%s', (header, permission) => {
    it.each(['bucket', 'object'] as const)('grants %s by id, uri and emailAddress on a %s', (kind) => {
      expect(grants({ [header]: `id="${OTHER}"` }, kind)).toEqual([user(OTHER, permission)]);
      expect(grants({ [header]: `uri="${ALL_USERS}"` }, kind)).toEqual([group(ALL_USERS, permission)]);
      expect(grants({ [header]: `uri="${AUTHENTICATED_USERS}"` }, kind)).toEqual([group(AUTHENTICATED_USERS, permission)]);
      expect(grants({ [header]: `uri="${LOG_DELIVERY}"` }, kind)).toEqual([group(LOG_DELIVERY, permission)]);
      expect(grants({ [header]: 'emailAddress="xyz@amazon.com"' }, kind)).toEqual([user(OTHER, permission)]);
    });
  });

  it('takes several grantees in one header, in order, quoted or not, with spaces and tabs', () => {
    const want = [user(OTHER, 'READ'), group(ALL_USERS, 'READ'), user(THIRD, 'READ')];
    for (const value of [
      `id="${OTHER}", uri="${ALL_USERS}", emailAddress="third@example.com"`,
      `id=${OTHER},uri=${ALL_USERS},emailAddress=third@example.com`,
      `  id = "${OTHER}"  ,\turi=\t"${ALL_USERS}" ,emailAddress= third@example.com `,
      `id="${OTHER}",uri=${ALL_USERS}, emailAddress="THIRD@example.com"`,
    ]) {
      expect(grants({ 'x-amz-grant-read': value })).toEqual(want);
    }
  });

  it('takes type names in any case, an id in upper case (kept lower) and repeated values as a list', () => {
    expect(grants({ 'x-amz-grant-read': `ID="${OTHER.toUpperCase()}", EmailAddress="xyz@amazon.com", URI="${ALL_USERS}"` }))
      .toEqual([user(OTHER, 'READ'), user(OTHER, 'READ'), group(ALL_USERS, 'READ')]);
    expect(grants({ 'x-amz-grant-read': [`id=${OTHER}`, `id=${THIRD}`] })).toEqual([user(OTHER, 'READ'), user(THIRD, 'READ')]);
  });

  it('puts the grants of several headers in the order read, write, read-acp, write-acp, full-control', () => {
    const headers = Object.fromEntries([...headerPermissions].reverse().map(([h]) => [h, `id=${OTHER}`]));
    expect(grants(headers, 'object')).toEqual(ACL_PERMISSIONS.map((p) => user(OTHER, p)));
  });

  it('adds nothing, not even the owner, and keeps duplicates', () => {
    expect(grants({ 'x-amz-grant-read': `id=${OTHER}, id=${OTHER}` })).toEqual([user(OTHER, 'READ'), user(OTHER, 'READ')]);
  });

  it.each([
    '',
    ' ',
    ',',
    `id=${OTHER},`,
    `,id=${OTHER}`,
    `id=${OTHER},,uri=${ALL_USERS}`,
    `id ${OTHER}`,
    `id=`,
    `=${OTHER}`,
    `id="${OTHER}`,
    `id="${OTHER}"x`,
    `id=${OTHER} id=${THIRD}`,
    `canonical-id=${OTHER}`,
    `email=xyz@amazon.com`,
    `group=${ALL_USERS}`,
  ])('refuses the value %j: InvalidArgument, argument format not recognized', (value) => {
    const e = err(() => grants({ 'x-amz-grant-write-acp': value }));
    expect([e?.code, e?.status, e?.message]).toEqual(['InvalidArgument', 400, 'Argument format not recognized']);
    expect(e?.details).toEqual({ ArgumentName: 'x-amz-grant-write-acp', ArgumentValue: value });
  });

  it('reads a bare value up to a comma or space: what follows another separator is part of it', () => {
    const e = err(() => grants({ 'x-amz-grant-read': `id=${OTHER};uri=${ALL_USERS}` }));
    expect([e?.code, e?.message, e?.details]).toEqual(['InvalidArgument', 'Invalid id', { ArgumentName: 'id', ArgumentValue: `${OTHER};uri=${ALL_USERS}` }]);
  });

  it.each([NOBODY, 'abc', `${OTHER}0`, OTHER.replace('0', 'g'), '123456789012'])('refuses the id %s: InvalidArgument, invalid id', (id) => {
    const e = err(() => grants({ 'x-amz-grant-read': `id="${id}"` }));
    expect([e?.code, e?.status, e?.message, e?.details]).toEqual(['InvalidArgument', 400, 'Invalid id', { ArgumentName: 'id', ArgumentValue: id }]);
  });

  it.each([
    'http://acs.amazonaws.com/groups/global/Everyone',
    'https://acs.amazonaws.com/groups/global/AllUsers',
    'http://acs.amazonaws.com/groups/global/allusers',
    'AllUsers',
  ])('refuses the uri %s: InvalidArgument, invalid group uri', (uri) => {
    const e = err(() => grants({ 'x-amz-grant-full-control': `uri="${uri}"` }));
    expect([e?.code, e?.status, e?.message, e?.details]).toEqual(['InvalidArgument', 400, 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: uri }]);
  });

  it('refuses an email of no account: UnresolvableGrantByEmailAddress', () => {
    const e = err(() => grants({ 'x-amz-grant-read': `id=${OTHER}, emailAddress="nobody@example.com"` }));
    expect([e?.code, e?.status, e?.details]).toEqual(['UnresolvableGrantByEmailAddress', 400, { EmailAddress: 'nobody@example.com' }]);
    expect(e?.message).toContain('nobody@example.com');
  });

  it('takes 100 grants and refuses 101', () => {
    const list = (n: number) => Array.from({ length: n }, () => `id=${OTHER}`).join(',');
    expect(grants({ 'x-amz-grant-read': list(60), 'x-amz-grant-write': list(40) })).toHaveLength(100);
    const e = err(() => grants({ 'x-amz-grant-read': list(60), 'x-amz-grant-write': list(41) }));
    expect([e?.code, e?.status]).toEqual(['InvalidArgument', 400]);
    expect(e?.message).toBe('The grant headers name too many grantees: an access control list can have at most 100 grants; this one has 101.');
  });
});

describe('aclFromHeaders', () => {
  const from = (headers: Record<string, string | string[] | undefined>, kind: 'bucket' | 'object' = 'object') =>
    aclFromHeaders(headers, kind, OWNER, OTHER, resolver);

  it('is undefined when the request carries neither kind of ACL header', () => {
    expect(from({ 'content-type': 'text/plain', 'x-amz-meta-acl': 'public-read' })).toBeUndefined();
  });

  it('expands x-amz-acl with the owner and the bucket owner', () => {
    expect(from({ 'x-amz-acl': 'bucket-owner-full-control' })).toEqual([user(OWNER, 'FULL_CONTROL'), user(OTHER, 'FULL_CONTROL')]);
    expect(from({ 'x-amz-acl': 'bucket-owner-read' }, 'bucket')).toEqual([user(OWNER, 'FULL_CONTROL')]);
    expect(err(() => from({ 'x-amz-acl': 'nope' }))?.code).toBe('InvalidArgument');
  });

  it('reads the grant headers', () => {
    expect(from({ 'x-amz-grant-read': `uri=${ALL_USERS}`, 'x-amz-grant-full-control': `id=${OWNER}` }))
      .toEqual([group(ALL_USERS, 'READ'), user(OWNER, 'FULL_CONTROL')]);
  });

  it.each(['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'])(
    'refuses x-amz-acl with %s: InvalidRequest, before reading either',
    (header) => {
      for (const value of [`id=${OTHER}`, '', `id=${NOBODY}`]) {
        const e = err(() => from({ 'x-amz-acl': 'private', [header]: value }));
        expect([e?.code, e?.status, e?.message]).toEqual(['InvalidRequest', 400, 'Specifying both Canned ACLs and Header Grants is not allowed']);
      }
    },
  );
});
