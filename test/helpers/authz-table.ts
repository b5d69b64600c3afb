import type { WireRequest } from './authz-wire.js';

// The authorization table: every S3 operation family, under each kind of rule, as each kind of
// caller, and what must happen. The expected outcomes are written out below from AWS's
// documentation (ACL-to-action mapping of the ACL overview, bucket policy evaluation, the
// policy operations' 405) and cairn's documented choices (marked "cairn:"); they are not derived
// from the implementation.
//
// Callers, in this order in every expectation string:
//   O  owner:   account A's key with a '*' bypass grant (A owns every bucket of the table)
//   L  limited: account A's key with a '*' read grant only (the key's grants limit its account)
//   B  other:   account B's key with a '*' write grant
//   A  anonymous: no signature at all
// Outcome per caller:
//   y  allowed: the operation's own answer (`ok`)
//   .  403 AccessDenied (on a HEAD: 403 with no body)
//   k  200, and the key comes back as <Error><Code>AccessDenied</Code> (DeleteObjects decides per key)
//   m  405 MethodNotAllowed: the bucket policy operations, allowed by a policy to someone who is not
//      the owner's account (AWS: "you're not using an identity that belongs to the bucket owner's account")

export const CALLERS = ['owner', 'limited', 'other', 'anonymous'] as const;
export type CallerName = (typeof CALLERS)[number];

/**
 * The rules a row runs under, each on a fresh bucket of account A:
 *   none     no ACL grant, no policy (private)
 *   acl      the row's ACL permission granted to account B by canonical id (bucket or object ACL)
 *   aclAll   the same permission granted to the AllUsers group
 *   allowB   a bucket policy allowing the row's action to account B (arn:aws:iam::<B>:root)
 *   allowAll a bucket policy allowing the row's action to everyone ("*")
 *   deny     a policy denying the action to everyone, over an Allow to everyone and the AllUsers grant
 *   denyKey  a policy denying the action to the owner's key alone (arn:aws:iam::<A>:user/<key id>)
 * A row without an ACL permission gets no grant under acl/aclAll (an ACL cannot give it).
 */
export const RULES = ['none', 'acl', 'aclAll', 'allowB', 'allowAll', 'deny', 'denyKey'] as const;
export type RuleName = (typeof RULES)[number];
export type Expectation = Record<RuleName, string>;

//                                   none    acl     aclAll  allowB  allowAll deny    denyKey
const row = (...e: string[]): Expectation => ({ none: e[0]!, acl: e[1]!, aclAll: e[2]!, allowB: e[3]!, allowAll: e[4]!, deny: e[5]!, denyKey: e[6]! });

/** A read an ACL can grant (READ, READ_ACP). The limited key reads for its account; only the owner's key is named by denyKey. */
const READ_ACL = row('yy..', 'yyy.', 'yyyy', 'yyy.', 'yyyy', '....', '.y..');
/** A read only the owner or a policy can allow (bucket configuration). */
const READ_NO_ACL = row('yy..', 'yy..', 'yy..', 'yyy.', 'yyyy', '....', '.y..');
/** A write an ACL can grant (bucket WRITE, WRITE_ACP). The limited key may never write. */
const WRITE_ACL = row('y...', 'y.y.', 'y.yy', 'y.y.', 'y.yy', '....', '....');
/** A write only the owner or a policy can allow. */
const WRITE_NO_ACL = row('y...', 'y...', 'y...', 'y.y.', 'y.yy', '....', '....');
/**
 * Get/Put/DeleteBucketPolicy: the owner's account alone, whatever a Deny says (AWS keeps this
 * for the account's root user; cairn: for the whole owning account, its keys' grants still apply).
 */
/** A Deny of everyone binds the owner's keys but its administrators (the root key, a '*' write grant): the read-only key too. */
const POLICY_READ = row('yy..', 'yy..', 'yy..', 'yym.', 'yymm', 'y...', 'yy..');
const POLICY_WRITE = row('y...', 'y...', 'y...', 'y.m.', 'y.mm', 'y...', 'y...');
/** DeleteObjects of the current version: s3:DeleteObject per key, granted by bucket WRITE. */
const DELETE_MANY = row('y.kk', 'y.yk', 'y.yy', 'y.yk', 'y.yy', 'k.kk', 'k.kk');
/** DeleteObjects of a version: s3:DeleteObjectVersion per key, which a WRITE grant to another account does not give. */
const DELETE_MANY_VERSIONS = row('y.kk', 'y.kk', 'y.kk', 'y.yk', 'y.yy', 'k.kk', 'k.kk');

