import type { AclPermission } from '../s3/acl.js';

// What each S3 operation is, for authorization: the IAM action a bucket policy names, and what
// an ACL must grant for it. An operation without `acl` is for the bucket's owner, or whoever a
// policy allows; one missing from the table (an unimplemented sub-resource) is the owner's alone.

export interface OperationRule {
  /** The policy action ('s3:GetObject'); with a version id, `versioned` instead. */
  action: string;
  versioned?: string;
  /** A second action the request needs as well (a policy must allow both); with a version id, its `versioned`. */
  also?: { action: string; versioned: string };
  /** The ACL permission that allows it, on the bucket's ACL or the object's. */
  acl?: { on: 'bucket' | 'object'; permission: AclPermission };
  /** False: no ACL allows the `versioned` action (only the owner or a policy does). */
  aclForVersions?: false;
  /** Bucket policy operations: the owner may always repair its policy, whatever a Deny says (as the root user on S3). */
  ownerOverridesDeny?: boolean;
  /** Service-level (no bucket): ListBuckets, CreateBucket. */
  service?: boolean;
  /** Decided per key by the handler (DeleteObjects); the request itself needs only the key's grant. */
  perKey?: boolean;
  /** Acts on an existing version: a policy may test its tags (s3:ExistingObjectTag/<key>). */
  existingTags?: boolean;
  /** The request's tags are in its body (PutObjectTagging): s3:RequestObjectTag waits for it. */
  bodyTags?: boolean;
}

const bucketAcl = (permission: AclPermission) => ({ on: 'bucket' as const, permission });
const objectAcl = (permission: AclPermission) => ({ on: 'object' as const, permission });

