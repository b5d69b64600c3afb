import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetBucketAclCommand, GetBucketOwnershipControlsCommand, type S3Client } from '@aws-sdk/client-s3';
import { hasClient, run, runOk, s3cmdConfig } from '../helpers/clients.js';
import { addAccount, rootAccountId, type TestAccount } from '../helpers/accounts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// s3cmd 2.3 (Debian) and ACLs, issue 19: `setacl --acl-public` answered 501 before, and
// `put --acl-public` left the object private. s3cmd reads ACLs back in `info` (GET ?acl, and
// ?policy, ?cors, ... next to it), and names grantees by display name or `*anon*`.

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

// Up to ten s3cmd starts a test, each up to a second or more on a loaded 2-core machine.
describe.skipIf(!hasClient('s3cmd'))('s3cmd: setacl, put --acl-public, grants to another account, mb and ls', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let s3: S3Client;
  let bob: TestAccount;
  let rootId: string;
  let work: string;
  let rootCfg: string;
  let bobCfg: string;
  const body = randomBytes(3000);
  let file: string;

  /** s3cmd as the root key's account (`cfg` picks another), failing the test when it exits non-zero. */
  const s3cmd = (args: string[], cfg = rootCfg) => runOk('s3cmd', ['-c', cfg, ...args], { env: srv.env, timeoutMs: 60_000 });
  /** A plain HTTP GET with no credentials at all: what a browser or a media proxy does. */
  const anonGet = async (p: string) => {
    const res = await fetch(`${srv.url}/${p}`);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  /** The ACL lines of `s3cmd info` ("ACL:       *anon*: READ" -> "*anon*: READ"). */
  const infoAcl = async (target: string) => {
    const r = await s3cmd(['info', target]);
    return [...r.stdout.matchAll(/^\s*ACL:\s+(.*\S)\s*$/gm)].map((m) => m[1]!).sort();
  };

  beforeAll(async () => {
    srv = await startTestServer();
    s3 = srv.client();
    rootId = await rootAccountId(srv);
    bob = await addAccount(srv, 'bob');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-s3cmd-acl-'));
    rootCfg = s3cmdConfig(path.join(work, 'root.s3cfg'), srv.url, srv.credentials);
    bobCfg = s3cmdConfig(path.join(work, 'bob.s3cfg'), srv.url, bob);
    file = path.join(work, 'media.bin');
    fs.writeFileSync(file, body);
  });

  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('mb with default settings makes a private bucket the caller owns, ACLs enabled', async () => {
    const r = await s3cmd(['mb', 's3://media']);
    expect(r.stdout).toContain("Bucket 's3://media/' created");
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'media' }));
    expect(acl.Owner?.ID).toBe(rootId);
    expect(acl.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: rootId, DisplayName: 'root' }, Permission: 'FULL_CONTROL' }]);
    const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'media' }));
    expect(own.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('ObjectWriter');
    expect(await infoAcl('s3://media')).toEqual(['root: FULL_CONTROL']);
  });

  it('setacl --acl-public opens a private object to anonymous GETs, --acl-private closes it again', async () => {
    await s3cmd(['put', file, 's3://media/file']);
    expect((await anonGet('media/file')).status).toBe(403);

    const pub = await s3cmd(['setacl', '--acl-public', 's3://media/file']);
    expect(pub.stdout).toContain('ACL set to Public');
    const open = await anonGet('media/file');
    expect(open.status).toBe(200);
    expect(open.body.equals(body)).toBe(true);
    expect(await infoAcl('s3://media/file')).toEqual(['*anon*: READ', 'root: FULL_CONTROL']);

    const priv = await s3cmd(['setacl', '--acl-private', 's3://media/file']);
    expect(priv.stdout).toContain('ACL set to Private');
    expect((await anonGet('media/file')).status).toBe(403);
    expect(await infoAcl('s3://media/file')).toEqual(['root: FULL_CONTROL']);
    // The bytes did not move: the owner still reads them.
    expect((await s3cmd(['get', 's3://media/file', '-'])).stdout.length).toBeGreaterThan(0);
  });

  it('put --acl-public stores the object public-read and prints its public URL', async () => {
    const r = await s3cmd(['put', '--acl-public', file, 's3://media/public.bin']);
    expect(r.stdout).toContain(`Public URL of the object is: ${srv.url}/media/public.bin`);
    const got = await anonGet('media/public.bin');
    expect(got.status).toBe(200);
    expect(got.body.equals(body)).toBe(true);
    // An anonymous caller may read the object, not list the bucket or write to it.
    expect((await anonGet('media')).status).toBe(403);
    expect((await fetch(`${srv.url}/media/public.bin`, { method: 'PUT', body: 'x' })).status).toBe(403);
  });

  it("setacl --acl-grant=read:<canonical id> lets another account's key read; --acl-revoke takes it back", async () => {
    const bobGet = () => run('s3cmd', ['-c', bobCfg, 'get', 's3://media/file', path.join(work, 'bob-got'), '--force'], { env: srv.env, timeoutMs: 60_000 });
    const before = await bobGet();
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/403/);

    const r = await s3cmd(['setacl', `--acl-grant=read:${bob.id}`, 's3://media/file']);
    expect(r.stdout).toContain('ACL updated');
    expect(await infoAcl('s3://media/file')).toEqual(['bob: READ', 'root: FULL_CONTROL']);
    const granted = await bobGet();
    expect(granted.code, granted.stderr).toBe(0);
    expect(fs.readFileSync(path.join(work, 'bob-got')).equals(body)).toBe(true);
    // READ on the object is not READ on the bucket: bob still cannot list it.
    expect((await run('s3cmd', ['-c', bobCfg, 'ls', 's3://media'], { env: srv.env })).code).not.toBe(0);

    await s3cmd(['setacl', `--acl-revoke=read:${bob.id}`, 's3://media/file']);
    expect(await infoAcl('s3://media/file')).toEqual(['root: FULL_CONTROL']);
    expect((await bobGet()).code).not.toBe(0);
  });

  it('setacl --acl-grant=read:<email> names the account by its email; an unknown email is refused', async () => {
    await s3cmd(['setacl', '--acl-grant=read:BOB@example.com', 's3://media/public.bin']);
    expect(await infoAcl('s3://media/public.bin')).toEqual(['*anon*: READ', 'bob: READ', 'root: FULL_CONTROL']);
    const unknown = await run('s3cmd', ['-c', rootCfg, 'setacl', '--acl-grant=read:nobody@example.com', 's3://media/public.bin'], { env: srv.env });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('UnresolvableGrantByEmailAddress');
  });

  it('setacl on the bucket: --acl-public gives anonymous listings, a write grant lets bob upload', async () => {
    await s3cmd(['setacl', '--acl-public', 's3://media']);
    expect(await infoAcl('s3://media')).toEqual(['*anon*: READ', 'root: FULL_CONTROL']);
    const list = await anonGet('media?list-type=2');
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain('<Key>public.bin</Key>');
    // Listing the bucket is not reading its objects: the private one stays closed.
    expect((await anonGet('media/file')).status).toBe(403);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'media' }));
    expect(acl.Grants).toContainEqual({ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' });

    const denied = await run('s3cmd', ['-c', bobCfg, 'put', file, 's3://media/from-bob.bin'], { env: srv.env });
    expect(denied.code).not.toBe(0);
    await s3cmd(['setacl', `--acl-grant=write:${bob.id}`, 's3://media']);
    await s3cmd(['put', file, 's3://media/from-bob.bin'], bobCfg);
    // bob wrote it, so bob owns it (ObjectWriter); the bucket owner still reads its ACL (cairn's
    // choice: the owner may do anything in its buckets).
    expect(await infoAcl('s3://media/from-bob.bin')).toEqual(['bob: FULL_CONTROL']);
    await s3cmd(['setacl', '--acl-private', 's3://media']);
    expect((await anonGet('media?list-type=2')).status).toBe(403);
  });

  it('setpolicy / info / delpolicy: a policy letting everyone GetObject, and its removal', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/file' }],
    };
    const policyFile = path.join(work, 'policy.json');
    fs.writeFileSync(policyFile, JSON.stringify(policy));
    expect((await s3cmd(['setpolicy', policyFile, 's3://media'])).stdout).toContain('Policy updated');
    expect((await s3cmd(['info', 's3://media'])).stdout).toContain('"Principal":"*"');
    expect((await anonGet('media/file')).status).toBe(200);
    expect((await s3cmd(['delpolicy', 's3://media'])).stdout).toContain('Policy deleted');
    expect((await s3cmd(['info', 's3://media'])).stdout).toMatch(/Policy:\s+none/);
    expect((await anonGet('media/file')).status).toBe(403);
  });

  it('ls (ListBuckets) lists each account its own buckets only', async () => {
    await s3cmd(['mb', 's3://bobs-bucket'], bobCfg);
    const names = (out: string) => [...out.matchAll(/\ss3:\/\/(\S+)$/gm)].map((m) => m[1]).sort();
    expect(names((await s3cmd(['ls'])).stdout)).toEqual(['media']);
    expect(names((await s3cmd(['ls'], bobCfg)).stdout)).toEqual(['bobs-bucket']);
    // The name is taken by another account: S3's BucketAlreadyExists, not "owned by you".
    const taken = await run('s3cmd', ['-c', rootCfg, 'mb', 's3://bobs-bucket'], { env: srv.env });
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/BucketAlreadyExists|already exists/);
  });
});