export type Family = 'list' | 'read' | 'write' | 'acl' | 'config';
export type AclPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

/** One bucket prepared for a case, and what the requests need to name. */
export interface Target {
  bucket: string;
  /** obj.txt's only version (the bucket is versioned). */
  versionId: string;
  /** up.bin: an upload the owner started, with part 1 uploaded. */
  uploadId?: string;
  partEtag?: string;
  /** A public-read object of account A elsewhere: a readable copy source. */
  source: string;
  /** Account B's canonical id. */
  b: string;
}

export interface Outcome {
  status: number;
  code?: string;
}

export interface OpRow {
  op: string;
  family: Family;
  /** The policy action the rules name (all of them, when the operation needs several), and on what. */
  action: string | string[];
  resource: 'bucket' | 'object';
  /** The ACL permission that grants the operation, on the bucket's ACL or obj.txt's. */
  acl?: { on: 'bucket' | 'object'; permission: AclPermission };
  /** What the bucket needs before the case: a started upload, CORS rules, object lock, BucketOwnerPreferred. */
  needs?: { upload?: boolean; cors?: boolean; lock?: boolean; preferred?: boolean };
  /** Changes state when allowed: a fresh bucket per caller, and a refusal must leave the bucket as it was. */
  mutates: boolean;
  request(t: Target): WireRequest;
  /** The operation's own answer when allowed (some depend on whether the bucket has a policy). */
  ok: Outcome | ((hasPolicy: boolean) => Outcome);
  expect: Expectation;
  /** Where cairn's answer is a choice between S3 behaviours. */
  note?: string;
}

const OBJ = 'obj.txt';
const CORS = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
const CORS2 = '<CORSConfiguration><CORSRule><AllowedOrigin>https://example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>';
const deleteBody = (versionId?: string) =>
  `<Delete><Object><Key>${OBJ}</Key>${versionId ? `<VersionId>${versionId}</VersionId>` : ''}</Object></Delete>`;
const TAGGING = '<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>';
const noPolicy = (hasPolicy: boolean): Outcome => (hasPolicy ? { status: 200 } : { status: 404, code: 'NoSuchBucketPolicy' });

const bucketAcl = (permission: AclPermission) => ({ on: 'bucket' as const, permission });
const objectAcl = (permission: AclPermission) => ({ on: 'object' as const, permission });
const get = (query: string) => (t: Target): WireRequest => ({ method: 'GET', bucket: t.bucket, query });

