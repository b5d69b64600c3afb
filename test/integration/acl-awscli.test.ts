import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { hasClient, run, runOk, type RunResult } from '../helpers/clients.js';
import { addAccount, rootAccountId, type TestAccount } from '../helpers/accounts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The aws CLI (v1 here; v2 prints the same JSON) and issue 19's ACL and policy operations:
// `s3 cp --acl`, put/get-object-acl, create-bucket with the canned ACLs that answered 501,
// bucket policies with their status, ownership controls, --expected-bucket-owner.

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

// About ten CLI starts a test, each 1-3 s on a loaded 2-core machine: more than the default 60 s.
describe.skipIf(!hasClient('aws'))('aws CLI: ACLs, bucket policies and ownership controls', { timeout: 180_000 }, () => {
  let srv: TestServer;
  /** Setup that is not what a test is about goes through the SDK: one CLI start costs 1-3 s. */
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  let bob: TestAccount;
  let rootId: string;
  let work: string;
  const body = randomBytes(5000);
  let file: string;

  const aws = (args: string[], e: NodeJS.ProcessEnv = env) => runOk('aws', ['--endpoint-url', srv.url, ...args], { env: e, timeoutMs: 60_000 });
  const json = async (args: string[], e: NodeJS.ProcessEnv = env) => JSON.parse((await aws([...args, '--output', 'json'], e)).stdout) as Record<string, any>;
  const awsFail = async (args: string[], e: NodeJS.ProcessEnv = env): Promise<RunResult> => {
    const r = await run('aws', ['--endpoint-url', srv.url, ...args], { env: e, timeoutMs: 60_000 });
    expect(r.code, `aws ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
    return r;
  };
  /** No credentials at all: a browser following a media URL. */
  const anon = async (p: string, init?: RequestInit) => {
    const res = await fetch(`${srv.url}/${p}`, init);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const ownerGrant = () => ({ Grantee: { Type: 'CanonicalUser', ID: rootId, DisplayName: 'root' }, Permission: 'FULL_CONTROL' });

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    rootId = await rootAccountId(srv);
    bob = await addAccount(srv, 'bob');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-awscli-acl-'));
    const cfg = path.join(work, 'config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' };
    bob = { ...bob, env: { ...bob.env, AWS_CONFIG_FILE: cfg, AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' } };
    file = path.join(work, 'photo.jpg');
    fs.writeFileSync(file, body);
    await aws(['s3', 'mb', 's3://site']);
  });

  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('s3 cp --acl public-read: anonymous GETs read it; get-object-acl names the owner and AllUsers READ', async () => {
    await aws(['s3', 'cp', file, 's3://site/img/photo.jpg', '--acl', 'public-read']);
    const got = await anon('site/img/photo.jpg');
    expect(got.status).toBe(200);
    expect(got.body.equals(body)).toBe(true);
    expect((await anon('site/img/photo.jpg', { method: 'HEAD' })).status).toBe(200);

    const acl = await json(['s3api', 'get-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg']);
    expect(acl.Owner).toEqual({ ID: rootId, DisplayName: 'root' });
    expect(acl.Grants).toEqual([ownerGrant(), { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }]);
  });

  it('s3api put-object-acl --acl private closes it; --grant-read id= opens it to one account', async () => {
    await aws(['s3api', 'put-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg', '--acl', 'private']);
    expect((await anon('site/img/photo.jpg')).status).toBe(403);
    expect((await json(['s3api', 'get-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg'])).Grants).toEqual([ownerGrant()]);

    const bobGet = ['s3api', 'get-object', '--bucket', 'site', '--key', 'img/photo.jpg', path.join(work, 'bob.jpg')];
    expect((await awsFail(bobGet, bob.env)).stderr).toContain('AccessDenied');
    await aws(['s3api', 'put-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg', '--grant-read', `id=${bob.id}`, '--grant-full-control', `id=${rootId}`]);
    await aws(bobGet, bob.env);
    expect(fs.readFileSync(path.join(work, 'bob.jpg')).equals(body)).toBe(true);
    // READ is not READ_ACP: bob may read the bytes but not the ACL.
    expect((await awsFail(['s3api', 'get-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg'], bob.env)).stderr).toContain('AccessDenied');
  });

  it('get-object-acl output edited and put back with --access-control-policy file:// (grantees by id and email)', async () => {
    const Key = 'img/photo.jpg';
    const acl = await json(['s3api', 'get-object-acl', '--bucket', 'site', '--key', Key]);
    acl.Grants.push(
      { Grantee: { Type: 'CanonicalUser', ID: bob.id }, Permission: 'READ_ACP' },
      { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'bob@example.com' }, Permission: 'WRITE_ACP' },
    );
    const aclFile = path.join(work, 'acl.json');
    fs.writeFileSync(aclFile, JSON.stringify(acl));
    await aws(['s3api', 'put-object-acl', '--bucket', 'site', '--key', Key, '--access-control-policy', `file://${aclFile}`]);
    // The email grantee is stored as the account it names.
    const bobGrant = (Permission: string) => ({ Grantee: { Type: 'CanonicalUser', ID: bob.id, DisplayName: 'bob' }, Permission });
    const after = await json(['s3api', 'get-object-acl', '--bucket', 'site', '--key', Key], bob.env);
    // (The previous test's grant headers put bob's READ before the owner's FULL_CONTROL.)
    expect(after.Grants).toHaveLength(4);
    expect(after.Grants).toEqual(expect.arrayContaining([ownerGrant(), bobGrant('READ'), bobGrant('READ_ACP'), bobGrant('WRITE_ACP')]));
    // WRITE_ACP lets bob rewrite the ACL (here: back to the owner alone).
    await aws(['s3api', 'put-object-acl', '--bucket', 'site', '--key', Key, '--grant-full-control', `id=${rootId}`], bob.env);
    expect((await json(['s3api', 'get-object-acl', '--bucket', 'site', '--key', Key])).Grants).toEqual([ownerGrant()]);
  });

  it('create-bucket --acl public-read-write: get-bucket-acl shows AllUsers READ and WRITE, anonymous PUTs land', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', 'dropbox', '--acl', 'public-read-write']);
    const acl = await json(['s3api', 'get-bucket-acl', '--bucket', 'dropbox']);
    expect(acl.Owner.ID).toBe(rootId);
    expect(acl.Grants).toEqual([
      ownerGrant(),
      { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
      { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'WRITE' },
    ]);
    expect((await anon('dropbox/anon.txt', { method: 'PUT', body: 'from nobody' })).status).toBe(200);
    const list = await anon('dropbox?list-type=2');
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain('<Key>anon.txt</Key>');
    // The bucket's WRITE lets anyone add objects; reading one needs the object's own ACL.
    expect((await anon('dropbox/anon.txt')).status).toBe(403);
    const got = await aws(['s3', 'cp', 's3://dropbox/anon.txt', '-']);
    expect(got.stdout).toBe('from nobody');
  });

  it('create-bucket --acl authenticated-read: any account may list it, anonymous callers may not', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', 'members', '--acl', 'authenticated-read']);
    const acl = await json(['s3api', 'get-bucket-acl', '--bucket', 'members']);
    expect(acl.Grants).toEqual([ownerGrant(), { Grantee: { Type: 'Group', URI: AUTH_USERS }, Permission: 'READ' }]);
    await s3.send(new PutObjectCommand({ Bucket: 'members', Key: 'notes.bin', Body: body }));
    const listed = await json(['s3api', 'list-objects-v2', '--bucket', 'members'], bob.env);
    expect(listed.Contents.map((c: { Key: string }) => c.Key)).toEqual(['notes.bin']);
    expect((await anon('members?list-type=2')).status).toBe(403);
    // Bucket READ is listing only; the object stays its owner's.
    expect((await awsFail(['s3', 'cp', 's3://members/notes.bin', '-'], bob.env)).stderr).toMatch(/403|Forbidden/);
  });

  it('put-bucket-policy file://, get-bucket-policy, get-bucket-policy-status, delete-bucket-policy', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'pub/a.jpg', Body: body }));
    expect((await anon('site/pub/a.jpg')).status).toBe(403);
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'PublicMedia', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/pub/*' }],
    };
    const policyFile = path.join(work, 'policy.json');
    fs.writeFileSync(policyFile, JSON.stringify(policy, null, 2));
    await aws(['s3api', 'put-bucket-policy', '--bucket', 'site', '--policy', `file://${policyFile}`]);

    const stored = await json(['s3api', 'get-bucket-policy', '--bucket', 'site']);
    expect(JSON.parse(stored.Policy as string)).toEqual(policy);
    const status = await json(['s3api', 'get-bucket-policy-status', '--bucket', 'site']);
    expect(status).toEqual({ PolicyStatus: { IsPublic: true } });
    expect((await anon('site/pub/a.jpg')).status).toBe(200);
    expect((await anon('site/img/photo.jpg')).status).toBe(403);

    await aws(['s3api', 'delete-bucket-policy', '--bucket', 'site']);
    expect((await awsFail(['s3api', 'get-bucket-policy', '--bucket', 'site'])).stderr).toContain('NoSuchBucketPolicy');
    expect((await awsFail(['s3api', 'get-bucket-policy-status', '--bucket', 'site'])).stderr).toContain('NoSuchBucketPolicy');
    expect((await anon('site/pub/a.jpg')).status).toBe(403);
  });

  it('get-bucket-policy-status says false for a policy that names its principals', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${bob.id}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*' }],
    };
    await aws(['s3api', 'put-bucket-policy', '--bucket', 'site', '--policy', JSON.stringify(policy)]);
    expect(await json(['s3api', 'get-bucket-policy-status', '--bucket', 'site'])).toEqual({ PolicyStatus: { IsPublic: false } });
    await aws(['s3', 'cp', 's3://site/pub/a.jpg', path.join(work, 'bob-a.jpg')], bob.env);
    await aws(['s3api', 'delete-bucket-policy', '--bucket', 'site']);
  });

  it('put/get-bucket-ownership-controls: BucketOwnerEnforced turns ACLs off but keeps bucket-owner-full-control', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', 'enforced']);
    const before = await json(['s3api', 'get-bucket-ownership-controls', '--bucket', 'enforced']);
    expect(before).toEqual({ OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } });
    await aws(['s3api', 'put-bucket-ownership-controls', '--bucket', 'enforced', '--ownership-controls', 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]']);
    const after = await json(['s3api', 'get-bucket-ownership-controls', '--bucket', 'enforced']);
    expect(after).toEqual({ OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });

    await aws(['s3api', 'put-object', '--bucket', 'enforced', '--key', 'k', '--body', file, '--acl', 'bucket-owner-full-control']);
    const refused = await awsFail(['s3api', 'put-object', '--bucket', 'enforced', '--key', 'k2', '--body', file, '--acl', 'public-read']);
    expect(refused.stderr).toContain('AccessControlListNotSupported');
    expect((await awsFail(['s3api', 'put-object-acl', '--bucket', 'enforced', '--key', 'k', '--acl', 'public-read'])).stderr).toContain('AccessControlListNotSupported');
    // GetObjectAcl still answers, with the bucket owner's full control (as S3 does).
    const acl = await json(['s3api', 'get-object-acl', '--bucket', 'enforced', '--key', 'k']);
    expect(acl.Grants).toEqual([ownerGrant()]);
  });

  it('cross-account uploads into a BucketOwnerEnforced bucket: a policy demands bucket-owner-full-control; the bucket owner owns them', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyHandedOver', Effect: 'Allow', Principal: { AWS: bob.id }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::enforced/in/*',
          Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
        },
        { Sid: 'Open', Effect: 'Allow', Principal: { AWS: bob.id }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::enforced/open/*' },
      ],
    };
    await aws(['s3api', 'put-bucket-policy', '--bucket', 'enforced', '--policy', JSON.stringify(policy)]);
    await aws(['s3', 'cp', file, 's3://enforced/in/a.jpg', '--acl', 'bucket-owner-full-control'], bob.env);
    expect((await awsFail(['s3', 'cp', file, 's3://enforced/in/b.jpg'], bob.env)).stderr).toContain('AccessDenied');
    // ACLs are off: a grant to anyone else is refused, the owner's full control in grant form is not.
    await aws(['s3api', 'put-object', '--bucket', 'enforced', '--key', 'open/c.jpg', '--body', file, '--grant-full-control', `id=${rootId}`], bob.env);
    const other = await awsFail(['s3api', 'put-object', '--bucket', 'enforced', '--key', 'open/d.jpg', '--body', file, '--grant-read', `id=${bob.id}`], bob.env);
    expect(other.stderr).toContain('AccessControlListNotSupported');
    for (const key of ['in/a.jpg', 'open/c.jpg']) {
      const acl = await json(['s3api', 'get-object-acl', '--bucket', 'enforced', '--key', key]);
      expect(acl.Owner.ID).toBe(rootId);
      expect(acl.Grants).toEqual([ownerGrant()]);
    }
  });

  it('--expected-bucket-owner: the right canonical id passes, another account is refused', async () => {
    await aws(['s3api', 'head-bucket', '--bucket', 'site', '--expected-bucket-owner', rootId]);
    const wrong = await awsFail(['s3api', 'head-bucket', '--bucket', 'site', '--expected-bucket-owner', bob.id]);
    expect(wrong.stderr).toMatch(/403|Forbidden/);
    await aws(['s3api', 'get-object-acl', '--bucket', 'site', '--key', 'img/photo.jpg', '--expected-bucket-owner', rootId]);
  });
});
