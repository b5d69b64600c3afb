import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { hasClient, run, runOk, type RunResult } from '../helpers/clients.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KEYS, createAccounts, type Accounts, type KeyPair } from '../helpers/authz-wire.js';

// Two accounts with imported fixed key pairs, through the real clients: the JS SDK v3 (default
// settings) and the aws CLI. What each account sees and may do, an upload-only prefix given by a
// bucket policy, and BucketOwnerEnforced turning ACLs off.

describe('two accounts through the SDK', () => {
  let srv: TestServer;
  let acct: Accounts;
  let a: S3Client;
  let b: S3Client;
  const as = (k: KeyPair) => srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } });
  const denied = async (p: Promise<unknown>, code = 'AccessDenied', status = 403) => {
    const err = await s3Error(p);
    expect({ code: err.name, status: err.$metadata.httpStatusCode }).toEqual({ code, status });
  };

  beforeAll(async () => {
    srv = await startTestServer();
    acct = await createAccounts(srv);
    a = as(KEYS.owner);
    b = as(KEYS.other);
  });
  afterAll(async () => {
    a?.destroy();
    b?.destroy();
    await srv?.stop();
  });

  it('a bucket policy lets account B upload under inbox/ and nowhere else', async () => {
    await a.send(new CreateBucketCommand({ Bucket: 'drop' }));
    await a.send(new PutObjectCommand({ Bucket: 'drop', Key: 'reports/a.txt', Body: 'A' }));
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Inbox', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${acct.b}:root` }, Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::drop/inbox/*' }],
    });
    await a.send(new PutBucketPolicyCommand({ Bucket: 'drop', Policy }));
    await b.send(new PutObjectCommand({ Bucket: 'drop', Key: 'inbox/from-b.txt', Body: 'B' }));
    await denied(b.send(new PutObjectCommand({ Bucket: 'drop', Key: 'reports/from-b.txt', Body: 'B' })));
    await denied(b.send(new PutObjectCommand({ Bucket: 'drop', Key: 'from-b.txt', Body: 'B' })));
    await denied(b.send(new GetObjectCommand({ Bucket: 'drop', Key: 'reports/a.txt' })));
    // Under ObjectWriter (the default) B owns what it wrote: its object ACL lets it read it back.
    expect((await b.send(new GetObjectAclCommand({ Bucket: 'drop', Key: 'inbox/from-b.txt' }))).Owner?.ID).toBe(acct.b);
    expect((await bodyOf(await b.send(new GetObjectCommand({ Bucket: 'drop', Key: 'inbox/from-b.txt' })))).toString()).toBe('B');
    // cairn: the bucket owner reads every object in its buckets (S3 would need the object's ACL).
    expect((await bodyOf(await a.send(new GetObjectCommand({ Bucket: 'drop', Key: 'inbox/from-b.txt' })))).toString()).toBe('B');
    // DeleteObjects decides per key: the inbox key goes, A's report stays with its own AccessDenied.
    const del = await b.send(new DeleteObjectsCommand({ Bucket: 'drop', Delete: { Objects: [{ Key: 'inbox/from-b.txt' }, { Key: 'reports/a.txt' }] } }));
    expect(del.$metadata.httpStatusCode).toBe(200);
    expect(del.Deleted?.map((d) => d.Key)).toEqual(['inbox/from-b.txt']);
    expect(del.Errors?.map((e) => [e.Key, e.Code])).toEqual([['reports/a.txt', 'AccessDenied']]);
    expect((await bodyOf(await a.send(new GetObjectCommand({ Bucket: 'drop', Key: 'reports/a.txt' })))).toString()).toBe('A');
  });

  it('BucketOwnerEnforced turns ACLs off: ACL writes refused, the owner\'s full control only, grants no longer read', async () => {
    await a.send(new CreateBucketCommand({ Bucket: 'enforced' }));
    await a.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'shared.txt', Body: 'S', GrantRead: `id=${acct.b}` }));
    expect((await bodyOf(await b.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'shared.txt' })))).toString()).toBe('S');
    // A bucket ACL granting others must go first.
    await a.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'public-read' }));
    const controls = { Bucket: 'enforced', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] } };
    await denied(a.send(new PutBucketOwnershipControlsCommand(controls)), 'InvalidBucketAclWithObjectOwnership', 400);
    await a.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'private' }));
    await a.send(new PutBucketOwnershipControlsCommand(controls));

    await denied(b.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'shared.txt' })));
    await denied(a.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'public.txt', Body: 'P', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
    await denied(a.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'public-read' })), 'AccessControlListNotSupported', 400);
    await denied(a.send(new PutObjectAclCommand({ Bucket: 'enforced', Key: 'shared.txt', GrantRead: `id=${acct.b}` })), 'AccessControlListNotSupported', 400);
    // The ACLs S3 still accepts under BucketOwnerEnforced: private and bucket-owner-full-control.
    await a.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'full.txt', Body: 'F', ACL: 'bucket-owner-full-control' }));
    await a.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'private' }));

    const ownerOnly = [{ Grantee: { ID: acct.a, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }];
    const bucketAcl = await a.send(new GetBucketAclCommand({ Bucket: 'enforced' }));
    expect(bucketAcl.Owner?.ID).toBe(acct.a);
    expect(bucketAcl.Grants?.map((g) => ({ Grantee: { ID: g.Grantee?.ID, Type: g.Grantee?.Type }, Permission: g.Permission }))).toEqual(ownerOnly);
    const objectAcl = await a.send(new GetObjectAclCommand({ Bucket: 'enforced', Key: 'shared.txt' }));
    expect(objectAcl.Grants?.map((g) => ({ Grantee: { ID: g.Grantee?.ID, Type: g.Grantee?.Type }, Permission: g.Permission }))).toEqual(ownerOnly);
    // What another account writes (a policy lets it) belongs to the bucket owner.
    const Policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: acct.b }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::enforced/*' }] });
    await a.send(new PutBucketPolicyCommand({ Bucket: 'enforced', Policy }));
    await b.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'from-b.txt', Body: 'B' }));
    expect((await a.send(new GetObjectAclCommand({ Bucket: 'enforced', Key: 'from-b.txt' }))).Owner?.ID).toBe(acct.a);
    await denied(b.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'from-b.txt' })));
  });
});

const SECRET = 'for team b, later\n';

describe.skipIf(!hasClient('aws'))('two accounts through the aws CLI', () => {
  let srv: TestServer;
  let acct: Accounts;
  let work: string;
  let envA: NodeJS.ProcessEnv;
  let envB: NodeJS.ProcessEnv;
  const aws = (env: NodeJS.ProcessEnv, args: string[]) => runOk('aws', ['--endpoint-url', srv.url, ...args], { env, timeoutMs: 60_000 });
  const awsFails = async (env: NodeJS.ProcessEnv, args: string[]): Promise<RunResult> => {
    const r = await run('aws', ['--endpoint-url', srv.url, ...args], { env, timeoutMs: 60_000 });
    expect(r.code, `aws ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
    return r;
  };
  const lsBuckets = async (env: NodeJS.ProcessEnv) => (await aws(env, ['s3', 'ls'])).stdout.split('\n').filter(Boolean).map((l) => l.split(' ').pop());

  beforeAll(async () => {
    srv = await startTestServer();
    acct = await createAccounts(srv);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-authz-cli-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    const base = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    // The imported pairs, exactly as they would sit in ~/.aws/credentials.
    envA = { ...base, AWS_ACCESS_KEY_ID: KEYS.owner.id, AWS_SECRET_ACCESS_KEY: KEYS.owner.secret };
    envB = { ...base, AWS_ACCESS_KEY_ID: KEYS.other.id, AWS_SECRET_ACCESS_KEY: KEYS.other.secret };
    // Setup through the SDK (one CLI start costs seconds on a busy machine); the checks use the CLI.
    const a = srv.client({ credentials: { accessKeyId: KEYS.owner.id, secretAccessKey: KEYS.owner.secret } });
    const b = srv.client({ credentials: { accessKeyId: KEYS.other.id, secretAccessKey: KEYS.other.secret } });
    await a.send(new CreateBucketCommand({ Bucket: 'cli-team-a' }));
    await a.send(new PutObjectCommand({ Bucket: 'cli-team-a', Key: 'secret.txt', Body: SECRET }));
    await b.send(new CreateBucketCommand({ Bucket: 'cli-team-b' }));
    a.destroy();
    b.destroy();
  });
  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('each account\'s imported key lists that account\'s buckets only (aws s3 ls)', { timeout: 180_000 }, async () => {
    expect(await lsBuckets(envA)).toEqual(['cli-team-a']);
    expect(await lsBuckets(envB)).toEqual(['cli-team-b']);
  });

  it('B may neither read A\'s private object, nor list A\'s bucket, nor take its name', { timeout: 180_000 }, async () => {
    const out = path.join(work, 'refused.txt');
    const refused = await awsFails(envB, ['s3api', 'get-object', '--bucket', 'cli-team-a', '--key', 'secret.txt', out]);
    expect(refused.stderr).toContain('AccessDenied');
    expect(fs.existsSync(out)).toBe(false);
    expect((await awsFails(envB, ['s3', 'ls', 's3://cli-team-a'])).stderr).toContain('AccessDenied');
    expect((await awsFails(envB, ['s3', 'mb', 's3://cli-team-a'])).stderr).toContain('BucketAlreadyExists');
  });

  it('after A runs put-object-acl --grant-read id=<B>, B reads the object (and still may not list or write)', { timeout: 180_000 }, async () => {
    await aws(envA, ['s3api', 'put-object-acl', '--bucket', 'cli-team-a', '--key', 'secret.txt', '--grant-read', `id=${acct.b}`]);
    const acl = JSON.parse((await aws(envA, ['s3api', 'get-object-acl', '--bucket', 'cli-team-a', '--key', 'secret.txt', '--output', 'json'])).stdout) as {
      Grants: Array<{ Grantee: { ID?: string }; Permission: string }>;
    };
    expect(acl.Grants.map((g) => [g.Grantee.ID, g.Permission])).toEqual([[acct.b, 'READ']]);
    const out = path.join(work, 'got.txt');
    await aws(envB, ['s3api', 'get-object', '--bucket', 'cli-team-a', '--key', 'secret.txt', out]);
    expect(fs.readFileSync(out, 'utf8')).toBe(SECRET);
    // READ on the object, not on the bucket.
    expect((await awsFails(envB, ['s3', 'ls', 's3://cli-team-a'])).stderr).toContain('AccessDenied');
    expect((await awsFails(envB, ['s3', 'cp', out, 's3://cli-team-a/from-b.txt'])).stderr).toContain('AccessDenied');
  });
});