export const ROWS: OpRow[] = [
  // --- list ---
  { op: 'ListObjectsV2', family: 'list', action: 's3:ListBucket', resource: 'bucket', acl: bucketAcl('READ'), mutates: false, request: get('list-type=2'), ok: { status: 200 }, expect: READ_ACL },
  { op: 'ListObjectVersions', family: 'list', action: 's3:ListBucketVersions', resource: 'bucket', acl: bucketAcl('READ'), mutates: false, request: get('versions'), ok: { status: 200 }, expect: READ_ACL },
  { op: 'ListMultipartUploads', family: 'list', action: 's3:ListBucketMultipartUploads', resource: 'bucket', acl: bucketAcl('READ'), needs: { upload: true }, mutates: false, request: get('uploads'), ok: { status: 200 }, expect: READ_ACL },
  { op: 'HeadBucket', family: 'list', action: 's3:ListBucket', resource: 'bucket', acl: bucketAcl('READ'), mutates: false, request: (t) => ({ method: 'HEAD', bucket: t.bucket }), ok: { status: 200 }, expect: READ_ACL },
  {
    op: 'ListParts', family: 'list', action: 's3:ListMultipartUploadParts', resource: 'object', acl: bucketAcl('READ'), needs: { upload: true }, mutates: false,
    request: (t) => ({ method: 'GET', bucket: t.bucket, key: 'up.bin', query: `uploadId=${t.uploadId}` }), ok: { status: 200 }, expect: READ_ACL,
    note: 'cairn: bucket READ lets another account list parts (AWS: the owner, the initiator or a policy; cairn does not record initiators)',
  },
  // --- read ---
  { op: 'GetObject', family: 'read', action: 's3:GetObject', resource: 'object', acl: objectAcl('READ'), mutates: false, request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ }), ok: { status: 200 }, expect: READ_ACL },
  { op: 'HeadObject', family: 'read', action: 's3:GetObject', resource: 'object', acl: objectAcl('READ'), mutates: false, request: (t) => ({ method: 'HEAD', bucket: t.bucket, key: OBJ }), ok: { status: 200 }, expect: READ_ACL },
  {
    op: 'GetObject?versionId', family: 'read', action: 's3:GetObjectVersion', resource: 'object', acl: objectAcl('READ'), mutates: false,
    request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ, query: `versionId=${t.versionId}` }), ok: { status: 200 }, expect: READ_ACL,
  },
  // AWS: READ on the object and both actions (with a version id, both version actions).
  {
    op: 'GetObjectAttributes', family: 'read', action: ['s3:GetObject', 's3:GetObjectAttributes'], resource: 'object', acl: objectAcl('READ'), mutates: false,
    request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ, query: 'attributes', headers: { 'x-amz-object-attributes': 'ETag,ObjectSize' } }), ok: { status: 200 }, expect: READ_ACL,
  },
  {
    op: 'GetObjectAttributes?versionId', family: 'read', action: ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes'], resource: 'object', acl: objectAcl('READ'), mutates: false,
    request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ, query: `attributes&versionId=${t.versionId}`, headers: { 'x-amz-object-attributes': 'ETag' } }), ok: { status: 200 }, expect: READ_ACL,
  },
  // --- write ---
  { op: 'PutObject', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true, request: (t) => ({ method: 'PUT', bucket: t.bucket, key: 'new.txt', body: 'new' }), ok: { status: 200 }, expect: WRITE_ACL },
  // A browser form upload: the signer is in the form (a SigV4 policy), and is authorized as a PUT's.
  { op: 'PostObject', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true, request: (t) => ({ method: 'POST', bucket: t.bucket, form: { key: 'form.txt' }, body: 'new' }), ok: { status: 204 }, expect: WRITE_ACL },
  {
    op: 'CopyObject', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, key: 'copy.txt', headers: { 'x-amz-copy-source': t.source } }), ok: { status: 200 }, expect: WRITE_ACL,
  },
  { op: 'CreateMultipartUpload', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true, request: (t) => ({ method: 'POST', bucket: t.bucket, key: 'new.bin', query: 'uploads' }), ok: { status: 200 }, expect: WRITE_ACL },
  {
    op: 'UploadPart', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), needs: { upload: true }, mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, key: 'up.bin', query: `partNumber=2&uploadId=${t.uploadId}`, body: 'part two' }), ok: { status: 200 }, expect: WRITE_ACL,
    note: "cairn: whoever may PutObject the key may add a part to the owner's upload (AWS: only the initiator; cairn does not record initiators)",
  },
  {
    op: 'CompleteMultipartUpload', family: 'write', action: 's3:PutObject', resource: 'object', acl: bucketAcl('WRITE'), needs: { upload: true }, mutates: true,
    request: (t) => ({
      method: 'POST', bucket: t.bucket, key: 'up.bin', query: `uploadId=${t.uploadId}`,
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${t.partEtag}</ETag></Part></CompleteMultipartUpload>`,
    }),
    ok: { status: 200 }, expect: WRITE_ACL,
    note: 'cairn: as UploadPart (AWS: only the initiator completes)',
  },
  {
    op: 'AbortMultipartUpload', family: 'write', action: 's3:AbortMultipartUpload', resource: 'object', acl: bucketAcl('WRITE'), needs: { upload: true }, mutates: true,
    request: (t) => ({ method: 'DELETE', bucket: t.bucket, key: 'up.bin', query: `uploadId=${t.uploadId}` }), ok: { status: 204 }, expect: WRITE_ACL,
    note: 'cairn: bucket WRITE lets another account abort (AWS: the owner, the initiator or a policy)',
  },
  { op: 'DeleteObject', family: 'write', action: 's3:DeleteObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket, key: OBJ }), ok: { status: 204 }, expect: WRITE_ACL },
  {
    op: 'DeleteObject?versionId', family: 'write', action: 's3:DeleteObjectVersion', resource: 'object', acl: bucketAcl('WRITE'), mutates: true,
    request: (t) => ({ method: 'DELETE', bucket: t.bucket, key: OBJ, query: `versionId=${t.versionId}` }), ok: { status: 204 },
    // AWS's ACL mapping: WRITE gives s3:DeleteObjectVersion only when the grantee is the bucket owner.
    expect: WRITE_NO_ACL,
  },
  { op: 'DeleteObjects', family: 'write', action: 's3:DeleteObject', resource: 'object', acl: bucketAcl('WRITE'), mutates: true, request: (t) => ({ method: 'POST', bucket: t.bucket, query: 'delete', body: deleteBody() }), ok: { status: 200 }, expect: DELETE_MANY },
  {
    op: 'DeleteObjects (versions)', family: 'write', action: 's3:DeleteObjectVersion', resource: 'object', acl: bucketAcl('WRITE'), mutates: true,
    request: (t) => ({ method: 'POST', bucket: t.bucket, query: 'delete', body: deleteBody(t.versionId) }), ok: { status: 200 }, expect: DELETE_MANY_VERSIONS,
  },
  // --- ACLs ---
  { op: 'GetBucketAcl', family: 'acl', action: 's3:GetBucketAcl', resource: 'bucket', acl: bucketAcl('READ_ACP'), mutates: false, request: get('acl'), ok: { status: 200 }, expect: READ_ACL },
  {
    op: 'PutBucketAcl', family: 'acl', action: 's3:PutBucketAcl', resource: 'bucket', acl: bucketAcl('WRITE_ACP'), mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, query: 'acl', headers: { 'x-amz-acl': 'public-read' } }), ok: { status: 200 }, expect: WRITE_ACL,
  },
  { op: 'GetObjectAcl', family: 'acl', action: 's3:GetObjectAcl', resource: 'object', acl: objectAcl('READ_ACP'), mutates: false, request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ, query: 'acl' }), ok: { status: 200 }, expect: READ_ACL },
  {
    op: 'PutObjectAcl', family: 'acl', action: 's3:PutObjectAcl', resource: 'object', acl: objectAcl('WRITE_ACP'), mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, key: OBJ, query: 'acl', headers: { 'x-amz-acl': 'public-read' } }), ok: { status: 200 }, expect: WRITE_ACL,
  },
  // --- tags: no ACL grants them (AWS's ACL mapping has no tagging actions) ---
  { op: 'GetObjectTagging', family: 'acl', action: 's3:GetObjectTagging', resource: 'object', mutates: false, request: (t) => ({ method: 'GET', bucket: t.bucket, key: OBJ, query: 'tagging' }), ok: { status: 200 }, expect: READ_NO_ACL },
  { op: 'PutObjectTagging', family: 'acl', action: 's3:PutObjectTagging', resource: 'object', mutates: true, request: (t) => ({ method: 'PUT', bucket: t.bucket, key: OBJ, query: 'tagging', body: TAGGING }), ok: { status: 200 }, expect: WRITE_NO_ACL },
  { op: 'DeleteObjectTagging', family: 'acl', action: 's3:DeleteObjectTagging', resource: 'object', mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket, key: OBJ, query: 'tagging' }), ok: { status: 204 }, expect: WRITE_NO_ACL },
  { op: 'GetBucketTagging', family: 'config', action: 's3:GetBucketTagging', resource: 'bucket', mutates: false, request: get('tagging'), ok: { status: 404, code: 'NoSuchTagSet' }, expect: READ_NO_ACL },
  { op: 'PutBucketTagging', family: 'config', action: 's3:PutBucketTagging', resource: 'bucket', mutates: true, request: (t) => ({ method: 'PUT', bucket: t.bucket, query: 'tagging', body: TAGGING }), ok: { status: 204 }, expect: WRITE_NO_ACL },
  { op: 'DeleteBucketTagging', family: 'config', action: 's3:PutBucketTagging', resource: 'bucket', mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket, query: 'tagging' }), ok: { status: 204 }, expect: WRITE_NO_ACL },
  // --- bucket configuration ---
  { op: 'GetBucketVersioning', family: 'config', action: 's3:GetBucketVersioning', resource: 'bucket', mutates: false, request: get('versioning'), ok: { status: 200 }, expect: READ_NO_ACL },
  {
    op: 'PutBucketVersioning', family: 'config', action: 's3:PutBucketVersioning', resource: 'bucket', mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, query: 'versioning', body: '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>' }), ok: { status: 200 }, expect: WRITE_NO_ACL,
  },
  { op: 'GetBucketCors', family: 'config', action: 's3:GetBucketCORS', resource: 'bucket', needs: { cors: true }, mutates: false, request: get('cors'), ok: { status: 200 }, expect: READ_NO_ACL },
  { op: 'PutBucketCors', family: 'config', action: 's3:PutBucketCORS', resource: 'bucket', needs: { cors: true }, mutates: true, request: (t) => ({ method: 'PUT', bucket: t.bucket, query: 'cors', body: CORS2 }), ok: { status: 200 }, expect: WRITE_NO_ACL },
  { op: 'DeleteBucketCors', family: 'config', action: 's3:PutBucketCORS', resource: 'bucket', needs: { cors: true }, mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket, query: 'cors' }), ok: { status: 204 }, expect: WRITE_NO_ACL },
  { op: 'GetObjectLockConfiguration', family: 'config', action: 's3:GetBucketObjectLockConfiguration', resource: 'bucket', needs: { lock: true }, mutates: false, request: get('object-lock'), ok: { status: 200 }, expect: READ_NO_ACL },
  {
    op: 'PutObjectLockConfiguration', family: 'config', action: 's3:PutBucketObjectLockConfiguration', resource: 'bucket', needs: { lock: true }, mutates: true,
    request: (t) => ({
      method: 'PUT', bucket: t.bucket, query: 'object-lock',
      body: '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>',
    }),
    ok: { status: 200 }, expect: WRITE_NO_ACL,
  },
  { op: 'GetBucketPolicy', family: 'config', action: 's3:GetBucketPolicy', resource: 'bucket', mutates: false, request: get('policy'), ok: noPolicy, expect: POLICY_READ },
  {
    op: 'PutBucketPolicy', family: 'config', action: 's3:PutBucketPolicy', resource: 'bucket', mutates: true,
    request: (t) => ({
      method: 'PUT', bucket: t.bucket, query: 'policy',
      body: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: t.b }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${t.bucket}/shared/*` }] }),
    }),
    ok: { status: 204 }, expect: POLICY_WRITE,
  },
  { op: 'DeleteBucketPolicy', family: 'config', action: 's3:DeleteBucketPolicy', resource: 'bucket', mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket, query: 'policy' }), ok: { status: 204 }, expect: POLICY_WRITE },
  { op: 'GetBucketPolicyStatus', family: 'config', action: 's3:GetBucketPolicyStatus', resource: 'bucket', mutates: false, request: get('policyStatus'), ok: noPolicy, expect: READ_NO_ACL },
  { op: 'GetBucketOwnershipControls', family: 'config', action: 's3:GetBucketOwnershipControls', resource: 'bucket', mutates: false, request: get('ownershipControls'), ok: { status: 200 }, expect: READ_NO_ACL },
  {
    op: 'PutBucketOwnershipControls', family: 'config', action: 's3:PutBucketOwnershipControls', resource: 'bucket', mutates: true,
    request: (t) => ({ method: 'PUT', bucket: t.bucket, query: 'ownershipControls', body: '<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>' }),
    ok: { status: 200 }, expect: WRITE_NO_ACL,
  },
  {
    op: 'DeleteBucketOwnershipControls', family: 'config', action: 's3:PutBucketOwnershipControls', resource: 'bucket', needs: { preferred: true }, mutates: true,
    request: (t) => ({ method: 'DELETE', bucket: t.bucket, query: 'ownershipControls' }), ok: { status: 204 }, expect: WRITE_NO_ACL,
  },
  { op: 'GetBucketLocation', family: 'config', action: 's3:GetBucketLocation', resource: 'bucket', mutates: false, request: get('location'), ok: { status: 200 }, expect: READ_NO_ACL },
  // Allowed, it still fails: the bucket holds obj.txt. The limited key lacks the grant to delete buckets.
  { op: 'DeleteBucket', family: 'config', action: 's3:DeleteBucket', resource: 'bucket', mutates: true, request: (t) => ({ method: 'DELETE', bucket: t.bucket }), ok: { status: 409, code: 'BucketNotEmpty' }, expect: WRITE_NO_ACL },
];

export const CORS_RULES = CORS;
export const OBJECT_KEY = OBJ;
