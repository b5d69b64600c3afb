// Accounts, keys for accounts and imported key pairs through the admin API, checked through the
// SDK (an imported pair signs requests; its key acts for its account), and what the admin API
// shows of owners, ACLs and policies, to the token and to an account's own key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutBucketAclCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, TEST_ACCESS_KEY, type TestServer } from '../helpers/server.js';
import { buildQuery, signHeaders } from '../../console/src/lib/sigv4.js';

let srv: TestServer;
let root: S3Client;
// The AWS documentation's example pair: the shape a key made by AWS has.
const ALICE_KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const accountIds: Record<string, string> = {};
let bobKey: { accessKeyId: string; secretAccessKey: string };

type Json = { status: number; body: any };

async function api(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(srv.adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${srv.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An admin request signed with a key pair, as the console signs them. */
async function signed(creds: { accessKeyId: string; secretAccessKey: string }, method: string, path: string, opts: { query?: Record<string, string>; body?: unknown } = {}): Promise<Json> {
  const query = opts.query ? buildQuery(opts.query) : '';
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers = signHeaders({ method, path, query, host: new URL(srv.adminUrl).host }, { ...creds, region: 'us-east-1' }, { body });
  const res = await fetch(`${srv.adminUrl}${path}${query ? `?${query}` : ''}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const names = (r: Json) => r.body.buckets.map((b: { name: string }) => b.name);
const clientFor = (creds: { accessKeyId: string; secretAccessKey: string }) => srv.client({ credentials: creds });

beforeAll(async () => {
  srv = await startTestServer();
  root = srv.client();
  await root.send(new CreateBucketCommand({ Bucket: 'root-bucket' }));
  await root.send(new PutObjectCommand({ Bucket: 'root-bucket', Key: 'mine.txt', Body: 'root' }));
});
afterAll(async () => srv?.stop());

describe('accounts over the admin API', () => {
  it('creates accounts with a canonical id; a taken name or email is 409, a bad name 400', async () => {
    const alice = await api('POST', '/v1/accounts', { name: 'alice', email: 'Alice@Example.com' });
    expect(alice.status).toBe(201);
    expect(alice.body).toMatchObject({ name: 'alice', email: 'alice@example.com', root: false, buckets: 0, keys: 0 });
    expect(alice.body.id).toMatch(/^[0-9a-f]{64}$/);
    accountIds.alice = alice.body.id;
    accountIds.bob = (await api('POST', '/v1/accounts', { name: 'bob' })).body.id;
    expect(await api('POST', '/v1/accounts', { name: 'alice' })).toMatchObject({ status: 409, body: { error: { code: 'Conflict', field: 'name' } } });
    expect(await api('POST', '/v1/accounts', { name: 'alice2', email: 'ALICE@example.com' })).toMatchObject({ status: 409, body: { error: { field: 'email' } } });
    expect(await api('POST', '/v1/accounts', { name: 'no spaces' })).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', field: 'name' } } });
    expect(await api('POST', '/v1/accounts', { name: 'x'.repeat(65) })).toMatchObject({ status: 400, body: { error: { field: 'name' } } });
    expect(await api('POST', '/v1/accounts', { name: 'carol', email: 'not-an-address' })).toMatchObject({ status: 400, body: { error: { field: 'email' } } });
    const list = (await api('GET', '/v1/accounts')).body.accounts as Array<{ name: string; root: boolean; buckets: number }>;
    expect(list.map((a) => [a.name, a.root])).toEqual([
      ['root', true],
      ['alice', false],
      ['bob', false],
    ]);
    expect(list[0]!.buckets).toBe(1);
    expect((await api('GET', `/v1/accounts/${accountIds.alice}`)).body.name).toBe('alice');
    expect((await api('GET', '/v1/accounts/nobody')).status).toBe(404);
  });

  it('imports a fixed key pair for an account: requests signed with it work and act for that account', async () => {
    const made = await api('POST', '/v1/keys', { account: 'alice', grants: [{ bucket: '*', permission: 'write' }], description: 'from AWS', ...ALICE_KEY });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id: ALICE_KEY.accessKeyId, secret: ALICE_KEY.secretAccessKey, accountId: accountIds.alice, description: 'from AWS' });
    const alice = clientFor(ALICE_KEY);
    await alice.send(new CreateBucketCommand({ Bucket: 'alice-photos' }));
    await alice.send(new PutObjectCommand({ Bucket: 'alice-photos', Key: 'cat.jpg', Body: 'meow', ContentType: 'image/jpeg' }));
    expect((await bodyOf(await alice.send(new GetObjectCommand({ Bucket: 'alice-photos', Key: 'cat.jpg' })))).toString()).toBe('meow');
    // ListBuckets: each account sees its own buckets only.
    const listed = await alice.send(new ListBucketsCommand({}));
    expect(listed.Buckets!.map((b) => b.Name)).toEqual(['alice-photos']);
    expect(listed.Owner).toMatchObject({ ID: accountIds.alice, DisplayName: 'alice' });
    expect((await root.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual(['root-bucket']);
    // Its '*' grant does not reach another account's bucket.
    expect((await s3Error(alice.send(new GetObjectCommand({ Bucket: 'root-bucket', Key: 'mine.txt' })))).name).toBe('AccessDenied');
    // A wrong secret for the imported id is refused.
    const wrong = clientFor({ accessKeyId: ALICE_KEY.accessKeyId, secretAccessKey: ALICE_KEY.secretAccessKey.replace('K', 'k') });
    expect((await s3Error(wrong.send(new ListBucketsCommand({})))).name).toBe('SignatureDoesNotMatch');
  });

  it('refuses a taken id (another key, the root pair), a bad secret or id, half a pair, an unknown account', async () => {
    const grants = [{ bucket: '*', permission: 'read' }];
    expect(await api('POST', '/v1/keys', { grants, ...ALICE_KEY })).toMatchObject({ status: 409, body: { error: { code: 'Conflict', field: 'accessKeyId' } } });
    expect(await api('POST', '/v1/keys', { grants, accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'some-other-secret' })).toMatchObject({ status: 409, body: { error: { field: 'accessKeyId' } } });
    for (const secretAccessKey of ['short', 'has spaces in it', 'x'.repeat(129), 'ünïcödé-secret']) {
      expect(await api('POST', '/v1/keys', { grants, accessKeyId: 'IMPORTED0001', secretAccessKey }), secretAccessKey).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', field: 'secretAccessKey' } } });
    }
    for (const accessKeyId of ['AB', 'has-dash', 'with space', 'A'.repeat(129)]) {
      expect(await api('POST', '/v1/keys', { grants, accessKeyId, secretAccessKey: 'long-enough-secret' }), accessKeyId).toMatchObject({ status: 400, body: { error: { field: 'accessKeyId' } } });
    }
    expect(await api('POST', '/v1/keys', { grants, accessKeyId: 'IMPORTED0001' })).toMatchObject({ status: 400, body: { error: { field: 'secretAccessKey' } } });
    expect(await api('POST', '/v1/keys', { grants, secretAccessKey: 'long-enough-secret' })).toMatchObject({ status: 400, body: { error: { field: 'accessKeyId' } } });
    expect(await api('POST', '/v1/keys', { grants, account: 'nobody' })).toMatchObject({ status: 400, body: { error: { field: 'account', message: 'no such account: nobody' } } });
    expect((await api('GET', '/v1/keys')).body.keys.map((k: { id: string }) => k.id)).toEqual([ALICE_KEY.accessKeyId]);
  });

  it('lists keys by account; a key without an account is the root account\'s', async () => {
    const made = await api('POST', '/v1/keys', { account: accountIds.bob, grants: [{ bucket: '*', permission: 'write' }] });
    bobKey = { accessKeyId: made.body.id, secretAccessKey: made.body.secret };
    const rootKey = await api('POST', '/v1/keys', { grants: [{ bucket: 'root-bucket', permission: 'read' }] });
    expect(rootKey.body.accountId).toBe((await srv.meta.accounts.root()).id);
    const ids = async (q: string) => (await api('GET', `/v1/keys${q}`)).body.keys.map((k: { id: string }) => k.id);
    expect(await ids('?account=alice')).toEqual([ALICE_KEY.accessKeyId]);
    expect(await ids(`?account=${accountIds.bob}`)).toEqual([bobKey.accessKeyId]);
    expect(await ids('?account=root')).toEqual([rootKey.body.id]);
    expect(await api('GET', '/v1/keys?account=nobody')).toMatchObject({ status: 400, body: { error: { code: 'BadFilter', field: 'account' } } });
    expect(await api('GET', '/v1/keys?acount=alice')).toMatchObject({ status: 400, body: { error: { field: 'acount' } } });
    await api('DELETE', `/v1/keys/${rootKey.body.id}`);
  });

  it('creates a bucket for an owner; lists buckets by owner', async () => {
    const made = await api('POST', '/v1/buckets', { name: 'bob-logs', owner: 'bob' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'bob-logs', owner: { id: accountIds.bob, name: 'bob' }, ownership: 'ObjectWriter', hasPolicy: false, public: false });
    expect(await api('POST', '/v1/buckets', { name: 'nobodys', owner: 'nobody' })).toMatchObject({ status: 400, body: { error: { field: 'owner' } } });
    const names = async (q: string) => (await api('GET', `/v1/buckets${q}`)).body.buckets.map((b: { name: string }) => b.name);
    expect(await names('')).toEqual(['alice-photos', 'bob-logs', 'root-bucket']);
    expect(await names('?owner=bob')).toEqual(['bob-logs']);
    expect(await names(`?owner=${accountIds.alice}`)).toEqual(['alice-photos']);
    expect(await names('?owner=nobody')).toEqual([]);
    expect(await api('GET', '/v1/buckets?color=red')).toMatchObject({ status: 400, body: { error: { field: 'color' } } });
    // Bob's key sees it over S3, as its own.
    expect((await clientFor(bobKey).send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual(['bob-logs']);
  });

  it('refuses to delete the root account and one that owns buckets; deleting one removes its keys', async () => {
    expect(await api('DELETE', '/v1/accounts/alice')).toMatchObject({ status: 409, body: { error: { code: 'Conflict', message: 'account alice owns buckets: delete them first' } } });
    expect(await api('DELETE', '/v1/accounts/root')).toMatchObject({ status: 409, body: { error: { code: 'Conflict' } } });
    expect((await api('DELETE', '/v1/accounts/nobody')).status).toBe(404);
    const carol = (await api('POST', '/v1/accounts', { name: 'carol' })).body;
    const key = (await api('POST', '/v1/keys', { account: 'carol', grants: [{ bucket: '*', permission: 'write' }] })).body;
    const s3 = clientFor({ accessKeyId: key.id, secretAccessKey: key.secret });
    expect((await s3.send(new ListBucketsCommand({}))).Buckets).toEqual([]);
    expect((await api('DELETE', `/v1/accounts/${carol.id}`)).status).toBe(204);
    expect((await s3Error(s3.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    expect((await api('GET', '/v1/keys?account=carol')).status).toBe(400);
  });
});

describe('owners, ACLs and policies in the records', () => {
  beforeAll(async () => {
    const alice = clientFor(ALICE_KEY);
    // Bob may write into alice's bucket (ObjectWriter: what he writes is his).
    await alice.send(new PutBucketAclCommand({ Bucket: 'alice-photos', GrantFullControl: `id="${accountIds.alice}"`, GrantWrite: `id="${accountIds.bob}"` }));
    await clientFor(bobKey).send(new PutObjectCommand({ Bucket: 'alice-photos', Key: 'from-bob.txt', Body: 'hi alice' }));
  });

  it('an object names its owner; owner= filters the search', async () => {
    expect((await api('GET', '/v1/objects/alice-photos/from-bob.txt')).body.owner).toEqual({ id: accountIds.bob, name: 'bob' });
    expect((await api('GET', '/v1/objects/alice-photos/cat.jpg')).body.owner).toEqual({ id: accountIds.alice, name: 'alice' });
    const keys = async (q: string) => (await api('GET', `/v1/objects?${q}`)).body.objects.map((o: { bucket: string; key: string }) => `${o.bucket}/${o.key}`);
    expect(await keys('owner=bob')).toEqual(['alice-photos/from-bob.txt']);
    expect(await keys('owner=alice')).toEqual(['alice-photos/cat.jpg']);
    expect(await keys(`owner=${accountIds.alice}&bucket=alice-photos`)).toEqual(['alice-photos/cat.jpg']);
    expect(await keys('owner=root')).toEqual(['root-bucket/mine.txt']);
    expect(await keys('owner=nobody')).toEqual([]);
  });

  it('GET /v1/buckets/{name}/acl and /v1/objects/{b}/{k}?acl name owners and grantees', async () => {
    const acl = await api('GET', '/v1/buckets/alice-photos/acl');
    expect(acl.body).toEqual({
      bucket: 'alice-photos',
      ownership: 'ObjectWriter',
      public: false,
      owner: { id: accountIds.alice, name: 'alice' },
      // Header grants in the order S3 lists the headers: WRITE before FULL_CONTROL.
      grants: [
        { grantee: { type: 'CanonicalUser', id: accountIds.bob, name: 'bob' }, permission: 'WRITE' },
        { grantee: { type: 'CanonicalUser', id: accountIds.alice, name: 'alice' }, permission: 'FULL_CONTROL' },
      ],
    });
    const obj = await api('GET', '/v1/objects/alice-photos/from-bob.txt?acl');
    expect(obj.body).toEqual({
      bucket: 'alice-photos',
      key: 'from-bob.txt',
      versionId: 'null',
      owner: { id: accountIds.bob, name: 'bob' },
      grants: [{ grantee: { type: 'CanonicalUser', id: accountIds.bob, name: 'bob' }, permission: 'FULL_CONTROL' }],
    });
    expect((await api('GET', '/v1/objects/alice-photos/nothing?acl')).status).toBe(404);
    expect((await api('GET', '/v1/objects/alice-photos/cat.jpg?acl=yes')).status).toBe(400);
    expect((await api('GET', '/v1/buckets/no-such-bucket/acl')).status).toBe(404);
  });

  it('GET /v1/buckets/{name}/policy shows the policy and whether it is public; summaries say hasPolicy and public', async () => {
    expect((await api('GET', '/v1/buckets/alice-photos/policy')).body).toEqual({ bucket: 'alice-photos', policy: null, isPublic: false });
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'Cats', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-photos/*' }] };
    await clientFor(ALICE_KEY).send(new PutBucketPolicyCommand({ Bucket: 'alice-photos', Policy: JSON.stringify(policy) }));
    expect((await api('GET', '/v1/buckets/alice-photos/policy')).body).toEqual({ bucket: 'alice-photos', policy, isPublic: true });
    const summary = (await api('GET', '/v1/buckets?owner=alice')).body.buckets[0];
    expect(summary).toMatchObject({ name: 'alice-photos', hasPolicy: true, public: true, ownership: 'ObjectWriter' });
  });
});

describe('an account\'s key on the admin API', () => {
  it('sees and changes only what its account may', async () => {
    expect(names(await signed(ALICE_KEY, 'GET', '/v1/buckets'))).toEqual(['alice-photos']);
    // Store-wide views need every bucket: root-bucket is not alice's.
    expect((await signed(ALICE_KEY, 'GET', '/v1/stats')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/config')).body).toMatchObject({ principal: { kind: 'key', account: { id: accountIds.alice, name: 'alice' } }, can: { seeAll: false, manageBuckets: true } });
    expect((await signed(ALICE_KEY, 'GET', '/v1/objects')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/objects', { query: { bucket: 'root-bucket' } })).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/objects', { query: { bucket: 'alice-photos' } })).body.objects).toHaveLength(2);
    expect((await signed(ALICE_KEY, 'GET', '/v1/list', { query: { bucket: 'root-bucket' } })).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/objects/root-bucket/mine.txt')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/buckets/root-bucket/acl')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/buckets/alice-photos/policy')).status).toBe(200);
    expect((await signed(ALICE_KEY, 'PUT', '/v1/buckets/root-bucket/public', { body: { public: true } })).status).toBe(403);
    expect((await signed(ALICE_KEY, 'DELETE', '/v1/buckets/bob-logs')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'PUT', '/v1/buckets/root-bucket/cors', { body: { origins: ['http://x.test'] } })).status).toBe(403);
    expect((await signed(ALICE_KEY, 'GET', '/v1/accounts')).status).toBe(403);
    expect((await signed(ALICE_KEY, 'POST', '/v1/buckets', { body: { name: 'for-root', owner: 'root' } })).status).toBe(403);
    const made = await signed(ALICE_KEY, 'POST', '/v1/buckets', { body: { name: 'alice-made' } });
    expect(made).toMatchObject({ status: 201, body: { owner: { id: accountIds.alice, name: 'alice' } } });
    expect((await signed(ALICE_KEY, 'DELETE', '/v1/buckets/alice-made')).status).toBe(204);
    expect((await api('GET', '/v1/buckets/root-bucket/policy')).status).toBe(200);
  });

  it('a writer reads the ACL of what it owns, not the bucket it may only write to', async () => {
    expect((await signed(bobKey, 'GET', '/v1/objects/alice-photos/from-bob.txt')).status).toBe(403);
    expect((await signed(bobKey, 'GET', '/v1/objects/alice-photos/from-bob.txt', { query: { acl: '' } })).body.owner).toEqual({ id: accountIds.bob, name: 'bob' });
    expect((await signed(bobKey, 'GET', '/v1/objects/alice-photos/cat.jpg', { query: { acl: '' } })).status).toBe(403);
    expect((await signed(bobKey, 'GET', '/v1/objects/root-bucket/mine.txt', { query: { acl: '' } })).status).toBe(403);
    expect(names(await signed(bobKey, 'GET', '/v1/buckets'))).toEqual(['bob-logs']);
  });
});
