// S3 access control lists: canned ACLs (x-amz-acl), grant headers (x-amz-grant-*), the stored
// form and whether a list gives a caller a permission. Pure: accounts come in through an
// AccountResolver, and the handlers decide who may change an ACL. The AccessControlPolicy
// document (PutBucketAcl / GetBucketAcl bodies) is in acl-xml.ts.
//
// An ACL is exactly its list of grants: grants from headers or a document replace the whole list
// and add nothing (not even the owner), duplicates are kept, and S3 takes at most 100 of them.

import { S3Error } from './errors.js';

export type AclPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
/** In the order S3 lists the grant headers; header grants come out in this order. */
export const ACL_PERMISSIONS: readonly AclPermission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export type GroupUri = typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY;
export const GROUP_URIS: readonly GroupUri[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: GroupUri };
export interface AclGrant { grantee: Grantee; permission: AclPermission }

/** How the module learns about accounts (canonical ids are 64 lower-case hex). */
export interface AccountResolver {
  exists(id: string): boolean;
  /** The canonical id of the account with this email address, compared case-insensitively. */
  byEmail(email: string): string | undefined;
  displayName(id: string): string | undefined;
}

/** "An ACL can have up to 100 grants." */
export const MAX_ACL_GRANTS = 100;
export const CANONICAL_ID = /^[0-9a-f]{64}$/;

export function isAclPermission(s: string): s is AclPermission {
  return (ACL_PERMISSIONS as readonly string[]).includes(s);
}

export function isGroupUri(s: string): s is GroupUri {
  return (GROUP_URIS as readonly string[]).includes(s);
}

export const userGrant = (id: string, permission: AclPermission): AclGrant => ({ grantee: { type: 'CanonicalUser', id }, permission });
export const groupGrant = (uri: GroupUri, permission: AclPermission): AclGrant => ({ grantee: { type: 'Group', uri }, permission });

// ---------------------------------------------------------------------------
// Naming grantees (shared with the document parser)

/**
 * The canonical id a grant names, of an account that exists. S3 takes the hex digits in either
 * case; they are kept lower case. `argument` is where S3 says the id was (header or document).
 */
export function resolveCanonicalId(raw: string, resolve: AccountResolver, argument: string): string {
  const id = raw.trim().toLowerCase();
  if (!CANONICAL_ID.test(id) || !resolve.exists(id)) {
    throw new S3Error('InvalidArgument', { ArgumentName: argument, ArgumentValue: raw }, 'Invalid id');
  }
  return id;
}

export function resolveGroupUri(raw: string, argument: string): GroupUri {
  const uri = raw.trim();
  if (!isGroupUri(uri)) throw new S3Error('InvalidArgument', { ArgumentName: argument, ArgumentValue: raw }, 'Invalid group uri');
  return uri;
}

/** Email grantees become the account's CanonicalUser grant, as S3 stores them. */
export function resolveEmail(raw: string, resolve: AccountResolver): string {
  const email = raw.trim();
  const id = email === '' ? undefined : resolve.byEmail(email);
  if (id === undefined) {
    throw new S3Error('UnresolvableGrantByEmailAddress', { EmailAddress: email }, `The email address you provided does not match any account on record: ${email}`);
  }
  return id;
}

/** The refusal of a list over MAX_ACL_GRANTS; the document parser has its own code for it. */
export function tooManyGrants(n: number): string {
  return `an access control list can have at most ${MAX_ACL_GRANTS} grants; this one has ${n}`;
}

// ---------------------------------------------------------------------------
// Canned ACLs

export type CannedAcl =
  | 'private' | 'public-read' | 'public-read-write' | 'authenticated-read'
  | 'bucket-owner-read' | 'bucket-owner-full-control' | 'log-delivery-write';
/** What cairn takes in x-amz-acl; S3's aws-exec-read is refused (NotImplemented). */
export const CANNED_ACLS: readonly CannedAcl[] = [
  'private', 'public-read', 'public-read-write', 'authenticated-read',
  'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write',
];

