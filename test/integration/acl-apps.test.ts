import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { addAccount, rootAccountId, type TestAccount } from '../helpers/accounts.js';
import { s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Applications that publish through object ACLs, with the JS SDK as their S3 library (issue 19:
// a PutObject with `x-amz-acl: public-read` used to succeed and leave the object private).
// - Mastodon uploads media with public-read and serves its URL straight to browsers; suspending
//   an account flips the ACL to private with PutObjectAcl, unsuspending back to public-read.
// - The Docker registry's S3 driver sends its configured `objectacl` (private by default, or
//   bucket-owner-full-control when it writes into another account's bucket) on every PutObject,
//   CreateMultipartUpload and CopyObject (its Move).

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const MiB = 1024 * 1024;

describe('apps that publish with object ACLs (Mastodon, the Docker registry) through the SDK', () => {
  let srv: TestServer;
  let s3: S3Client;
  let rootId: string;
  let registry: TestAccount;
  const image = randomBytes(40_000);

  /** What a browser does with a media URL: no credentials, no signature. */
  const browser = async (key: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${srv.url}/media/${key}`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
  };
  const grants = async (Bucket: string, Key: string) => (await s3.send(new GetObjectAclCommand({ Bucket, Key }))).Grants;
  const full = (id: string, name: string) => ({ Grantee: { Type: 'CanonicalUser', ID: id, DisplayName: name }, Permission: 'FULL_CONTROL' });

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB' });
    s3 = srv.client();
    rootId = await rootAccountId(srv);
    registry = await addAccount(srv, 'registry');
    await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  });

  afterAll(async () => {
    await srv?.stop();
  });

  it('Mastodon: PutObject public-read -> the URL serves the bytes; PutObjectAcl private -> 403; public-read again -> 200', async () => {
    const Key = 'media_attachments/files/110/original/a1b2.png';
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key, Body: image, ACL: 'public-read', ContentType: 'image/png', CacheControl: 'public, max-age=315576000, immutable' }));
    const got = await browser(Key);
    expect(got.status).toBe(200);
    expect(got.type).toBe('image/png');
    expect(got.body.equals(image)).toBe(true);
    // Video players and media proxies ask for ranges.
    const part = await browser(Key, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.body.equals(image.subarray(100, 200))).toBe(true);
    expect(await grants('media', Key)).toEqual([full(rootId, 'root'), { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }]);

    // The account is suspended: its media go private.
    await s3.send(new PutObjectAclCommand({ Bucket: 'media', Key, ACL: 'private' }));
    expect((await browser(Key)).status).toBe(403);
    expect(await grants('media', Key)).toEqual([full(rootId, 'root')]);
    // Unsuspended.
    await s3.send(new PutObjectAclCommand({ Bucket: 'media', Key, ACL: 'public-read' }));
    expect((await browser(Key)).body.equals(image)).toBe(true);
    // Public objects do not make the bucket listable.
    expect((await fetch(`${srv.url}/media?list-type=2`)).status).toBe(403);
  });

  it('Mastodon: a large video through lib-storage (multipart) with public-read is public once complete', async () => {
    const video = randomBytes(12 * MiB);
    const Key = 'media_attachments/files/110/original/clip.mp4';
    await new Upload({ client: s3, params: { Bucket: 'media', Key, Body: video, ACL: 'public-read', ContentType: 'video/mp4' } }).done();
    const got = await browser(Key);
    expect(got.status).toBe(200);
    expect(got.body.equals(video)).toBe(true);
  });

  it('Mastodon: a new PUT over a public key without an ACL makes it private (each version has its own ACL)', async () => {
    const Key = 'accounts/avatars/1/original/me.png';
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key, Body: image, ACL: 'public-read' }));
    expect((await browser(Key)).status).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key, Body: Buffer.from('replaced') }));
    expect((await browser(Key)).status).toBe(403);
  });

  it("Docker registry: PutObject with x-amz-acl private and bucket-owner-full-control, in its own bucket", async () => {
    const r = registry.client();
    await r.send(new CreateBucketCommand({ Bucket: 'registry', ACL: 'private' }));
    const blob = 'docker/registry/v2/blobs/sha256/ab/abcd/data';
    await r.send(new PutObjectCommand({ Bucket: 'registry', Key: blob, Body: image, ACL: 'private' }));
    await r.send(new PutObjectCommand({ Bucket: 'registry', Key: `${blob}.owner-full`, Body: image, ACL: 'bucket-owner-full-control' }));
    const acl = async (Key: string) => (await r.send(new GetObjectAclCommand({ Bucket: 'registry', Key }))).Grants;
    // The writer is the bucket owner: one FULL_CONTROL grant either way.
    expect(await acl(blob)).toEqual([full(registry.id, 'registry')]);
    expect(await acl(`${blob}.owner-full`)).toEqual([full(registry.id, 'registry')]);
    expect((await fetch(`${srv.url}/registry/${blob}`)).status).toBe(403);
    // The root key is the operator's: it acts as the owner of every bucket (docs/policies.md).
    expect((await s3.send(new GetObjectAclCommand({ Bucket: 'registry', Key: blob }))).Grants).toEqual([full(registry.id, 'registry')]);
  });

  it("Docker registry: uploads, a Move (CopyObject) and a multipart blob into another account's bucket with bucket-owner-full-control", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'shared-registry' }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'shared-registry', GrantFullControl: `id=${rootId}`, GrantWrite: `id=${registry.id}` }));
    const r = registry.client();
    const upload = 'docker/registry/v2/repositories/app/_uploads/u1/data';
    await r.send(new PutObjectCommand({ Bucket: 'shared-registry', Key: upload, Body: image, ACL: 'bucket-owner-full-control' }));
    expect(await grants('shared-registry', upload)).toEqual([full(registry.id, 'registry'), full(rootId, 'root')]);

    const blob = 'docker/registry/v2/blobs/sha256/cd/cdef/data';
    await r.send(new CopyObjectCommand({ Bucket: 'shared-registry', Key: blob, CopySource: `shared-registry/${upload}`, ACL: 'bucket-owner-full-control' }));
    expect(await grants('shared-registry', blob)).toEqual([full(registry.id, 'registry'), full(rootId, 'root')]);

    const layer = randomBytes(11 * MiB);
    const layerKey = 'docker/registry/v2/blobs/sha256/ef/ef01/data';
    await new Upload({ client: r, params: { Bucket: 'shared-registry', Key: layerKey, Body: layer, ACL: 'bucket-owner-full-control' } }).done();
    expect(await grants('shared-registry', layerKey)).toEqual([full(registry.id, 'registry'), full(rootId, 'root')]);

    // x-amz-acl: private from the other account: the bucket owner gets no grant (it keeps the
    // owner's rights over everything in its bucket), the writer keeps FULL_CONTROL.
    const priv = 'docker/registry/v2/repositories/app/_manifests/tags/latest/current/link';
    await r.send(new PutObjectCommand({ Bucket: 'shared-registry', Key: priv, Body: 'sha256:cdef', ACL: 'private' }));
    expect(await grants('shared-registry', priv)).toEqual([full(registry.id, 'registry')]);
  });

  it('a public bucket policy: GetBucketPolicyStatus parses in the SDK and says IsPublic true', async () => {
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/public/*' }],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'media', Policy }));
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'media' }))).PolicyStatus).toEqual({ IsPublic: true });
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'public/banner.png', Body: image }));
    expect((await browser('public/banner.png')).body.equals(image)).toBe(true);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'media' }));
    expect((await browser('public/banner.png')).status).toBe(403);
  });
});
