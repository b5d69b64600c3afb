import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { crc32c } from '../../src/s3/checksums.js';
import { loadAdminToken } from '../../src/admin/token.js';
import { bucketSummaries, storeStats, type BucketSummary, type ChunkRecord, type ObjectRecord, type ObjectSummary, type StoreStats } from '../../src/db/records/index.js';

// The admin listener end to end: token, /health, /metrics moving with S3 traffic, and records
// that match what the SDK uploaded (sizes, ETags, checksums, metadata, chunk lists).

const KiB = 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

let srv: TestServer;
let s3: S3Client;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format: every line a comment, blank, or `name{labels} value`. */
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function api<T = unknown>(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const token = init.token === undefined ? srv.adminToken : init.token;
  const res = await fetch(srv.adminUrl + path, {
    ...init,
    headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

async function metrics(): Promise<(name: string, labels?: Record<string, string>) => number> {
  const res = await fetch(srv.adminUrl + '/metrics', { headers: { authorization: `Bearer ${srv.adminToken}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parseProm(await res.text());
  return (name, labels = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

beforeAll(async () => {
  srv = await startTestServer({ chunkSize: '64KiB' });
  s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'records' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'other' }));
});

afterAll(async () => {
  await srv?.stop();
});

describe('admin listener', () => {
  it('listens on its own port, on loopback', () => {
    expect(srv.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.adminUrl).not.toBe(srv.url);
    expect(srv.adminToken.length).toBeGreaterThanOrEqual(16);
  });

  it('generates the token once into <dataDir>/admin-token (0600); CAIRN_ADMIN_TOKEN wins', async () => {
    const file = path.join(srv.dataDir, 'admin-token');
    expect(srv.adminTokenGenerated).toBe(true);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(srv.adminToken);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // The next start (same data dir) keeps it and does not print it again.
    expect(loadAdminToken(srv.dataDir)).toEqual({ token: srv.adminToken, generated: false });
    const given = await startTestServer({ adminToken: 'a-configured-admin-token-123' });
    try {
      expect(given).toMatchObject({ adminToken: 'a-configured-admin-token-123', adminTokenGenerated: false });
      expect(fs.existsSync(path.join(given.dataDir, 'admin-token'))).toBe(false);
      expect((await fetch(given.adminUrl + '/v1/buckets', { headers: { authorization: 'Bearer a-configured-admin-token-123' } })).status).toBe(200);
    } finally {
      await given.stop();
    }
  });

  it('GET /health needs no token', async () => {
    const r = await api('/health', { token: null });
    expect(r).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('everything else needs the bearer token (401 JSON, nothing leaked)', async () => {
    for (const path of ['/v1/buckets', '/v1/objects', '/v1/stats', '/metrics', '/v1/nothing']) {
      for (const token of [null, 'wrong-token', srv.adminToken + 'x', srv.adminToken.slice(0, -1)]) {
        const r = await api<{ error: { code: string } }>(path, { token });
        expect(r.status, `${path} ${token}`).toBe(401);
        expect(r.body.error.code).toBe('Unauthorized');
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    const basic = await fetch(srv.adminUrl + '/v1/buckets', { headers: { authorization: `Basic ${srv.adminToken}` } });
    expect(basic.status).toBe(401);
  });

  it('unknown endpoints and methods answer JSON errors', async () => {
    expect(await api('/v2/buckets')).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
    expect(await api('/v1/stats', { method: 'POST' })).toMatchObject({ status: 405, body: { error: { code: 'MethodNotAllowed' } } });
  });
});

describe('records match what the SDK uploaded', () => {
  const data = randomBytes(200 * KiB + 123);
  const weirdKey = 'dir/sub dir/ü+%2F?#&=.txt';
  let putEtag: string;
  let putCrc: string;

  beforeAll(async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'records', Key: weirdKey, Body: data, ContentType: 'application/x-test', Metadata: { color: 'red', 'project-id': '42' }, CacheControl: 'no-store' }),
    );
    putEtag = put.ETag!;
    putCrc = put.ChecksumCRC32!;
    await s3.send(new CopyObjectCommand({ Bucket: 'other', Key: 'copy', CopySource: `records/${encodeURIComponent(weirdKey)}` }));
    for (let i = 0; i < 30; i++) {
      await s3.send(new PutObjectCommand({ Bucket: 'records', Key: `many/${String(i).padStart(3, '0')}`, Body: randomBytes(i * 100), ContentType: i % 2 ? 'text/plain' : 'image/png', Metadata: { n: String(i % 3) } }));
    }
  });

  it('GET /v1/objects lists them with sizes, ETags, checksums and metadata', async () => {
    const r = await api<{ objects: ObjectSummary[]; nextCursor?: string }>(`/v1/objects?bucket=records&prefix=${encodeURIComponent('dir/')}`);
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeUndefined();
    expect(r.body.objects).toHaveLength(1);
    expect(r.body.objects[0]).toMatchObject({
      bucket: 'records',
      key: weirdKey,
      size: data.length,
      etag: putEtag,
      contentType: 'application/x-test',
      storageClass: 'STANDARD',
      checksumAlgorithm: 'CRC32',
      checksumValue: putCrc,
      checksumType: 'FULL_OBJECT',
      partCount: null,
      metadata: { color: 'red', 'project-id': '42' },
    });
    expect(Date.now() - Date.parse(r.body.objects[0]!.lastModified)).toBeLessThan(60_000);
  });

  it('filters, sorts and pages over HTTP', async () => {
    const q = (s: string) => api<{ objects: ObjectSummary[]; nextCursor?: string }>(`/v1/objects?${s}`);
    expect((await q('bucket=records&prefix=many/&minSize=1000&maxSize=1999')).body.objects.map((o) => o.key)).toEqual(
      ['many/010', 'many/011', 'many/012', 'many/013', 'many/014', 'many/015', 'many/016', 'many/017', 'many/018', 'many/019'],
    );
    expect((await q('contentType=image/png&meta.n=0&bucket=records&sort=size&order=desc&limit=3')).body.objects.map((o) => o.key)).toEqual(['many/024', 'many/018', 'many/012']);
    expect((await q('contains=%2F00')).body.objects.map((o) => o.key)).toEqual(Array.from({ length: 10 }, (_, i) => `many/00${i}`));
    expect((await q(`meta.color=red`)).body.objects.map((o) => `${o.bucket}/${o.key}`)).toEqual([`other/copy`, `records/${weirdKey}`]);
    // Paging by 7 over the 30 'many/' objects.
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await q(`prefix=many/&sort=modified&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      keys.push(...page.body.objects.map((o) => o.key));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect([...keys].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `many/${String(i).padStart(3, '0')}`));
  });

  it('bad filters answer 400 naming the field', async () => {
    for (const [qs, field] of [
      ['minSize=big', 'minSize'],
      ['modifiedAfter=last-tuesday', 'modifiedAfter'],
      ['limit=5000', 'limit'],
      ['sort=color', 'sort'],
      ['cursor=xyz', 'cursor'],
      ['colour=red', 'colour'],
      ['bucket=records&bucket=other', 'bucket'],
      ['checksumAlgorithm=md5', 'checksumAlgorithm'],
    ] as const) {
      const r = await api<{ error: { code: string; field: string; message: string } }>(`/v1/objects?${qs}`);
      expect(r.status, qs).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'BadFilter', field });
      expect(r.body.error.message).not.toMatch(/\/(tmp|work|home)\//);
    }
  });

  it('GET /v1/objects/{bucket}/{key} gives the chunk list: SHA-256 and CRC32C of each slice, shared chunks', async () => {
    const r = await api<ObjectRecord>(`/v1/objects/records/${encodeKey(weirdKey)}`);
    expect(r.status).toBe(200);
    const rec = r.body;
    expect(rec).toMatchObject({ key: weirdKey, size: data.length, etag: putEtag, cacheControl: 'no-store', contentEncoding: null, parts: [] });
    expect(rec.chunks).toHaveLength(4);
    let offset = 0;
    for (const [i, c] of rec.chunks.entries()) {
      const slice = data.subarray(c.offset, c.offset + c.size);
      expect(c).toMatchObject({ seq: i, offset, sha256: sha256(slice), crc32c: crc32c(slice), refcount: 2, shared: true });
      offset += c.size;
    }
    expect(offset).toBe(data.length);
    const copy = (await api<ObjectRecord>('/v1/objects/other/copy')).body;
    expect(copy.chunks.map((c) => c.sha256)).toEqual(rec.chunks.map((c) => c.sha256));
  });

  it('keys with slashes, doubled slashes and encoded characters survive the path', async () => {
    for (const key of ['x//y', '/leading', 'trailing/', 'a%2Fb', 'sp ace+plus']) {
      await s3.send(new PutObjectCommand({ Bucket: 'records', Key: key, Body: key }));
      const r = await api<ObjectRecord>(`/v1/objects/records/${encodeKey(key)}`);
      expect(r.status, key).toBe(200);
      expect(r.body.key).toBe(key);
    }
    expect(await api('/v1/objects/records/no-such-key')).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
    expect(await api('/v1/objects/nobucket/x')).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
  });

  it('GET /v1/chunks/{sha256} names the objects that reference a chunk', async () => {
    const rec = (await api<ObjectRecord>(`/v1/objects/records/${encodeKey(weirdKey)}`)).body;
    const first = rec.chunks[0]!;
    const r = await api<ChunkRecord>(`/v1/chunks/${first.sha256}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ sha256: first.sha256, size: first.size, crc32c: first.crc32c, refcount: 2, uploads: [] });
    expect(r.body.objects).toEqual(
      expect.arrayContaining([
        { bucket: 'records', key: weirdKey, versionId: 'null', seq: 0, offset: 0 },
        { bucket: 'other', key: 'copy', versionId: 'null', seq: 0, offset: 0 },
      ]),
    );
    expect(await api(`/v1/chunks/${'0'.repeat(64)}`)).toMatchObject({ status: 404 });
    expect(await api('/v1/chunks/not-a-hash')).toMatchObject({ status: 400, body: { error: { code: 'BadFilter', field: 'sha256' } } });
  });

  it('a multipart object records its parts', async () => {
    const body = randomBytes(6 * 1024 * KiB);
    await new Upload({ client: s3, params: { Bucket: 'records', Key: 'mp/big', Body: body }, partSize: 5 * 1024 * KiB, queueSize: 1 }).done();
    const rec = (await api<ObjectRecord>('/v1/objects/records/mp/big')).body;
    expect(rec.partCount).toBe(2);
    expect(rec.etag).toMatch(/-2"$/);
    expect(rec.parts.map((p) => [p.partNumber, p.offset, p.size])).toEqual([
      [1, 0, 5 * 1024 * KiB],
      [2, 5 * 1024 * KiB, 1024 * KiB],
    ]);
    expect(rec.chunks.reduce((a, c) => a + c.size, 0)).toBe(body.length);
  });

  it('GET /v1/buckets and /v1/stats add up', async () => {
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'other', Key: 'open' }));
    try {
      const buckets = (await api<{ buckets: BucketSummary[] }>('/v1/buckets')).body.buckets;
      const records = (await api<{ objects: ObjectSummary[] }>('/v1/objects?bucket=records&limit=1000')).body.objects;
      const rec = buckets.find((b) => b.name === 'records')!;
      expect(rec).toMatchObject({ region: 'us-east-1', public: false, objects: records.length, logicalBytes: records.reduce((a, o) => a + o.size, 0) });
      expect(rec.physicalBytes).toBeLessThanOrEqual(rec.logicalBytes);
      const other = buckets.find((b) => b.name === 'other')!;
      expect(other).toMatchObject({ objects: 1, logicalBytes: data.length, physicalBytes: data.length });
      const stats = (await api<StoreStats & { pool: Record<string, number> }>('/v1/stats')).body;
      expect(stats).toMatchObject({ buckets: 2, objects: records.length + 1, logicalBytes: rec.logicalBytes + other.logicalBytes, multipartUploads: 1 });
      // The copy shares every chunk: physical < logical.
      expect(stats.physicalBytes).toBe(rec.physicalBytes);
      expect(stats.dedupRatio).toBeCloseTo(stats.logicalBytes / stats.physicalBytes, 2);
      expect(stats.dedupRatio).toBeGreaterThan(1);
      expect(stats.pool).toEqual({ total: 16, free: 16, inUse: 0, waiters: 0, bufferSize: 64 * KiB });
      // The API runs these sums on a worker thread with its own connection: same numbers as in-process.
      expect(buckets).toEqual(bucketSummaries(srv.db.db));
      // No lifecycle pass yet (docs/lifecycle.md): null.
      const { pool: _pool, lifecycle, engine, gateways, ...totals } = stats as typeof stats & { lifecycle: unknown; engine: string; gateways: unknown };
      expect(lifecycle).toBeNull();
      // One gateway (this server) in the registry, alive.
      expect(engine).toBe('sqlite');
      expect(gateways).toEqual([expect.objectContaining({ id: srv.gatewayId, s3Url: srv.url, adminUrl: srv.adminUrl, pid: process.pid, state: 'alive' })]);
      expect(totals).toEqual(storeStats(srv.db.db));
    } finally {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'other', Key: 'open', UploadId: upload.UploadId! }));
    }
  });
});

describe('versions, delete markers and locks in the records', () => {
  const ids: Record<string, string> = {};
  let until: Date;
  type Page = { objects: ObjectSummary[]; nextCursor?: string };

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
    until = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
    ids.v1 = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc.txt', Body: 'first', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }))).VersionId!;
    ids.v2 = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc.txt', Body: 'second version' }))).VersionId!;
    ids.held = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'held.txt', Body: 'held' }))).VersionId!;
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: 'locked', Key: 'held.txt', VersionId: ids.held, LegalHold: { Status: 'ON' } }));
    ids.marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'held.txt' }))).VersionId!;
  });

  it('GET /v1/objects: current objects by default; versions=true every version and marker; locked=true the locked ones', async () => {
    const current = (await api<Page>('/v1/objects?bucket=locked')).body.objects;
    expect(current.map((o) => [o.key, o.versionId, o.isLatest, o.deleteMarker])).toEqual([['doc.txt', ids.v2, true, false]]);
    const all = (await api<Page>('/v1/objects?bucket=locked&versions=true')).body.objects;
    expect(all.map((o) => [o.key, o.versionId, o.isLatest, o.deleteMarker, o.size])).toEqual([
      ['doc.txt', ids.v2, true, false, 14],
      ['doc.txt', ids.v1, false, false, 5],
      ['held.txt', ids.marker, true, true, 0],
      ['held.txt', ids.held, false, false, 4],
    ]);
    expect(all[1]!.lock).toEqual({ mode: 'GOVERNANCE', retainUntil: until.toISOString(), legalHold: false });
    expect(all[3]!.lock).toEqual({ mode: null, retainUntil: null, legalHold: true });
    const locked = (await api<Page>('/v1/objects?versions=true&locked=true')).body.objects;
    expect(locked.map((o) => o.versionId)).toEqual([ids.v1, ids.held]);
    expect((await api<Page>('/v1/objects?bucket=locked&locked=true')).body.objects).toEqual([]);
    expect((await api<Page>('/v1/objects?bucket=locked&versions=true&locked=false')).body.objects.map((o) => o.versionId)).toEqual([ids.v2, ids.marker]);
    // Paging one by one through a key's versions.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await api<Page>(`/v1/objects?bucket=locked&versions=true&order=desc&limit=1${cursor ? `&cursor=${cursor}` : ''}`)).body;
      paged.push(...page.objects.map((o) => o.versionId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual([ids.held, ids.marker, ids.v1, ids.v2]);
    for (const qs of ['versions=yes', 'locked=1']) {
      expect(await api(`/v1/objects?${qs}`)).toMatchObject({ status: 400, body: { error: { code: 'BadFilter', field: qs.split('=')[0] } } });
    }
  });

  it('GET /v1/objects/{bucket}/{key}?versionId= gives that version, its lock and the key\'s versions', async () => {
    const rec = (await api<ObjectRecord>(`/v1/objects/locked/doc.txt?versionId=${ids.v1}`)).body;
    expect(rec).toMatchObject({ versionId: ids.v1, isLatest: false, deleteMarker: false, size: 5, lock: { mode: 'GOVERNANCE', retainUntil: until.toISOString(), legalHold: false } });
    expect(rec.chunks.map((c) => c.size)).toEqual([5]);
    expect(rec.versions.map((v) => [v.versionId, v.isLatest])).toEqual([
      [ids.v2, true],
      [ids.v1, false],
    ]);
    expect((await api<ObjectRecord>('/v1/objects/locked/doc.txt')).body).toMatchObject({ versionId: ids.v2, isLatest: true, size: 14 });
    expect(await api('/v1/objects/locked/held.txt')).toMatchObject({ status: 404, body: { error: { code: 'NotFound', message: 'no such object' } } });
    expect(await api(`/v1/objects/locked/held.txt?versionId=${ids.marker}`)).toMatchObject({ status: 200, body: { deleteMarker: true, isLatest: true, chunks: [] } });
    expect(await api('/v1/objects/locked/doc.txt?versionId=nope')).toMatchObject({ status: 404, body: { error: { message: 'no such version' } } });
    expect(await api('/v1/objects/locked/doc.txt?version=1')).toMatchObject({ status: 400, body: { error: { code: 'BadFilter', field: 'version' } } });
    expect(await api('/v1/objects/locked/doc.txt?versionId=')).toMatchObject({ status: 400, body: { error: { field: 'versionId' } } });
  });

  it('POST /v1/presign signs x-amz-* headers: a presigned CopyObject of an older version restores it (the console\'s restore)', async () => {
    const source = `locked/doc.txt?versionId=${ids.v1}`;
    const presigned = await api<{ url: string }>('/v1/presign', { method: 'POST', body: JSON.stringify({ bucket: 'locked', key: 'doc.txt', method: 'PUT', headers: { 'x-amz-copy-source': source } }) });
    expect(presigned.status).toBe(200);
    expect(presigned.body.url).toContain('X-Amz-SignedHeaders=host%3Bx-amz-copy-source');
    // Without the signed header the signature does not match: nothing is written.
    expect((await fetch(presigned.body.url, { method: 'PUT' })).status).toBe(403);
    const res = await fetch(presigned.body.url, { method: 'PUT', headers: { 'x-amz-copy-source': source } });
    expect(res.status, await res.clone().text()).toBe(200);
    const restored = res.headers.get('x-amz-version-id')!;
    expect(await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'locked', Key: 'doc.txt' })))).toEqual(Buffer.from('first'));
    const rec = (await api<ObjectRecord>('/v1/objects/locked/doc.txt')).body;
    expect(rec.versions.map((v) => v.versionId)).toEqual([restored, ids.v2, ids.v1]);
    for (const headers of [{ 'x-amz-date': 'x' }, { 'X-Amz-Copy-Source': source }, { 'content-type': 'text/plain' }]) {
      const bad = await api('/v1/presign', { method: 'POST', body: JSON.stringify({ bucket: 'locked', key: 'doc.txt', method: 'PUT', headers }) });
      expect(bad, JSON.stringify(headers)).toMatchObject({ status: 400, body: { error: { code: 'BadRequest' } } });
    }
  });

  it('GET /v1/buckets and /v1/stats count objects, versions, delete markers and their bytes', async () => {
    const buckets = (await api<{ buckets: BucketSummary[] }>('/v1/buckets')).body.buckets;
    // doc.txt: first, second version, and first again (restored); held.txt: held, then a delete marker.
    expect(buckets.find((b) => b.name === 'locked')).toMatchObject({ objects: 1, logicalBytes: 5, versions: 4, deleteMarkers: 1, versionBytes: 5 + 14 + 5 + 4 });
    const { pool: _pool, lifecycle: _lifecycle, engine: _engine, gateways: _gateways, ...stats } = (await api<StoreStats & { pool: unknown; lifecycle: unknown; engine: unknown; gateways: unknown }>('/v1/stats')).body;
    const sum = (f: 'objects' | 'versions' | 'deleteMarkers' | 'logicalBytes' | 'versionBytes') => buckets.reduce((a, b) => a + b[f], 0);
    expect(stats).toMatchObject({ objects: sum('objects'), versions: sum('versions'), deleteMarkers: 1, logicalBytes: sum('logicalBytes'), versionBytes: sum('versionBytes') });
    expect(stats.versions).toBeGreaterThan(stats.objects);
    expect(stats).toEqual(storeStats(srv.db.db));
    // /metrics reports the same totals.
    const m = await metrics();
    expect([m('cairn_store_objects'), m('cairn_store_versions'), m('cairn_store_delete_markers'), m('cairn_store_version_bytes'), m('cairn_store_object_bytes')]).toEqual([
      stats.objects,
      stats.versions,
      stats.deleteMarkers,
      stats.versionBytes,
      stats.logicalBytes,
    ]);
    expect([m('cairn_store_chunks'), m('cairn_store_chunk_bytes'), m('cairn_store_buckets')]).toEqual([stats.chunks, stats.physicalBytes, stats.buckets]);
  });
});

describe('/metrics', () => {
  it('parses as Prometheus text and has every family', async () => {
    const m = await metrics();
    for (const name of ['cairn_pool_buffers', 'cairn_pool_buffer_size_bytes']) expect(m(name), name).toBeGreaterThan(0);
    const res = await fetch(srv.adminUrl + '/metrics', { headers: { authorization: `Bearer ${srv.adminToken}` } });
    const text = await res.text();
    for (const family of [
      'cairn_s3_requests_total',
      'cairn_s3_request_duration_seconds',
      'cairn_s3_received_bytes_total',
      'cairn_s3_sent_bytes_total',
      'cairn_pool_buffers_in_use',
      'cairn_pool_waiters',
      'cairn_chunk_writes_total',
      'cairn_chunk_dedup_hits_total',
      'cairn_gc_runs_total',
      'cairn_gc_freed_bytes_total',
      'cairn_scrub_runs_total',
      'cairn_scrub_broken_chunks_total',
      'cairn_gateways',
      'cairn_metadata_retries_total',
      'cairn_metadata_engine_info',
    ]) {
      expect(text, family).toContain(`# TYPE ${family} `);
    }
    expect([m('cairn_gateways', { state: 'alive' }), m('cairn_gateways', { state: 'dead' }), m('cairn_metadata_engine_info', { engine: 'sqlite' })]).toEqual([1, 0, 1]);
    expect(m('cairn_metadata_retries_total', { reason: 'serialization' }) + m('cairn_metadata_retries_total', { reason: 'deadlock' })).toBe(0);
  });

  it('request counters, latency, bytes, chunk writes and dedup hits move with S3 traffic', async () => {
    const before = await metrics();
    const body = randomBytes(150 * KiB);
    await s3.send(new PutObjectCommand({ Bucket: 'records', Key: 'm/1', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: 'records', Key: 'm/2', Body: body }));
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'records', Key: 'm/1' })));
    expect(got.equals(body)).toBe(true);
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'records', Key: 'm/none' })))).name).toBe('NoSuchKey');
    await s3.send(new HeadBucketCommand({ Bucket: 'records' }));
    const after = await metrics();
    const d = (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);
    expect(d('cairn_s3_requests_total', { operation: 'PutObject', status: '200' })).toBe(2);
    expect(d('cairn_s3_requests_total', { operation: 'GetObject', status: '200' })).toBe(1);
    expect(d('cairn_s3_requests_total', { operation: 'GetObject', status: '404' })).toBe(1);
    expect(d('cairn_s3_requests_total', { operation: 'HeadBucket', status: '200' })).toBe(1);
    expect(d('cairn_s3_request_duration_seconds_count', { operation: 'PutObject' })).toBe(2);
    expect(d('cairn_s3_request_duration_seconds_sum', { operation: 'PutObject' })).toBeGreaterThan(0);
    expect(d('cairn_s3_request_duration_seconds_bucket', { operation: 'PutObject', le: '+Inf' })).toBe(2);
    // The SDK sends aws-chunked with a CRC32 trailer: a little more than the payload on the wire.
    expect(d('cairn_s3_received_bytes_total', { operation: 'PutObject' })).toBeGreaterThanOrEqual(2 * body.length);
    expect(d('cairn_s3_sent_bytes_total', { operation: 'GetObject' })).toBeGreaterThanOrEqual(body.length);
    // 150 KiB in 64 KiB chunks: 3 chunk files for the first PUT; the second is all dedup hits.
    expect(d('cairn_chunk_writes_total')).toBe(3);
    expect(d('cairn_chunk_written_bytes_total')).toBe(body.length);
    expect(d('cairn_chunk_dedup_hits_total')).toBe(3);
    expect(d('cairn_chunk_dedup_bytes_total')).toBe(body.length);
  });

  it('GC and scrub results recorded through the metrics object show up', async () => {
    const before = await metrics();
    srv.metrics.recordGc({ dryRun: false, orphanChunks: 2, orphanBytes: 100, expiredUploads: 1, tmpFiles: 3, tmpBytes: 50, freedBytes: 150, durationMs: 20 });
    srv.metrics.recordGc({ dryRun: true, orphanChunks: 5, orphanBytes: 500, expiredUploads: 0, tmpFiles: 0, tmpBytes: 0, freedBytes: 0, durationMs: 10 });
    srv.metrics.recordScrub({ checked: 10, bytes: 1000, broken: [{ problem: 'corrupt' }, { problem: 'missing' }, { problem: 'corrupt' }], durationMs: 1500 });
    const after = await metrics();
    const d = (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);
    expect(d('cairn_gc_runs_total', { mode: 'run' })).toBe(1);
    expect(d('cairn_gc_runs_total', { mode: 'dry_run' })).toBe(1);
    expect(d('cairn_gc_orphan_chunks_removed_total')).toBe(2);
    expect(d('cairn_gc_freed_bytes_total')).toBe(150);
    expect(d('cairn_gc_expired_uploads_total')).toBe(1);
    expect(d('cairn_gc_tmp_files_removed_total')).toBe(3);
    expect(after('cairn_gc_last_orphan_chunks')).toBe(5);
    expect(after('cairn_gc_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(d('cairn_scrub_runs_total')).toBe(1);
    expect(d('cairn_scrub_checked_chunks_total')).toBe(10);
    expect(d('cairn_scrub_checked_bytes_total')).toBe(1000);
    expect(d('cairn_scrub_broken_chunks_total', { problem: 'corrupt' })).toBe(2);
    expect(d('cairn_scrub_broken_chunks_total', { problem: 'missing' })).toBe(1);
    expect(after('cairn_scrub_last_broken_chunks')).toBe(3);
    expect(after('cairn_scrub_last_duration_seconds')).toBe(1.5);
  });

  it('each server has its own registry', async () => {
    const second = await startTestServer();
    try {
      const res = await fetch(second.adminUrl + '/metrics', { headers: { authorization: `Bearer ${second.adminToken}` } });
      const samples = parseProm(await res.text());
      expect(samples.filter((s) => s.name === 'cairn_s3_requests_total')).toEqual([]);
      expect(samples.find((s) => s.name === 'cairn_chunk_writes_total')!.value).toBe(0);
    } finally {
      await second.stop();
    }
  });
});

