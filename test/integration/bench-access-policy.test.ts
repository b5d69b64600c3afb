import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetBucketAclCommand, GetObjectAclCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { benchPolicy } from '../../bench/scenarios/access.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The 10-statement policy of `bench/ab.ts --access` on a real server: stored as valid, letting
// the bench's traffic through (the owner's PUTs with x-amz-acl and GETs, anonymous GETs of the
// public-read objects), and live: the conditions it evaluates on every request refuse what they
// name. The condition values are read from the request only when a condition asks
// (src/auth/access.ts), so a wrong or missing value shows here as a request let through.

const B = 'bench';
const AllUsersRead = { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' };

describe('the bench access policy over the wire', () => {
  let srv: TestServer;
  let s3: S3Client;

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    const owner = (await s3.send(new GetBucketAclCommand({ Bucket: B }))).Owner!.ID!;
    await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: benchPolicy(B, owner) }));
  });
  afterAll(async () => {
    s3?.destroy();
    await srv?.stop();
  });

  it('lets the bench traffic through and stores the ACL the PUT names', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'seeded/1', Body: 'one', ACL: 'public-read' }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: B, Key: 'seeded/1' })))).toString()).toBe('one');
    expect((await s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'seeded/1' }))).Grants).toContainEqual(AllUsersRead);
    const anonymous = await fetch(`${srv.url}/${B}/seeded/1`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.text()).toBe('one');
  });

  it('refuses what its conditions name, the owner included', async () => {
    // NoPublicWrite: StringEquals s3:x-amz-acl.
    expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: 'small/1', Body: 'x', ACL: 'public-read-write' })))).name).toBe('AccessDenied');
    // NoHotlinkingOverHttp: Bool aws:SecureTransport false and StringLike aws:Referer, both read.
    expect((await fetch(`${srv.url}/${B}/seeded/1`, { headers: { referer: 'http://www.example.com/page' } })).status).toBe(403);
    expect((await fetch(`${srv.url}/${B}/seeded/1`, { headers: { referer: 'http://elsewhere.test/page' } })).status).toBe(200);
  });

  it('leaves a private object to its ACL for anonymous readers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'seeded/2', Body: 'two' }));
    expect((await fetch(`${srv.url}/${B}/seeded/2`)).status).toBe(403);
  });
});