/**
 * The grants of a canned ACL. `owner` owns the resource; `bucketOwner` owns its bucket (for a
 * bucket, the same account). As S3 documents: bucket-owner-read and bucket-owner-full-control
 * are ignored on a bucket (private), and add no second grant when the writer owns the bucket;
 * log-delivery-write is expanded wherever it is given (on an object it grants nothing usable).
 * aws-exec-read (READ for EC2's AMI bundle reader) is NotImplemented: cairn has no such grantee.
 */
export function cannedGrants(name: string, kind: 'bucket' | 'object', owner: string, bucketOwner: string): AclGrant[] {
  const grants = [userGrant(owner, 'FULL_CONTROL')];
  const forBucketOwner = kind === 'object' && bucketOwner !== owner;
  switch (name as CannedAcl | 'aws-exec-read') {
    case 'private':
      break;
    case 'public-read':
      grants.push(groupGrant(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(groupGrant(ALL_USERS, 'READ'), groupGrant(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(groupGrant(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (forBucketOwner) grants.push(userGrant(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (forBucketOwner) grants.push(userGrant(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      grants.push(groupGrant(LOG_DELIVERY, 'WRITE'), groupGrant(LOG_DELIVERY, 'READ_ACP'));
      break;
    case 'aws-exec-read':
      throw new S3Error('NotImplemented', { Header: 'x-amz-acl' }, 'A header you provided implies functionality that is not implemented: x-amz-acl: aws-exec-read.');
    default:
      throw new S3Error('InvalidArgument', { ArgumentName: 'x-amz-acl', ArgumentValue: name }, `${name} is not a valid value for x-amz-acl.`);
  }
  return grants;
}

// ---------------------------------------------------------------------------
// Grant headers

type RequestHeaders = Record<string, string | string[] | undefined>;

export const GRANT_HEADERS: ReadonlyArray<readonly [string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

// One `type=value` of a grant header: the value quoted (anything but '"') or bare, then a comma
// or the end. Sticky, so a list is read left to right with nothing skipped.
const GRANTEE_ITEM = /[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(?:"([^"]*)"|([^\s",]+))[ \t]*(,|$)/y;

/** The `type=value` pairs of a header; InvalidArgument for anything else, an empty value included. */
function granteeItems(name: string, value: string): Array<{ type: string; value: string }> {
  const bad = () => new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: value }, 'Argument format not recognized');
  const items: Array<{ type: string; value: string }> = [];
  let at = 0;
  for (;;) {
    GRANTEE_ITEM.lastIndex = at;
    const m = GRANTEE_ITEM.exec(value);
    if (!m) throw bad();
    items.push({ type: m[1]!.toLowerCase(), value: m[2] ?? m[3]! });
    at = GRANTEE_ITEM.lastIndex;
    if (m[4] === '') return items;
  }
}

/**
 * Grants from the x-amz-grant-* headers; undefined when none is present. Each header holds
 * comma-separated `id=`, `uri=` or `emailAddress=` grantees (type names in any case, values
 * quoted or not). x-amz-grant-write is taken on objects too: S3 stores WRITE on an object,
 * where it gives nothing. Errors: InvalidArgument for a value that is not such a list
 * ("Argument format not recognized"), an id of no account ("Invalid id") or a URI of no group
 * ("Invalid group uri"); UnresolvableGrantByEmailAddress; more than 100 grants. `kind` is
 * taken for symmetry with the other entry points: both kinds take the same five headers.
 */
export function grantsFromHeaders(headers: RequestHeaders, kind: 'bucket' | 'object', resolve: AccountResolver): AclGrant[] | undefined {
  let grants: AclGrant[] | undefined;
  for (const [name, permission] of GRANT_HEADERS) {
    const value = headerValue(headers[name]);
    if (value === undefined) continue;
    grants ??= [];
    for (const item of granteeItems(name, value)) {
      if (item.type === 'id') grants.push(userGrant(resolveCanonicalId(item.value, resolve, 'id'), permission));
      else if (item.type === 'uri') grants.push(groupGrant(resolveGroupUri(item.value, 'uri'), permission));
      else if (item.type === 'emailaddress') grants.push(userGrant(resolveEmail(item.value, resolve), permission));
      else throw new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: value }, 'Argument format not recognized');
    }
  }
  if (grants && grants.length > MAX_ACL_GRANTS) {
    throw new S3Error('InvalidArgument', {}, `The grant headers name too many grantees: ${tooManyGrants(grants.length)}.`);
  }
  return grants;
}

/**
 * The ACL a request's headers ask for: x-amz-acl or the x-amz-grant-* headers; undefined when it
 * carries neither. Both at once is S3's InvalidRequest.
 */
export function aclFromHeaders(headers: RequestHeaders, kind: 'bucket' | 'object', owner: string, bucketOwner: string, resolve: AccountResolver): AclGrant[] | undefined {
  const canned = headerValue(headers['x-amz-acl']);
  const granting = GRANT_HEADERS.some(([name]) => headers[name] !== undefined);
  if (canned !== undefined && granting) {
    throw new S3Error('InvalidRequest', {}, 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) return cannedGrants(canned.trim(), kind, owner, bucketOwner);
  return grantsFromHeaders(headers, kind, resolve);
}

// ---------------------------------------------------------------------------
// Evaluation

function reaches(g: AclGrant, caller: string | null): boolean {
  const who = g.grantee;
  if (who.type === 'CanonicalUser') return caller !== null && who.id === caller;
  if (who.uri === ALL_USERS) return true;
  if (who.uri === AUTHENTICATED_USERS) return caller !== null;
  // LogDelivery is S3's log-writing service; no cairn caller is it.
  return false;
}

/**
 * Whether the grants give `need` to a caller: null is anonymous (AllUsers only); a signed
 * caller is its CanonicalUser id, AllUsers and AuthenticatedUsers. FULL_CONTROL holds every
 * permission. What an owner may do whatever its ACL says (S3: read and write the ACL) is the
 * caller's rule, not this one's.
 */
export function aclPermits(grants: readonly AclGrant[], caller: string | null, need: AclPermission): boolean {
  return grants.some((g) => (g.permission === need || g.permission === 'FULL_CONTROL') && reaches(g, caller));
}

/** Does the ACL grant anything to everyone (AllUsers) or every signed caller (AuthenticatedUsers)? */
export function isPublicAcl(grants: readonly AclGrant[]): boolean {
  return grants.some((g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}

// ---------------------------------------------------------------------------
// Stored form: [{"id":"…","perm":"READ"},{"uri":"http://acs…","perm":"READ"}], null for private

export function privateAcl(owner: string): AclGrant[] {
  return [userGrant(owner, 'FULL_CONTROL')];
}

/** True when `grants` is exactly the private default for `owner` (then the store keeps null). */
export function isPrivateAcl(grants: readonly AclGrant[], owner: string): boolean {
  if (grants.length !== 1) return false;
  const g = grants[0]!;
  return g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && g.grantee.id === owner;
}

export function encodeAcl(grants: readonly AclGrant[]): string {
  return JSON.stringify(grants.map((g) => (g.grantee.type === 'CanonicalUser'
    ? { id: g.grantee.id, perm: g.permission }
    : { uri: g.grantee.uri, perm: g.permission })));
}

function decodeGrant(x: unknown, i: number): AclGrant {
  const bad = (why: string) => new Error(`Stored ACL grant ${i} ${why}`);
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad('is not an object');
  const { id, uri, perm, ...rest } = x as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw bad(`has unknown members: ${Object.keys(rest).join(', ')}`);
  if (typeof perm !== 'string' || !isAclPermission(perm)) throw bad(`has no valid permission: ${String(perm)}`);
  if (id !== undefined && uri === undefined) {
    if (typeof id !== 'string' || !CANONICAL_ID.test(id)) throw bad(`has an invalid canonical id: ${String(id)}`);
    return userGrant(id, perm);
  }
  if (uri !== undefined && id === undefined) {
    if (typeof uri !== 'string' || !isGroupUri(uri)) throw bad(`has an unknown group: ${String(uri)}`);
    return groupGrant(uri, perm);
  }
  throw bad('must name exactly one of id and uri');
}

/** The stored form back; null or undefined is the private default for `owner`. A bad value throws. */
export function decodeAcl(stored: string | null | undefined, owner: string): AclGrant[] {
  if (stored === null || stored === undefined) return privateAcl(owner);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    throw new Error('Stored ACL is not JSON');
  }
  if (!Array.isArray(parsed)) throw new Error('Stored ACL is not a list of grants');
  return parsed.map(decodeGrant);
}