describe('buckets, presign and keys through the API', () => {
  it('creates, makes public/private and deletes buckets', async () => {
    const created = await api<BucketSummary>('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'made-by-admin', public: true }) });
    expect(created).toMatchObject({ status: 201, body: { name: 'made-by-admin', public: true, objects: 0, logicalBytes: 0, physicalBytes: 0, region: 'us-east-1' } });
    await s3.send(new HeadBucketCommand({ Bucket: 'made-by-admin' }));
    expect(await api('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'made-by-admin' }) })).toMatchObject({ status: 409, body: { error: { code: 'Conflict' } } });
    expect(await api('/v1/buckets', { method: 'POST', body: JSON.stringify({ name: 'Bad_Name' }) })).toMatchObject({ status: 400, body: { error: { field: 'name' } } });
    expect(await api('/v1/buckets', { method: 'POST', body: JSON.stringify({ public: true }) })).toMatchObject({ status: 400, body: { error: { field: 'name' } } });
    expect(await api('/v1/buckets', { method: 'POST', body: '{not json' })).toMatchObject({ status: 400, body: { error: { code: 'BadRequest' } } });
    expect(await api('/v1/buckets/made-by-admin/public', { method: 'PUT', body: JSON.stringify({ public: false }) })).toMatchObject({ status: 200, body: { public: false } });
    expect(await api('/v1/buckets/made-by-admin/public', { method: 'PUT', body: JSON.stringify({ public: 'yes' }) })).toMatchObject({ status: 400, body: { error: { field: 'public' } } });
    expect(await api('/v1/buckets/records', { method: 'DELETE' })).toMatchObject({ status: 409 });
    expect((await api('/v1/buckets/made-by-admin', { method: 'DELETE' })).status).toBe(204);
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'made-by-admin' })))).$metadata.httpStatusCode).toBe(404);
    expect(await api('/v1/buckets/made-by-admin', { method: 'DELETE' })).toMatchObject({ status: 404 });
  });

  it('presigns a GET that works without credentials', async () => {
    const key = 'pre signed/ü+x';
    await s3.send(new PutObjectCommand({ Bucket: 'records', Key: key, Body: 'presigned body' }));
    const r = await api<{ url: string }>('/v1/presign', { method: 'POST', body: JSON.stringify({ bucket: 'records', key, expires: 60 }) });
    expect(r.status).toBe(200);
    expect(r.body.url.startsWith(srv.url + '/records/')).toBe(true);
    expect(r.body.url).toContain('X-Amz-Expires=60');
    const res = await fetch(r.body.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('presigned body');
    expect(await api('/v1/presign', { method: 'POST', body: JSON.stringify({ bucket: 'records', key, expires: 700_000 }) })).toMatchObject({ status: 400, body: { error: { field: 'expires' } } });
    expect(await api('/v1/presign', { method: 'POST', body: JSON.stringify({ bucket: 'records' }) })).toMatchObject({ status: 400, body: { error: { field: 'key' } } });
  });

  it('creates, lists and revokes access keys', async () => {
    const created = await api<{ id: string; secret: string; grants: unknown[] }>('/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ description: 'reader', grants: [{ bucket: 'records', permission: 'read' }] }),
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeTruthy();
    const listed = await api<{ keys: Array<{ id: string; secret?: string }> }>('/v1/keys');
    expect(listed.body.keys.map((k) => k.id)).toContain(created.body.id);
    expect(listed.body.keys.every((k) => k.secret === undefined)).toBe(true);
    const bad = await api<{ error: { field: string } }>('/v1/keys', { method: 'POST', body: JSON.stringify({ grants: [{ bucket: 'records', permission: 'admin' }] }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', field: 'grants[0].permission' } } });
    expect((await api(`/v1/keys/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/v1/keys/${created.body.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('gc and verify through the API', () => {
  it('POST /v1/gc runs a GC (dry run or not) and records it in /metrics', async () => {
    const before = await metrics();
    const dry = await api<Record<string, unknown>>('/v1/gc', { method: 'POST', body: JSON.stringify({ dryRun: true }) });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, orphanChunks: 0, expiredUploads: 0 });
    for (const f of ['orphanBytes', 'tmpFiles', 'tmpBytes', 'freedBytes', 'durationMs']) expect(typeof dry.body[f], f).toBe('number');
    const real = await api<Record<string, unknown>>('/v1/gc', { method: 'POST' });
    expect(real).toMatchObject({ status: 200, body: { dryRun: false } });
    const after = await metrics();
    expect(after('cairn_gc_runs_total', { mode: 'dry_run' }) - before('cairn_gc_runs_total', { mode: 'dry_run' })).toBe(1);
    expect(after('cairn_gc_runs_total', { mode: 'run' }) - before('cairn_gc_runs_total', { mode: 'run' })).toBe(1);
    expect(await api('/v1/gc', { method: 'POST', body: JSON.stringify({ dryRun: 'yes' }) })).toMatchObject({ status: 400, body: { error: { field: 'dryRun' } } });
  });

  it('POST /v1/verify re-reads every chunk and finds nothing broken', async () => {
    const before = await metrics();
    const r = await api<{ checked: number; bytes: number; broken: unknown[] }>('/v1/verify', { method: 'POST' });
    expect(r.status).toBe(200);
    const chunks = (await api<StoreStats>('/v1/stats')).body.chunks;
    expect(r.body).toMatchObject({ checked: chunks, broken: [] });
    expect(r.body.bytes).toBeGreaterThan(0);
    const after = await metrics();
    expect(after('cairn_scrub_runs_total') - before('cairn_scrub_runs_total')).toBe(1);
    expect(after('cairn_scrub_checked_chunks_total') - before('cairn_scrub_checked_chunks_total')).toBe(chunks);
  });
});
