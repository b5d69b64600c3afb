import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { AccountRow } from '../../src/store/types.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Bucket policies that test tags (#21): s3:ExistingObjectTag/<key> on the version a request acts
// on, s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys on the tags it sets (x-amz-tagging,
// or PutObjectTagging's body, judged once read). Another account's key, allowed by the policy alone.

const B = 'tag-policy';

describe('bucket policy conditions on tags', () => {
  let srv: TestServer;
  let owner: S3Client;
  let other: S3Client;
  let partner: AccountRow;

  beforeAll(async () => {
    srv = await startTestServer();
    owner = srv.client();
    await owner.send(new CreateBucketCommand({ Bucket: B }));
    partner = await srv.meta.accounts.create({ name: 'partner' });
    const k = await srv.meta.keys.create({ accountId: partner.id, description: 'partner', grants: [{ bucket: '*', permission: 'write' }] });
    other = srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } });
    const statement = (Action: string | string[], Condition: Record<string, unknown>) => ({ Effect: 'Allow', Principal: { AWS: partner.id }, Action, Resource: `arn:aws:s3:::${B}/*`, Condition });
    const policy = {
      Version: '2012-10-17',
      Statement: [
        // Reads of what is tagged public=yes (the tag key is case-sensitive).
        statement(['s3:GetObject', 's3:GetObjectTagging'], { StringEquals: { 's3:ExistingObjectTag/public': 'yes' } }),
        // Writes only when they tag the object team=blue, and with no other tag key than team and public.
        statement(['s3:PutObject', 's3:PutObjectTagging'], { StringEquals: { 's3:RequestObjectTag/team': 'blue' }, 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'public'] } }),
        // Never anything of what is tagged secret, even with the statements above.
        { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/secret': 'true' } } },
      ],
    };
    await owner.send(new PutBucketPolicyCommand({ Bucket: B, Policy: JSON.stringify(policy) }));
    await owner.send(new PutObjectCommand({ Bucket: B, Key: 'open', Body: 'open', Tagging: 'public=yes' }));
    await owner.send(new PutObjectCommand({ Bucket: B, Key: 'closed', Body: 'closed', Tagging: 'Public=yes' }));
    await owner.send(new PutObjectCommand({ Bucket: B, Key: 'hidden', Body: 'hidden', Tagging: 'public=yes&secret=true' }));
  });
  afterAll(async () => srv?.stop());

  const denied = async (p: Promise<unknown>) => expect((await s3Error(p)).$metadata.httpStatusCode).toBe(403);

  it('s3:ExistingObjectTag: reads what carries the tag, not what does not; a Deny on a tag binds the owner too', async () => {
    expect((await bodyOf(await other.send(new GetObjectCommand({ Bucket: B, Key: 'open' })))).toString()).toBe('open');
    expect((await other.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'open' }))).TagSet).toEqual([{ Key: 'public', Value: 'yes' }]);
    await denied(other.send(new GetObjectCommand({ Bucket: B, Key: 'closed' })));
    await denied(other.send(new GetObjectCommand({ Bucket: B, Key: 'hidden' })));
    await denied(owner.send(new GetObjectCommand({ Bucket: B, Key: 'hidden' })));
    // Retagged by the owner, the object is readable at once.
    await owner.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'closed', Tagging: { TagSet: [{ Key: 'public', Value: 'yes' }] } }));
    expect((await bodyOf(await other.send(new GetObjectCommand({ Bucket: B, Key: 'closed' })))).toString()).toBe('closed');
  });

  it('s3:RequestObjectTag and RequestObjectTagKeys: x-amz-tagging on PutObject, and PutObjectTagging\'s body', async () => {
    await other.send(new PutObjectCommand({ Bucket: B, Key: 'w1', Body: 'x', Tagging: 'team=blue' }));
    await other.send(new PutObjectCommand({ Bucket: B, Key: 'w2', Body: 'x', Tagging: 'team=blue&public=yes' }));
    await denied(other.send(new PutObjectCommand({ Bucket: B, Key: 'w3', Body: 'x', Tagging: 'team=red' })));
    await denied(other.send(new PutObjectCommand({ Bucket: B, Key: 'w4', Body: 'x' })));
    await denied(other.send(new PutObjectCommand({ Bucket: B, Key: 'w5', Body: 'x', Tagging: 'team=blue&owner=me' })));
    expect((await s3Error(owner.send(new GetObjectCommand({ Bucket: B, Key: 'w3' })))).name).toBe('NoSuchKey');
    await other.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'w1', Tagging: { TagSet: [{ Key: 'team', Value: 'blue' }, { Key: 'public', Value: 'yes' }] } }));
    await denied(other.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'w1', Tagging: { TagSet: [{ Key: 'team', Value: 'red' }] } })));
    expect((await owner.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'w1' }))).TagSet).toHaveLength(2);
    // CopyObject is s3:PutObject on the destination: its REPLACE tags are the request's.
    await denied(other.send(new CopyObjectCommand({ Bucket: B, Key: 'w6', CopySource: `${B}/open`, TaggingDirective: 'REPLACE', Tagging: 'team=red' })));
  });
});
