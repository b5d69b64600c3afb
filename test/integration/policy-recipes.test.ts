import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type DeleteObjectsCommandOutput,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import type { AccountRow, Grant } from '../../src/store/types.js';
import { hasClient, runOk } from '../helpers/clients.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The recipes of docs/policies.md, each applied with PutBucketPolicy from its fixture
// (test/fixtures/policies, with this server's account ids and a bucket of its own) on a real
// server, then driven with real accounts, keys and anonymous requests: what each recipe lets
// through, and what it stops.

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'policies');
// The fixtures' placeholders: their bucket, the owner's account and another account.
const FIXTURE_OWNER = '1'.repeat(64);
const FIXTURE_OTHER = '2'.repeat(64);
// The key ids the fixtures name; the test imports keys with exactly these ids.
const DROP_BOX_KEY = 'CKDROPBOX00000000001';
const BACKUP_KEY = 'CKBACKUP000000000001';
// backup-restic.json's key on a server where BACKUP_KEY is taken (key ids are unique).
const RESTIC_KEY = 'CKBACKUP000000000002';

describe('bucket policy recipes on a real server', () => {
  let srv: TestServer;
  let owner: AccountRow;
  let partner: AccountRow;
  /** The owner account's administrator key (a write grant on every bucket: it creates them). */
  let admin: S3Client;

  /** A key of `account` with `grants` (imported with `id` when given), and an SDK client signing with it. */
  const keyClient = async (account: AccountRow, grants: Grant[], id?: string): Promise<S3Client> => {
    const pair = id === undefined ? {} : { accessKeyId: id, secretAccessKey: `secret-of-${id}` };
    const k = await srv.meta.keys.create({ accountId: account.id, description: `test key of ${account.name}`, grants, ...pair });
    return srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } });
  };
  /** A fixture's text for `bucket` and this server's accounts. */
  const recipe = (name: string, bucket: string): string =>
    fs
      .readFileSync(path.join(FIXTURES, name), 'utf8')
      .replaceAll('arn:aws:s3:::recipes', `arn:aws:s3:::${bucket}`)
      .replaceAll(FIXTURE_OWNER, owner.id)
      .replaceAll(FIXTURE_OTHER, partner.id);
  const putPolicy = (s3: S3Client, bucket: string, policy: string) => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
  const isPublic = async (bucket: string) => (await admin.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic;
  /** An unsigned request. */
  const anonymous = (url: string, init?: RequestInit) => fetch(`${srv.url}/${url}`, init);
  /** The request fails with 403 AccessDenied (a HEAD has no body: its status alone). */
  const denied = async (p: Promise<unknown>, head = false) => {
    const e = await s3Error(p);
    expect(e.$metadata.httpStatusCode).toBe(403);
    if (!head) expect(e.name).toBe('AccessDenied');
  };
  /**
   * DeleteObjects removes none of `keys`: refused whole (403), or key by key (AccessDenied inside a
   * 200, S3's answer, which cairn gives once DeleteObjects is decided per key).
   */
  const bulkDenied = async (s3: S3Client, bucket: string, keys: ObjectIdentifier[]) => {
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } })).catch((e: unknown) => e);
    if (res instanceof S3ServiceException) {
      expect([res.$metadata.httpStatusCode, res.name]).toEqual([403, 'AccessDenied']);
      return;
    }
    const out = res as DeleteObjectsCommandOutput;
    expect(out.Deleted ?? []).toEqual([]);
    expect((out.Errors ?? []).map((e) => [e.Key, e.Code])).toEqual(keys.map((k) => [k.Key, 'AccessDenied']));
  };
  const put = (s3: S3Client, bucket: string, key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const text = async (s3: S3Client, bucket: string, key: string, versionId?: string) =>
    (await bodyOf(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })))).toString('utf8');

  beforeAll(async () => {
    srv = await startTestServer();
    owner = await srv.meta.accounts.create({ name: 'owner' });
    partner = await srv.meta.accounts.create({ name: 'partner' });
    admin = await keyClient(owner, [{ bucket: '*', permission: 'write' }]);
  });
  afterAll(async () => srv?.stop());

  describe('anonymous-read-prefix.json: anyone may read public/, nothing else', () => {
    const B = 'site';
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      await put(admin, B, 'public/index.html', '<h1>hello</h1>');
      await put(admin, B, 'private/notes.txt', 'not for you');
      await putPolicy(admin, B, recipe('anonymous-read-prefix.json', B));
    });

    it('serves GET and HEAD under public/ to anonymous clients', async () => {
      const res = await anonymous(`${B}/public/index.html`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('<h1>hello</h1>');
      expect((await anonymous(`${B}/public/index.html`, { method: 'HEAD' })).status).toBe(200);
    });

    it('denies anonymous reads outside public/, listings, writes and deletes', async () => {
      expect((await anonymous(`${B}/private/notes.txt`)).status).toBe(403);
      expect((await anonymous(`${B}?list-type=2`)).status).toBe(403);
      expect((await anonymous(`${B}?list-type=2&prefix=public/`)).status).toBe(403);
      expect((await anonymous(`${B}/public/new.html`, { method: 'PUT', body: 'x' })).status).toBe(403);
      expect((await anonymous(`${B}/public/index.html`, { method: 'DELETE' })).status).toBe(403);
      expect(await text(admin, B, 'public/index.html')).toBe('<h1>hello</h1>');
    });

    it('tells an anonymous client nothing about keys that do not exist (403, as it may not list)', async () => {
      expect((await anonymous(`${B}/public/missing.html`)).status).toBe(403);
    });

    it('is public (GetBucketPolicyStatus)', async () => {
      expect(await isPublic(B)).toBe(true);
    });
  });

  describe('drop-box.json: another account uploads into incoming/ and can do nothing else', () => {
    const B = 'dropbox';
    let dropBox: S3Client;
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      // Uploads belong to the bucket owner (docs/policies.md): ACLs off.
      await admin.send(new PutBucketOwnershipControlsCommand({ Bucket: B, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
      await putPolicy(admin, B, recipe('drop-box.json', B));
      // The key's grant lets it act on the bucket at all; the policy says what for.
      dropBox = await keyClient(partner, [{ bucket: B, permission: 'write' }], DROP_BOX_KEY);
    });

    it('lets the key upload under incoming/, in one PUT or in parts, and abort its uploads', async () => {
      await put(dropBox, B, 'incoming/report.csv', 'a,b\n1,2\n');
      const { UploadId } = await dropBox.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'incoming/big.bin' }));
      const part = await dropBox.send(new UploadPartCommand({ Bucket: B, Key: 'incoming/big.bin', UploadId, PartNumber: 1, Body: 'one part' }));
      await dropBox.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'incoming/big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      const other = await dropBox.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'incoming/abandoned.bin' }));
      await dropBox.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'incoming/abandoned.bin', UploadId: other.UploadId }));
      // The bucket owner reads what was dropped, and owns it.
      expect(await text(admin, B, 'incoming/report.csv')).toBe('a,b\n1,2\n');
      expect(await text(admin, B, 'incoming/big.bin')).toBe('one part');
      expect((await admin.send(new GetObjectAclCommand({ Bucket: B, Key: 'incoming/report.csv' }))).Owner?.ID).toBe(owner.id);
    });

    it('denies the key reading, listing and deleting, even what it uploaded', async () => {
      await denied(dropBox.send(new GetObjectCommand({ Bucket: B, Key: 'incoming/report.csv' })));
      await denied(dropBox.send(new HeadObjectCommand({ Bucket: B, Key: 'incoming/report.csv' })), true);
      await denied(dropBox.send(new ListObjectsV2Command({ Bucket: B })));
      await denied(dropBox.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'incoming/' })));
      await denied(dropBox.send(new DeleteObjectCommand({ Bucket: B, Key: 'incoming/report.csv' })));
      await bulkDenied(dropBox, B, [{ Key: 'incoming/report.csv' }]);
      const { UploadId } = await dropBox.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'incoming/later.bin' }));
      await denied(dropBox.send(new ListPartsCommand({ Bucket: B, Key: 'incoming/later.bin', UploadId })));
      await denied(dropBox.send(new GetBucketPolicyCommand({ Bucket: B })));
      expect(await text(admin, B, 'incoming/report.csv')).toBe('a,b\n1,2\n');
    });

    it('denies uploads outside incoming/, and the partner account\'s other keys', async () => {
      await denied(put(dropBox, B, 'elsewhere/x.txt', 'x'));
      await denied(put(dropBox, B, 'incoming', 'no slash'));
      const sibling = await keyClient(partner, [{ bucket: B, permission: 'write' }]);
      await denied(put(sibling, B, 'incoming/sibling.txt', 'x'));
    });

    it('is not public', async () => {
      expect(await isPublic(B)).toBe(false);
    });
  });

  describe('backup-no-delete.json: a backup key that can write but never delete or overwrite', () => {
    const B = 'backups';
    let backup: S3Client;
    let first: string;
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      // Versioning first: an overwrite then adds a version instead of replacing the data.
      await admin.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
      await putPolicy(admin, B, recipe('backup-no-delete.json', B));
      backup = await keyClient(owner, [{ bucket: B, permission: 'write' }], BACKUP_KEY);
      first = (await put(backup, B, 'db/dump.sql', 'monday')).VersionId!;
    });

    it('writes, reads and lists with the key', async () => {
      expect(first).toBeTruthy();
      expect(await text(backup, B, 'db/dump.sql')).toBe('monday');
      expect((await backup.send(new ListObjectsV2Command({ Bucket: B }))).Contents?.map((o) => o.Key)).toEqual(['db/dump.sql']);
    });

    it('an overwrite keeps the old version, listed and readable by its id', async () => {
      const second = (await put(backup, B, 'db/dump.sql', 'tuesday')).VersionId!;
      expect(second).not.toBe(first);
      expect(await text(backup, B, 'db/dump.sql')).toBe('tuesday');
      expect(await text(backup, B, 'db/dump.sql', first)).toBe('monday');
      const versions = (await backup.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'db/' }))).Versions ?? [];
      expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([[second, true], [first, false]]);
    });

    it('denies every delete: of the key, of a version, in bulk (no delete marker is added)', async () => {
      await denied(backup.send(new DeleteObjectCommand({ Bucket: B, Key: 'db/dump.sql' })));
      await denied(backup.send(new DeleteObjectCommand({ Bucket: B, Key: 'db/dump.sql', VersionId: first })));
      await bulkDenied(backup, B, [{ Key: 'db/dump.sql' }, { Key: 'db/dump.sql', VersionId: first }]);
      const listed = await backup.send(new ListObjectVersionsCommand({ Bucket: B }));
      expect(listed.DeleteMarkers ?? []).toEqual([]);
      expect(listed.Versions?.length).toBe(2);
      expect(await text(backup, B, 'db/dump.sql', first)).toBe('monday');
    });

    it('denies undoing the protection: suspending versioning, replacing or removing the policy, opening the ACL', async () => {
      await denied(backup.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Suspended' } })));
      await denied(putPolicy(backup, B, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` }] })));
      await denied(backup.send(new DeleteBucketPolicyCommand({ Bucket: B })));
      // A bucket ACL granting WRITE would let someone else delete versions.
      await denied(backup.send(new PutBucketAclCommand({ Bucket: B, ACL: 'public-read-write' })));
      expect((await admin.send(new GetBucketPolicyCommand({ Bucket: B }))).Policy).toBe(recipe('backup-no-delete.json', B));
    });

    it('binds only the backup key: the owner\'s administrator still deletes', async () => {
      await put(admin, B, 'scratch.txt', 'x');
      await admin.send(new DeleteObjectCommand({ Bucket: B, Key: 'scratch.txt' }));
      // A delete marker now: the administrator may list, so it learns the key is gone (404).
      expect((await s3Error(admin.send(new GetObjectCommand({ Bucket: B, Key: 'scratch.txt' })))).name).toBe('NoSuchKey');
    });
  });

  describe('ip-allow-list.json: every request from outside the allowed ranges is denied', () => {
    const B = 'office';
    let reader: S3Client;
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      await put(admin, B, 'a.txt', 'from the office');
      reader = await keyClient(partner, [{ bucket: B, permission: 'read' }]);
    });

    it('as written (loopback allowed) lets requests from 127.0.0.1 through, and grants nothing', async () => {
      await putPolicy(admin, B, recipe('ip-allow-list.json', B));
      expect(await text(admin, B, 'a.txt')).toBe('from the office');
      await put(admin, B, 'b.txt', 'b');
      // Deny-only: another account still needs an Allow.
      await denied(reader.send(new GetObjectCommand({ Bucket: B, Key: 'a.txt' })));
      expect(await isPublic(B)).toBe(false);
    });

    it('allowing only 10.0.0.0/8 denies 127.0.0.1 to everyone, the owner too, but the owner may still remove the policy', async () => {
      const tenOnly = recipe('ip-allow-list.json', B).replace(/"aws:SourceIp": \[[^\]]*\]/, '"aws:SourceIp": ["10.0.0.0/8"]');
      expect(tenOnly).toContain('10.0.0.0/8');
      await putPolicy(admin, B, tenOnly);
      await denied(admin.send(new GetObjectCommand({ Bucket: B, Key: 'a.txt' })));
      await denied(put(admin, B, 'c.txt', 'c'));
      await denied(admin.send(new ListObjectsV2Command({ Bucket: B })));
      await denied(admin.send(new HeadBucketCommand({ Bucket: B })), true);
      await denied(admin.send(new DeleteObjectCommand({ Bucket: B, Key: 'a.txt' })));
      expect((await anonymous(`${B}/a.txt`)).status).toBe(403);
      // The owner's administrator repairs: reads the policy and deletes it despite the Deny.
      expect((await admin.send(new GetBucketPolicyCommand({ Bucket: B }))).Policy).toBe(tenOnly);
      await admin.send(new DeleteBucketPolicyCommand({ Bucket: B }));
      expect(await text(admin, B, 'a.txt')).toBe('from the office');
    });
  });

  describe('https-only.json: plain HTTP is denied (https is let through: tls.test.ts)', () => {
    const B = 'tls-only';
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      await put(admin, B, 'a.txt', 'secret');
      await putPolicy(admin, B, recipe('https-only.json', B));
    });

    it('denies every plain-HTTP request, the owner\'s too, signed or anonymous', async () => {
      await denied(admin.send(new GetObjectCommand({ Bucket: B, Key: 'a.txt' })));
      await denied(put(admin, B, 'b.txt', 'b'));
      await denied(admin.send(new ListObjectsV2Command({ Bucket: B })));
      await denied(admin.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } })));
      expect((await anonymous(`${B}/a.txt`)).status).toBe(403);
      expect(await isPublic(B).catch((e: Error) => e.name)).toBe('AccessDenied');
    });

    it('the owner\'s administrator can still remove the policy, and plain HTTP works again', async () => {
      await admin.send(new DeleteBucketPolicyCommand({ Bucket: B }));
      expect(await text(admin, B, 'a.txt')).toBe('secret');
    });
  });

  describe('MalformedPolicy: a bad policy is refused with a message naming the problem, and the stored one stays', () => {
    const B = 'strict';
    let good: string;
    /** A one-statement policy for the bucket, with `over` changed. */
    const statement = (over: Record<string, unknown>) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*`, ...over }] });
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      good = recipe('anonymous-read-prefix.json', B);
      await putPolicy(admin, B, good);
    });

    it.each([
      ['bad JSON', '{"Version": "2012-10-17", "Statement": [}', /^Policies must be valid JSON and the first byte must be '\{': .+/],
      ['an unknown action', statement({ Action: 's3:GetObjekt' }), /^Policy has invalid action: s3:GetObjekt$/],
      ['a resource in another bucket', statement({ Resource: 'arn:aws:s3:::someone-else/*' }), /^Policy has invalid resource: arn:aws:s3:::someone-else\/\* is not bucket strict or an object in it$/],
      ['an account that does not exist', statement({ Principal: { AWS: `arn:aws:iam::${'ab'.repeat(32)}:root` } }), /^Invalid principal in policy: no account has the id (ab){32}$/],
      ['an unknown condition key', statement({ Condition: { StringEquals: { 's3:colour': 'blue' } } }), /^Policy has an invalid condition key: s3:colour$/],
      ['an IAM resource tag key (S3 tags are s3:ExistingObjectTag)', statement({ Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } } }), /^Policy has an invalid condition key: aws:ResourceTag\/team \(IAM resource tags: .*s3:ExistingObjectTag/],
      ['a KMS condition key (cairn has no KMS)', statement({ Condition: { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'k' } } }), /cairn has no KMS, so KMS condition keys never apply/],
      ['an action that does not apply to the resource', statement({ Action: 's3:ListBucket' }), /^Action does not apply to any resource\(s\) in statement: s3:ListBucket$/],
    ])('refuses %s', async (_what, policy, message) => {
      const e = await s3Error(putPolicy(admin, B, policy));
      expect(e.$metadata.httpStatusCode).toBe(400);
      expect(e.name).toBe('MalformedPolicy');
      expect(e.message).toMatch(message);
      expect((await admin.send(new GetBucketPolicyCommand({ Bucket: B }))).Policy).toBe(good);
    });
  });

  // restic removes its lock files: backup-restic.json lets the key delete under locks/ (a delete
  // marker each, on a versioned bucket) and nothing else, S3-CLIENTS.md's ransomware pattern.
  describe.skipIf(!hasClient('restic', ['version']))('backup-restic.json: restic backs up with a key that cannot destroy', () => {
    const B = 'restic-backups';
    let work: string;
    let backup: S3Client;
    let env: NodeJS.ProcessEnv;
    const restic = (...args: string[]) => runOk('restic', args, { env, cwd: work, timeoutMs: 120_000 });
    beforeAll(async () => {
      await admin.send(new CreateBucketCommand({ Bucket: B }));
      await admin.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
      await putPolicy(admin, B, recipe('backup-restic.json', B).replaceAll(BACKUP_KEY, RESTIC_KEY));
      backup = await keyClient(owner, [{ bucket: B, permission: 'write' }], RESTIC_KEY);
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-policy-restic-'));
      fs.mkdirSync(path.join(work, 'tree'));
      env = {
        ...srv.env,
        AWS_ACCESS_KEY_ID: RESTIC_KEY,
        AWS_SECRET_ACCESS_KEY: `secret-of-${RESTIC_KEY}`,
        RESTIC_REPOSITORY: `s3:${srv.url}/${B}`,
        RESTIC_PASSWORD: 'cairn-policy-restic-password',
        RESTIC_CACHE_DIR: path.join(work, 'cache'),
      };
    });
    afterAll(() => {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('init, two backups, check and restore all work with the key', async () => {
      await restic('init');
      fs.writeFileSync(path.join(work, 'tree', 'notes.txt'), 'first\n');
      await restic('backup', 'tree');
      fs.writeFileSync(path.join(work, 'tree', 'notes.txt'), 'second\n');
      await restic('backup', 'tree');
      await restic('check');
      await restic('restore', 'latest', '--target', 'out');
      expect(fs.readFileSync(path.join(work, 'out', 'tree', 'notes.txt'), 'utf8')).toBe('second\n');
    });

    it('the key removed only lock files (delete markers), and can delete nothing else, nor any version', async () => {
      const listed = await backup.send(new ListObjectVersionsCommand({ Bucket: B }));
      const markers = listed.DeleteMarkers ?? [];
      expect(markers.length).toBeGreaterThan(0);
      expect(markers.every((m) => m.Key!.startsWith('locks/'))).toBe(true);
      const snapshot = listed.Versions!.find((v) => v.Key!.startsWith('snapshots/'))!;
      await denied(backup.send(new DeleteObjectCommand({ Bucket: B, Key: snapshot.Key })));
      await denied(backup.send(new DeleteObjectCommand({ Bucket: B, Key: snapshot.Key, VersionId: snapshot.VersionId })));
      const lock = listed.Versions!.find((v) => v.Key!.startsWith('locks/'))!;
      await denied(backup.send(new DeleteObjectCommand({ Bucket: B, Key: lock.Key, VersionId: lock.VersionId })));
      await bulkDenied(backup, B, [{ Key: snapshot.Key! }, { Key: lock.Key!, VersionId: lock.VersionId }]);
    });
  });
});
