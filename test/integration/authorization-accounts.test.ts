import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { KEYS, Wire, bucketState, createAccounts, type Accounts, type KeyPair, type WireRequest, type WireResponse } from '../helpers/authz-wire.js';

// The account-level rows of the authorization table on the wire: the service operations per
// caller, x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner, 403 or 404 for a
// missing object, GetObject against GetObjectVersion in a policy, and a key whose only grant is
// on another bucket.

const ROOT: KeyPair = { id: TEST_ACCESS_KEY, secret: TEST_SECRET };
const VERSIONING_ON = '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>';
const ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';

const names = (r: WireResponse) => [...r.text.matchAll(/<Bucket><Name>([^<]+)<\/Name>/g)].map((m) => m[1]);
const ownerId = (r: WireResponse) => /<Owner><ID>([^<]+)<\/ID>/.exec(r.text)?.[1];
const answer = (r: WireResponse) => ({ status: r.status, code: r.code });

describe('authorization by account: service operations, expected owners, missing objects', () => {
  let srv: TestServer;
  let wire: Wire;
  let acct: Accounts;
  const O = KEYS.owner;
  const send = (as: KeyPair | undefined, r: WireRequest) => wire.send(as, r);

  beforeAll(async () => {
    srv = await startTestServer();
    wire = new Wire(srv.port);
    acct = await createAccounts(srv);
    for (const bucket of ['acct-a', 'acct-a2']) await wire.ok(O, { method: 'PUT', bucket });
    await wire.ok(KEYS.other, { method: 'PUT', bucket: 'acct-b' });
    await wire.ok(ROOT, { method: 'PUT', bucket: 'acct-root' });
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a', query: 'versioning', body: VERSIONING_ON });
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a', key: 'private.txt', body: 'private' });
  });

  afterAll(async () => {
    wire?.close();
    await srv?.stop();
  });

  it('ListBuckets lists the caller account\'s buckets only, and refuses anonymous callers', async () => {
    // caller -> the buckets its listing names, and the Owner it names (403: refused).
    const table: Array<[string, KeyPair | undefined, string[] | 403, string | undefined]> = [
      ['owner', O, ['acct-a', 'acct-a2'], acct.a],
      ['limited (read on every bucket)', KEYS.limited, ['acct-a', 'acct-a2'], acct.a],
      ['other account', KEYS.other, ['acct-b'], acct.b],
      ['root key (the first account)', ROOT, ['acct-root'], undefined],
      ['anonymous', undefined, 403, undefined],
    ];
    for (const [who, as, want, owner] of table) {
      const r = await send(as, { method: 'GET' });
      if (want === 403) {
        expect(answer(r), who).toEqual({ status: 403, code: 'AccessDenied' });
        continue;
      }
      expect(r.status, who).toBe(200);
      expect(names(r), who).toEqual(want);
      if (owner) expect(ownerId(r), who).toBe(owner);
    }
  });

  it('CreateBucket of a taken name: BucketAlreadyOwnedByYou for its account, BucketAlreadyExists for another, 403 without the grant', async () => {
    const table: Array<[string, KeyPair | undefined, number, string]> = [
      ['owner', O, 409, 'BucketAlreadyOwnedByYou'],
      ['limited (no grant to create buckets)', KEYS.limited, 403, 'AccessDenied'],
      ['other account', KEYS.other, 409, 'BucketAlreadyExists'],
      ['root key (the first account)', ROOT, 409, 'BucketAlreadyExists'],
      ['anonymous', undefined, 403, 'AccessDenied'],
    ];
    const before = bucketState(srv.db.sqlite, 'acct-a');
    for (const [who, as, status, code] of table) {
      expect(answer(await send(as, { method: 'PUT', bucket: 'acct-a' })), who).toEqual({ status, code });
    }
    expect(bucketState(srv.db.sqlite, 'acct-a')).toBe(before);
    // A new name belongs to the account that made it.
    await wire.ok(KEYS.other, { method: 'PUT', bucket: 'acct-b2' });
    expect(names(await send(KEYS.other, { method: 'GET' }))).toEqual(['acct-b', 'acct-b2']);
    expect(names(await send(O, { method: 'GET' }))).toEqual(['acct-a', 'acct-a2']);
  });

  it('x-amz-expected-bucket-owner: the right account id passes, another is 403 for a read and a write', async () => {
    const get = (id: string) => send(O, { method: 'GET', bucket: 'acct-a', key: 'private.txt', headers: { 'x-amz-expected-bucket-owner': id } });
    expect((await get(acct.a)).status).toBe(200);
    expect(answer(await get(acct.b))).toEqual({ status: 403, code: 'AccessDenied' });
    const put = (id: string) => send(O, { method: 'PUT', bucket: 'acct-a', key: 'expected.txt', body: 'x', headers: { 'x-amz-expected-bucket-owner': id } });
    const before = bucketState(srv.db.sqlite, 'acct-a');
    expect(answer(await put(acct.b))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(bucketState(srv.db.sqlite, 'acct-a')).toBe(before);
    expect((await put(acct.a)).status).toBe(200);
    // Account B writing where A lets it, but expecting its own bucket: refused.
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a2', query: 'acl', headers: { 'x-amz-grant-full-control': `id=${acct.a}`, 'x-amz-grant-write': `id=${acct.b}` } });
    const putB = (id: string) => send(KEYS.other, { method: 'PUT', bucket: 'acct-a2', key: 'from-b.txt', body: 'b', headers: { 'x-amz-expected-bucket-owner': id } });
    expect(answer(await putB(acct.b))).toEqual({ status: 403, code: 'AccessDenied' });
    expect((await putB(acct.a)).status).toBe(200);
  });

  it('x-amz-source-expected-bucket-owner on CopyObject: the source bucket\'s owner, or 403 and no copy', async () => {
    const copy = (id: string) =>
      send(O, { method: 'PUT', bucket: 'acct-a2', key: 'copied.txt', headers: { 'x-amz-copy-source': 'acct-a/private.txt', 'x-amz-source-expected-bucket-owner': id } });
    const before = bucketState(srv.db.sqlite, 'acct-a2');
    expect(answer(await copy(acct.b))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(bucketState(srv.db.sqlite, 'acct-a2')).toBe(before);
    expect((await copy(acct.a)).status).toBe(200);
  });

  it('a missing object is 404 to whoever may list the bucket and 403 to everyone else', async () => {
    const missing = { method: 'GET', bucket: 'acct-a', key: 'nothing-here.txt' };
    expect(answer(await send(O, missing))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(answer(await send(KEYS.limited, missing))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(answer(await send(KEYS.other, missing))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(answer(await send(undefined, missing))).toEqual({ status: 403, code: 'AccessDenied' });
    expect((await send(KEYS.other, { ...missing, method: 'HEAD' })).status).toBe(403);
    // Bucket READ (listing) to B, then to everyone.
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a', query: 'acl', headers: { 'x-amz-grant-full-control': `id=${acct.a}`, 'x-amz-grant-read': `id=${acct.b}` } });
    expect(answer(await send(KEYS.other, missing))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(answer(await send(undefined, missing))).toEqual({ status: 403, code: 'AccessDenied' });
    expect((await send(KEYS.other, { ...missing, method: 'HEAD' })).status).toBe(404);
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a', query: 'acl', headers: { 'x-amz-grant-full-control': `id=${acct.a}`, 'x-amz-grant-read': ALL_USERS } });
    expect(answer(await send(undefined, missing))).toEqual({ status: 404, code: 'NoSuchKey' });
    // Listing does not mean reading: the object itself stays private.
    expect(answer(await send(KEYS.other, { method: 'GET', bucket: 'acct-a', key: 'private.txt' }))).toEqual({ status: 403, code: 'AccessDenied' });
    await wire.ok(O, { method: 'PUT', bucket: 'acct-a', query: 'acl', headers: { 'x-amz-acl': 'private' } });
  });

  it('a policy allowing s3:GetObject does not allow a GET of a named version (s3:GetObjectVersion)', async () => {
    const put = await wire.ok(O, { method: 'PUT', bucket: 'acct-a', key: 'versioned.txt', body: 'v1' });
    const versionId = String(put.headers['x-amz-version-id']);
    const policy = (action: string) =>
      wire.ok(O, {
        method: 'PUT', bucket: 'acct-a', query: 'policy',
        body: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: acct.b }, Action: action, Resource: 'arn:aws:s3:::acct-a/versioned.txt' }] }),
      });
    const plain = { method: 'GET', bucket: 'acct-a', key: 'versioned.txt' };
    const named = { ...plain, query: `versionId=${versionId}` };
    await policy('s3:GetObject');
    expect((await send(KEYS.other, plain)).status).toBe(200);
    expect(answer(await send(KEYS.other, named))).toEqual({ status: 403, code: 'AccessDenied' });
    await policy('s3:GetObjectVersion');
    expect((await send(KEYS.other, named)).status).toBe(200);
    expect(answer(await send(KEYS.other, plain))).toEqual({ status: 403, code: 'AccessDenied' });
    await wire.ok(O, { method: 'DELETE', bucket: 'acct-a', query: 'policy' });
  });

  it('a key whose only grant is on another bucket can do nothing with its account\'s other buckets', async () => {
    const elsewhere: KeyPair = { id: 'AKIAELSEWHERE0000001', secret: 'elsewhereSecret/00000000000000000000001' };
    await srv.meta.keys.create({ accountId: acct.a, grants: [{ bucket: 'acct-a2', permission: 'write' }], accessKeyId: elsewhere.id, secretAccessKey: elsewhere.secret });
    const refused: WireRequest[] = [
      { method: 'GET', bucket: 'acct-a', query: 'list-type=2' },
      { method: 'GET', bucket: 'acct-a', key: 'private.txt' },
      { method: 'GET', bucket: 'acct-a', query: 'acl' },
      { method: 'PUT', bucket: 'acct-a', key: 'from-elsewhere.txt', body: 'x' },
      { method: 'PUT', bucket: 'acct-a2', key: 'copy.txt', headers: { 'x-amz-copy-source': 'acct-a/private.txt' } },
      { method: 'PUT', bucket: 'acct-a3' },
    ];
    const before = [bucketState(srv.db.sqlite, 'acct-a'), bucketState(srv.db.sqlite, 'acct-a2')];
    for (const r of refused) expect(answer(await send(elsewhere, r)), `${r.method} ${r.bucket}/${r.key ?? ''}?${r.query ?? ''}`).toEqual({ status: 403, code: 'AccessDenied' });
    expect((await send(elsewhere, { method: 'HEAD', bucket: 'acct-a' })).status).toBe(403);
    expect([bucketState(srv.db.sqlite, 'acct-a'), bucketState(srv.db.sqlite, 'acct-a2')]).toEqual(before);
    expect(bucketState(srv.db.sqlite, 'acct-a3')).toBe('no such bucket');
    // Its own bucket works, and it is the only one its listing shows.
    expect((await send(elsewhere, { method: 'PUT', bucket: 'acct-a2', key: 'mine.txt', body: 'ok' })).status).toBe(200);
    expect(names(await send(elsewhere, { method: 'GET' }))).toEqual(['acct-a2']);
  });
});
