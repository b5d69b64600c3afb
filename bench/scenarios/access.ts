// The arms of `bench/ab.ts --access` (issue 19: small GET/PUT with a 10-statement bucket policy
// and ACL'd objects within 5% of the run without). The policy is one a self-hosted operator
// might write: reads of a public prefix, a partner key from loopback, an IP allow list, a backup
// key that never deletes, a drop box, HTTPS for a secrets prefix, no public-write ACLs, a freeze
// date, no hot-linking. None of it refuses the bench traffic (the root key, SigV4 over plain HTTP
// from 127.0.0.1, GETs of seeded/*, PUTs to small/*), yet a bucket policy is evaluated on every
// request, the owner's too (for its Deny): each GET and PUT walks all ten statements and reads
// the request's address, transport, time, x-amz-acl and Referer for the conditions of those whose
// action and resource match.
import { GetBucketAclCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { targetClient, type Target } from '../harness.js';

/** plain: no policy, plain PUTs; policy: the policy and public-read objects; anonymous: that bucket, its objects read unsigned. */
export type AccessArm = 'plain' | 'policy' | 'anonymous';

/** The canned ACL of the arm's PUTs and seeded objects. */
export const armAcl = (arm: AccessArm): 'public-read' | undefined => (arm === 'plain' ? undefined : 'public-read');

/** The ten statements for `bucket`, naming keys of the owner's account `owner` (policies may name only accounts that exist). */
export function benchPolicy(bucket: string, owner: string): string {
  const b = `arn:aws:s3:::${bucket}`;
  const key = (id: string) => ({ AWS: `arn:aws:iam::${owner}:user/${id}` });
  const statements = [
    { Sid: 'AnyoneReadsPublic', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${b}/public/*` },
    { Sid: 'AnyoneListsReports', Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: b, Condition: { StringLike: { 's3:prefix': ['reports/*', 'public/*'] } } },
    {
      Sid: 'PartnerFromLoopback',
      Effect: 'Allow',
      Principal: key('CKPARTNER00000000001'),
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `${b}/partner/*`,
      Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
    },
    { Sid: 'OnlyFromLoopback', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [b, `${b}/*`], Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } },
    {
      Sid: 'BackupKeyNeverDeletes',
      Effect: 'Deny',
      Principal: key('CKBACKUP000000000001'),
      Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutBucketVersioning', 's3:DeleteBucket'],
      Resource: [b, `${b}/*`],
    },
    { Sid: 'DropBoxOnlyUploads', Effect: 'Deny', Principal: key('CKDROPBOX00000000001'), NotAction: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: [b, `${b}/*`] },
    { Sid: 'HttpsForSecrets', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${b}/secrets/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    {
      Sid: 'NoPublicWrite',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:PutObjectAcl'],
      Resource: `${b}/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': ['public-read-write', 'authenticated-read'] } },
    },
    { Sid: 'FreezeAfter2099', Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: `${b}/*`, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2099-12-31T00:00:00Z' } } },
    {
      Sid: 'NoHotlinkingOverHttp',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${b}/*`,
      Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringLike: { 'aws:Referer': ['http://*.example.com/*', 'http://example.com/*'] } },
    },
  ];
  return JSON.stringify({ Version: '2012-10-17', Id: 'bench-access', Statement: statements });
}

/** Gives the bench bucket the arm's policy (the plain arm: none). */
export async function setUpAccess(target: Target, bucket: string, arm: AccessArm): Promise<void> {
  if (arm === 'plain') return;
  const s3 = targetClient(target);
  try {
    const owner = (await s3.send(new GetBucketAclCommand({ Bucket: bucket }))).Owner?.ID;
    if (!owner) throw new Error('GetBucketAcl named no owner');
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: benchPolicy(bucket, owner) }));
  } finally {
    s3.destroy();
  }
}
