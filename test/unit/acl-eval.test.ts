import { describe, expect, it } from 'vitest';
import {
  ACL_PERMISSIONS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  LOG_DELIVERY,
  aclPermits,
  cannedGrants,
  decodeAcl,
  encodeAcl,
  isPrivateAcl,
  isPublicAcl,
  type AclGrant,
  type AclPermission,
  type Grantee,
} from '../../src/s3/acl.js';
import { S3Error } from '../../src/s3/errors.js';
import { OTHER, OWNER, THIRD } from '../helpers/acl-accounts.js';

const user = (id: string, permission: AclPermission): AclGrant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: (typeof GROUPS)[number], permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission });
const GROUPS = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY] as const;

describe('aclPermits', () => {
  // Which callers each grantee stands for: anonymous, the owner (named by the id grant), another signed caller.
  const callers = [null, OWNER, OTHER] as const;
  const reaches: Array<[string, Grantee, [boolean, boolean, boolean]]> = [
    ['the owner by id', { type: 'CanonicalUser', id: OWNER }, [false, true, false]],
    ['AllUsers', { type: 'Group', uri: ALL_USERS }, [true, true, true]],
    ['AuthenticatedUsers', { type: 'Group', uri: AUTHENTICATED_USERS }, [false, true, true]],
    ['LogDelivery', { type: 'Group', uri: LOG_DELIVERY }, [false, false, false]],
  ];
  // granted (row) gives need (column), in the order READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL.
  const gives: Record<AclPermission, boolean[]> = {
    READ: [true, false, false, false, false],
    WRITE: [false, true, false, false, false],
    READ_ACP: [false, false, true, false, false],
    WRITE_ACP: [false, false, false, true, false],
    FULL_CONTROL: [true, true, true, true, true],
  };

  describe.each(reaches)('a grant to %s', (_label, grantee, reached) => {
    it.each(ACL_PERMISSIONS)('of %s', (granted) => {
      const grants: AclGrant[] = [{ grantee, permission: granted }];
      callers.forEach((caller, c) => {
        ACL_PERMISSIONS.forEach((need, n) => {
          expect(aclPermits(grants, caller, need), `${String(caller)} needs ${need}`).toBe(reached[c]! && gives[granted][n]!);
        });
      });
    });
  });

  it('gives nothing from an empty list, and the union of several grants', () => {
    for (const caller of callers) for (const need of ACL_PERMISSIONS) expect(aclPermits([], caller, need)).toBe(false);
    const grants = [user(OTHER, 'READ_ACP'), group(AUTHENTICATED_USERS, 'READ'), user(THIRD, 'FULL_CONTROL')];
    expect(ACL_PERMISSIONS.filter((p) => aclPermits(grants, OTHER, p))).toEqual(['READ', 'READ_ACP']);
    expect(ACL_PERMISSIONS.filter((p) => aclPermits(grants, THIRD, p))).toEqual(ACL_PERMISSIONS);
    expect(ACL_PERMISSIONS.filter((p) => aclPermits(grants, null, p))).toEqual([]);
  });

  it('matches ids exactly', () => {
    expect(aclPermits([user(OWNER, 'READ')], OWNER.toUpperCase(), 'READ')).toBe(false);
    expect(aclPermits([user(OWNER, 'READ')], '', 'READ')).toBe(false);
  });

  it('reads canned ACLs as S3 does', () => {
    const canned = (name: string) => cannedGrants(name, 'object', OWNER, OTHER);
    expect(aclPermits(canned('private'), OTHER, 'READ')).toBe(false);
    expect(aclPermits(canned('private'), OWNER, 'WRITE_ACP')).toBe(true);
    expect(aclPermits(canned('public-read'), null, 'READ')).toBe(true);
    expect(aclPermits(canned('public-read'), null, 'WRITE')).toBe(false);
    expect(aclPermits(canned('public-read-write'), null, 'WRITE')).toBe(true);
    expect(aclPermits(canned('authenticated-read'), null, 'READ')).toBe(false);
    expect(aclPermits(canned('authenticated-read'), THIRD, 'READ')).toBe(true);
    expect(aclPermits(canned('bucket-owner-read'), OTHER, 'READ')).toBe(true);
    expect(aclPermits(canned('bucket-owner-read'), OTHER, 'READ_ACP')).toBe(false);
    expect(aclPermits(canned('bucket-owner-full-control'), OTHER, 'WRITE_ACP')).toBe(true);
  });
});

