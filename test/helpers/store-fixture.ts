import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { addAccount } from './accounts.js';
import type { TestServer } from './server.js';

// A store that puts a row in every table cairn has, written through the real server with the
// SDK (and the store for accounts and keys, as the admin API does): what moving a store to
// another engine must carry over whole.

export interface StoreFixture {
  /** Version ids written to the versioned bucket, oldest first (the last is a delete marker). */
  versions: string[];
  lockedVersion: string;
  /** The upload left in progress. */
  openUploadId: string;
  /** ETag of the completed multipart object. */
  multipartEtag: string;
  accountName: string;
  accessKeyId: string;
}

const MiB = 1024 * 1024;

/** Buckets, objects (inline and file-backed), tags, ACL, policy, CORS, lifecycle rules, versions, locks, multipart. */
export async function populateStore(srv: TestServer): Promise<StoreFixture> {
  const s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'small.txt', Body: 'inline object', ContentType: 'text/plain', Metadata: { owner: 'ops' } }));
  await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'dir/large.bin', Body: Buffer.alloc(200 * 1024, 7) }));
  await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'é/ünïcode key', Body: 'x' }));
  await s3.send(new PutObjectTaggingCommand({ Bucket: 'plain', Key: 'small.txt', Tagging: { TagSet: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }] } }));
  await s3.send(new PutObjectAclCommand({ Bucket: 'plain', Key: 'small.txt', ACL: 'public-read' }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'plain', ACL: 'public-read' }));
  await s3.send(new PutBucketTaggingCommand({ Bucket: 'plain', Tagging: { TagSet: [{ Key: 'cost', Value: '42' }] } }));
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::plain/public/*' }] };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'plain', Policy: JSON.stringify(policy) }));
  await s3.send(new PutBucketCorsCommand({ Bucket: 'plain', CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://example.com'] }] } }));
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: 'plain',
      LifecycleConfiguration: { Rules: [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 30 } }] },
    }),
  );

  await s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  const versions: string[] = [];
  for (const body of ['v1', 'v2', Buffer.alloc(64 * 1024, 1)]) {
    versions.push((await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc', Body: body }))).VersionId!);
  }
  const lockedVersion = versions[0]!;
  await s3.send(new PutObjectRetentionCommand({ Bucket: 'locked', Key: 'doc', VersionId: lockedVersion, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) } }));
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: 'locked', Key: 'doc', VersionId: versions[1], LegalHold: { Status: 'ON' } }));
  versions.push((await s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'doc' }))).VersionId!);

  await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'a' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }));
  await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'b' }));

  const part1 = Buffer.alloc(5 * MiB, 3);
  const done = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'mp/done', ContentType: 'application/x-test' }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'plain', Key: 'mp/done', UploadId: done.UploadId, PartNumber: 1, Body: part1 }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'plain', Key: 'mp/done', UploadId: done.UploadId, PartNumber: 2, Body: 'tail' }));
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: 'plain', Key: 'mp/done', UploadId: done.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
  );
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'mp/open', Tagging: 'a=b' }));
  await s3.send(new UploadPartCommand({ Bucket: 'plain', Key: 'mp/open', UploadId: open.UploadId, PartNumber: 1, Body: Buffer.alloc(100 * 1024, 9) }));

  const account = await addAccount(srv, 'alice');
  await account.client().send(new CreateBucketCommand({ Bucket: 'alices' }));
  return { versions, lockedVersion, openUploadId: open.UploadId!, multipartEtag: completed.ETag!, accountName: 'alice', accessKeyId: account.accessKeyId };
}