export const OPERATION_RULES: Readonly<Record<string, OperationRule>> = {
  ListBuckets: { action: 's3:ListAllMyBuckets', service: true },
  CreateBucket: { action: 's3:CreateBucket', service: true },
  HeadBucket: { action: 's3:ListBucket', acl: bucketAcl('READ') },
  DeleteBucket: { action: 's3:DeleteBucket' },
  GetBucketLocation: { action: 's3:GetBucketLocation' },
  ListObjects: { action: 's3:ListBucket', acl: bucketAcl('READ') },
  ListObjectsV2: { action: 's3:ListBucket', acl: bucketAcl('READ') },
  ListObjectVersions: { action: 's3:ListBucketVersions', acl: bucketAcl('READ') },
  ListMultipartUploads: { action: 's3:ListBucketMultipartUploads', acl: bucketAcl('READ') },
  GetBucketAcl: { action: 's3:GetBucketAcl', acl: bucketAcl('READ_ACP') },
  PutBucketAcl: { action: 's3:PutBucketAcl', acl: bucketAcl('WRITE_ACP') },
  GetBucketCors: { action: 's3:GetBucketCORS' },
  PutBucketCors: { action: 's3:PutBucketCORS' },
  DeleteBucketCors: { action: 's3:PutBucketCORS' },
  // Lifecycle: the owner's (no ACL grants it), or whoever a policy allows; S3 has no separate delete action.
  GetBucketLifecycleConfiguration: { action: 's3:GetLifecycleConfiguration' },
  PutBucketLifecycleConfiguration: { action: 's3:PutLifecycleConfiguration' },
  DeleteBucketLifecycle: { action: 's3:PutLifecycleConfiguration' },
  GetBucketEncryption: { action: 's3:GetEncryptionConfiguration' },
  PutBucketEncryption: { action: 's3:PutEncryptionConfiguration' },
  DeleteBucketEncryption: { action: 's3:PutEncryptionConfiguration' },
  GetBucketVersioning: { action: 's3:GetBucketVersioning' },
  PutBucketVersioning: { action: 's3:PutBucketVersioning' },
  GetObjectLockConfiguration: { action: 's3:GetBucketObjectLockConfiguration' },
  PutObjectLockConfiguration: { action: 's3:PutBucketObjectLockConfiguration' },
  GetBucketPolicy: { action: 's3:GetBucketPolicy', ownerOverridesDeny: true },
  PutBucketPolicy: { action: 's3:PutBucketPolicy', ownerOverridesDeny: true },
  DeleteBucketPolicy: { action: 's3:DeleteBucketPolicy', ownerOverridesDeny: true },
  GetBucketPolicyStatus: { action: 's3:GetBucketPolicyStatus' },
  GetBucketOwnershipControls: { action: 's3:GetBucketOwnershipControls' },
  PutBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls' },
  DeleteBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls' },
  // Each key is checked as s3:DeleteObject (or DeleteObjectVersion) by the handler, as S3 does: a
  // policy naming objects (bucket/*, a prefix) cannot be judged on the bucket, and a key refused
  // comes back as its own AccessDenied in a 200.
  DeleteObjects: { action: 's3:DeleteObject', perKey: true },
  PutObject: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  CopyObject: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  // Authorized by its handler once the form named the key and the signer (src/http/handlers/post-object.ts).
  PostObject: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  CreateMultipartUpload: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  UploadPart: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  UploadPartCopy: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  CompleteMultipartUpload: { action: 's3:PutObject', acl: bucketAcl('WRITE') },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload', acl: bucketAcl('WRITE') },
  ListParts: { action: 's3:ListMultipartUploadParts', acl: bucketAcl('READ') },
  GetObject: { action: 's3:GetObject', versioned: 's3:GetObjectVersion', acl: objectAcl('READ'), existingTags: true },
  HeadObject: { action: 's3:GetObject', versioned: 's3:GetObjectVersion', acl: objectAcl('READ'), existingTags: true },
  // AWS: READ on the object, and both s3:GetObject and s3:GetObjectAttributes (with a version id,
  // s3:GetObjectVersion and s3:GetObjectVersionAttributes).
  GetObjectAttributes: {
    action: 's3:GetObject',
    versioned: 's3:GetObjectVersion',
    also: { action: 's3:GetObjectAttributes', versioned: 's3:GetObjectVersionAttributes' },
    acl: objectAcl('READ'),
    existingTags: true,
  },
  // AWS's ACL mapping: bucket WRITE gives s3:DeleteObjectVersion only when the grantee is the
  // bucket's owner (who needs no grant here): another account may add delete markers, never
  // remove versions for good.
  DeleteObject: { action: 's3:DeleteObject', versioned: 's3:DeleteObjectVersion', acl: bucketAcl('WRITE'), aclForVersions: false },
  GetObjectAcl: { action: 's3:GetObjectAcl', versioned: 's3:GetObjectVersionAcl', acl: objectAcl('READ_ACP'), existingTags: true },
  PutObjectAcl: { action: 's3:PutObjectAcl', versioned: 's3:PutObjectVersionAcl', acl: objectAcl('WRITE_ACP'), existingTags: true },
  GetObjectRetention: { action: 's3:GetObjectRetention', existingTags: true },
  PutObjectRetention: { action: 's3:PutObjectRetention', existingTags: true },
  GetObjectLegalHold: { action: 's3:GetObjectLegalHold', existingTags: true },
  PutObjectLegalHold: { action: 's3:PutObjectLegalHold', existingTags: true },
  // Tags: the owner's, or whoever a policy allows (no ACL grants them, as on S3).
  GetObjectTagging: { action: 's3:GetObjectTagging', versioned: 's3:GetObjectVersionTagging', existingTags: true },
  PutObjectTagging: { action: 's3:PutObjectTagging', versioned: 's3:PutObjectVersionTagging', existingTags: true, bodyTags: true },
  DeleteObjectTagging: { action: 's3:DeleteObjectTagging', versioned: 's3:DeleteObjectVersionTagging', existingTags: true },
  GetBucketTagging: { action: 's3:GetBucketTagging' },
  PutBucketTagging: { action: 's3:PutBucketTagging' },
  DeleteBucketTagging: { action: 's3:PutBucketTagging' },
};
