import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetBucketAclCommand, GetObjectCommand, GetObjectAclCommand, PutBucketAclCommand, type S3Client } from '@aws-sdk/client-s3';
import { hasClient, run, runOk, rcloneEnv } from '../helpers/clients.js';
import { addAccount, rootAccountId, type TestAccount } from '../helpers/accounts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// rclone 1.60 and ACLs (issue 19). rclone sends `x-amz-acl` on every upload (`private` unless
// --s3-acl says otherwise), on server-side copies and on CreateBucket (--s3-bucket-acl, else
// --s3-acl); a server that ignored the header left `--s3-acl public-read` uploads private.

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const MiB = 1024 * 1024;

describe.skipIf(!hasClient('rclone', ['version']))('rclone: --s3-acl, --s3-bucket-acl, and a bucket shared with another account', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let s3: S3Client;
  let rootId: string;
  let bob: TestAccount;
  let root: string;
  let src: string;
  let env: NodeJS.ProcessEnv;
  let bobEnv: NodeJS.ProcessEnv;
  const small = Buffer.from('an avatar, say\n');
  const big = randomBytes(7 * MiB);

  const rclone = (args: string[], e = env) => runOk('rclone', args, { env: e, timeoutMs: 60_000 });
  const anon = async (p: string) => {
    const res = await fetch(`${srv.url}/${p}`);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const objectGrants = async (Bucket: string, Key: string) => (await s3.send(new GetObjectAclCommand({ Bucket, Key }))).Grants;
  const ownerOnly = () => [{ Grantee: { Type: 'CanonicalUser', ID: rootId, DisplayName: 'root' }, Permission: 'FULL_CONTROL' }];

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB' });
    s3 = srv.client();
    rootId = await rootAccountId(srv);
    bob = await addAccount(srv, 'bob');
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-rclone-acl-'));
    src = path.join(root, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'avatar.txt'), small);
    const configFile = path.join(root, 'rclone.conf');
    fs.writeFileSync(configFile, '');
    env = rcloneEnv(srv, configFile);
    bobEnv = rcloneEnv({ ...srv, credentials: bob }, configFile);
  });

  afterAll(async () => {
    await srv?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('copy --s3-acl public-read: anonymous GETs read the object; the bucket rclone made is public-read too', async () => {
    await rclone(['copy', '--s3-acl', 'public-read', src, 'cairn:rc-public/media']);
    const got = await anon('rc-public/media/avatar.txt');
    expect(got.status).toBe(200);
    expect(got.body.equals(small)).toBe(true);
    expect(await objectGrants('rc-public', 'media/avatar.txt')).toEqual([...ownerOnly(), { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }]);
    // Without --s3-bucket-acl rclone creates the bucket with --s3-acl's value.
    expect((await anon('rc-public?list-type=2')).status).toBe(200);
  });

  it('copy with the defaults (x-amz-acl: private): object and bucket stay private', async () => {
    await rclone(['copy', src, 'cairn:rc-private']);
    expect((await anon('rc-private/avatar.txt')).status).toBe(403);
    expect((await anon('rc-private?list-type=2')).status).toBe(403);
    expect(await objectGrants('rc-private', 'avatar.txt')).toEqual(ownerOnly());
    expect((await s3.send(new GetBucketAclCommand({ Bucket: 'rc-private' }))).Grants).toEqual(ownerOnly());
    // A second copy of the same file under --s3-acl public-read only re-checks it (same size and
    // MD5): rclone does not touch the ACL of an object it does not upload.
    await rclone(['copy', '--s3-acl', 'public-read', src, 'cairn:rc-private']);
    expect((await anon('rc-private/avatar.txt')).status).toBe(403);
  });

  it('--s3-bucket-acl public-read on a bucket rclone creates: anonymous listings work, objects stay private', async () => {
    await rclone(['copy', '--s3-bucket-acl', 'public-read', src, 'cairn:rc-listed']);
    const list = await anon('rc-listed?list-type=2');
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain('<Key>avatar.txt</Key>');
    expect((await anon('rc-listed/avatar.txt')).status).toBe(403);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'rc-listed' }));
    expect(acl.Grants).toEqual([...ownerOnly(), { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }]);
  });

  it('a multipart upload (CreateMultipartUpload carries the ACL) and a server-side copy with --s3-acl public-read', async () => {
    const bigFile = path.join(root, 'video.bin');
    fs.writeFileSync(bigFile, big);
    await rclone(['copyto', '--s3-acl', 'public-read', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', bigFile, 'cairn:rc-private/video.bin']);
    const got = await anon('rc-private/video.bin');
    expect(got.status).toBe(200);
    expect(got.body.equals(big)).toBe(true);

    // copyto within the remote is CopyObject with x-amz-acl: the copy is public, the source not.
    await rclone(['copyto', '--s3-acl', 'public-read', 'cairn:rc-private/avatar.txt', 'cairn:rc-private/avatar-public.txt']);
    expect((await anon('rc-private/avatar-public.txt')).body.equals(small)).toBe(true);
    expect((await anon('rc-private/avatar.txt')).status).toBe(403);
  });

  it('a BucketOwnerEnforced bucket (ACLs off) takes rclone\'s default x-amz-acl: private, refuses public-read', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'rc-enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
    await rclone(['copy', src, 'cairn:rc-enforced']);
    expect(await objectGrants('rc-enforced', 'avatar.txt')).toEqual(ownerOnly());
    const refused = await run('rclone', ['copyto', '--s3-acl', 'public-read', path.join(src, 'avatar.txt'), 'cairn:rc-enforced/public.txt'], { env, timeoutMs: 60_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('AccessControlListNotSupported');
  });

  it("another account uploads into a bucket whose ACL grants it READ and WRITE; it owns what it wrote", async () => {
    const forbidden = await runOk('rclone', ['lsf', 'cairn:rc-private'], { env: bobEnv }).then(() => 'listed', () => 'refused');
    expect(forbidden).toBe('refused');
    await s3.send(new PutBucketAclCommand({
      Bucket: 'rc-private',
      GrantFullControl: `id=${rootId}`,
      GrantRead: `id=${bob.id}`,
      GrantWrite: `id=${bob.id}`,
    }));
    const bobSrc = path.join(root, 'bob');
    fs.mkdirSync(bobSrc);
    fs.writeFileSync(path.join(bobSrc, 'from-bob.txt'), 'written by bob\n');
    // rclone lists the destination, PUTs with x-amz-acl: private, then HEADs the new object.
    await rclone(['copy', bobSrc, 'cairn:rc-private'], bobEnv);
    expect(await objectGrants('rc-private', 'from-bob.txt')).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: bob.id, DisplayName: 'bob' }, Permission: 'FULL_CONTROL' }]);
    // copyto does not list first: it tries CreateBucket, takes the 409 (BucketAlreadyExists, the
    // name is another account's) as "the bucket is there", and uploads.
    await rclone(['copyto', path.join(bobSrc, 'from-bob.txt'), 'cairn:rc-private/single.txt'], bobEnv);
    expect(await objectGrants('rc-private', 'single.txt')).toHaveLength(1);
    // The bucket's READ lets bob list but not read the owner's private objects.
    expect((await rclone(['lsf', 'cairn:rc-private'], bobEnv)).stdout.split('\n')).toContain('avatar.txt');
    // rclone takes the 403 on its HEAD for "not a file", lists `avatar.txt/` and prints nothing.
    expect((await rclone(['cat', 'cairn:rc-private/avatar.txt'], bobEnv)).stdout).toBe('');
    const denied = await bob.client().send(new GetObjectCommand({ Bucket: 'rc-private', Key: 'avatar.txt' })).catch((e: { name: string }) => e.name);
    expect(denied).toBe('AccessDenied');
  });
});