describe('isPublicAcl', () => {
  it('is true for anything granted to AllUsers or AuthenticatedUsers, whatever the permission', () => {
    for (const p of ACL_PERMISSIONS) {
      expect(isPublicAcl([user(OWNER, 'FULL_CONTROL'), group(ALL_USERS, p)])).toBe(true);
      expect(isPublicAcl([group(AUTHENTICATED_USERS, p)])).toBe(true);
      expect(isPublicAcl([group(LOG_DELIVERY, p), user(OTHER, p)])).toBe(false);
    }
    expect(isPublicAcl([])).toBe(false);
  });

  it('marks exactly the public canned ACLs', () => {
    const pub = CANNED_ACLS.filter((name) => isPublicAcl(cannedGrants(name, 'bucket', OWNER, OWNER)));
    expect(pub).toEqual(['public-read', 'public-read-write', 'authenticated-read']);
  });
});

describe('stored form', () => {
  const mixed: AclGrant[] = [
    user(OWNER, 'FULL_CONTROL'),
    group(ALL_USERS, 'READ'),
    group(AUTHENTICATED_USERS, 'READ_ACP'),
    group(LOG_DELIVERY, 'WRITE'),
    user(OTHER, 'WRITE_ACP'),
    user(OTHER, 'WRITE_ACP'),
  ];

  it('is compact JSON that decodes to the same grants', () => {
    const s = encodeAcl(mixed);
    expect(s).not.toMatch(/\s/);
    expect(JSON.parse(s)[1]).toEqual({ uri: ALL_USERS, perm: 'READ' });
    expect(encodeAcl([user(OWNER, 'READ')])).toBe(`[{"id":"${OWNER}","perm":"READ"}]`);
    expect(decodeAcl(s, THIRD)).toEqual(mixed);
    expect(decodeAcl(encodeAcl([]), OWNER)).toEqual([]);
  });

  it('round-trips every canned ACL', () => {
    for (const name of CANNED_ACLS) {
      const grants = cannedGrants(name, 'object', OWNER, OTHER);
      expect(decodeAcl(encodeAcl(grants), OWNER)).toEqual(grants);
    }
  });

  it('reads null and undefined as the private default of the owner', () => {
    expect(decodeAcl(null, OWNER)).toEqual([user(OWNER, 'FULL_CONTROL')]);
    expect(decodeAcl(undefined, OTHER)).toEqual([user(OTHER, 'FULL_CONTROL')]);
  });

  it('knows the private default', () => {
    expect(isPrivateAcl(cannedGrants('private', 'bucket', OWNER, OWNER), OWNER)).toBe(true);
    expect(isPrivateAcl(decodeAcl(null, OWNER), OWNER)).toBe(true);
    expect(isPrivateAcl([user(OWNER, 'FULL_CONTROL')], OTHER)).toBe(false);
    expect(isPrivateAcl([user(OWNER, 'READ')], OWNER)).toBe(false);
    expect(isPrivateAcl([], OWNER)).toBe(false);
    expect(isPrivateAcl([user(OWNER, 'FULL_CONTROL'), user(OWNER, 'FULL_CONTROL')], OWNER)).toBe(false);
    expect(isPrivateAcl(cannedGrants('public-read', 'bucket', OWNER, OWNER), OWNER)).toBe(false);
  });

  it.each([
    ['', 'not JSON'],
    ['[{"id":', 'not JSON'],
    ['{}', 'not a list'],
    ['"private"', 'not a list'],
    ['null', 'not a list'],
    ['[1]', 'not an object'],
    ['[null]', 'not an object'],
    ['[[]]', 'not an object'],
    [`[{"id":"${OWNER}"}]`, 'no valid permission'],
    [`[{"id":"${OWNER}","perm":"read"}]`, 'no valid permission'],
    [`[{"id":"${OWNER}","perm":"ALL"}]`, 'no valid permission'],
    ['[{"id":"abc","perm":"READ"}]', 'invalid canonical id'],
    [`[{"id":"${OWNER.toUpperCase()}","perm":"READ"}]`, 'invalid canonical id'],
    ['[{"id":42,"perm":"READ"}]', 'invalid canonical id'],
    ['[{"uri":"http://acs.amazonaws.com/groups/global/Everyone","perm":"READ"}]', 'unknown group'],
    [`[{"id":"${OWNER}","uri":"${ALL_USERS}","perm":"READ"}]`, 'exactly one of id and uri'],
    ['[{"perm":"READ"}]', 'exactly one of id and uri'],
    [`[{"id":"${OWNER}","perm":"READ","note":"x"}]`, 'unknown members: note'],
  ])('refuses the stored value %s with a plain Error (%s)', (stored, why) => {
    let thrown: unknown;
    try {
      decodeAcl(stored, OWNER);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(S3Error);
    expect((thrown as Error).message).toContain(why);
  });
});
