// The admin listener's side of the web console: static files without a token, SigV4-signed admin
// requests from an access key pair (grants filter what it sees), presigned PUT/DELETE/multipart
// URLs, the folder listing, CORS for the console's origin, verify in the background.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildQuery, signHeaders } from '../../console/src/lib/sigv4.js';
import { completeMultipartXml, parseUploadId } from '../../console/src/lib/upload.js';

let server: TestServer;
const consoleBuilt = fs.existsSync(path.resolve('dist/console/index.html'));

beforeAll(async () => {
  server = await startTestServer();
  const c = server.client();
  // The root account's, as buckets made with the root key are.
  const ownerId = (await server.meta.accounts.root()).id;
  await server.repo.createBucket({ name: 'alpha', region: 'us-east-1', ownerId });
  await server.repo.createBucket({ name: 'beta', region: 'us-east-1', ownerId });
  for (const key of ['a.txt', 'docs/x.txt', 'docs/y.txt', 'docs/deep/z.txt', 'music/1.mp3']) {
    await c.send(new PutObjectCommand({ Bucket: 'alpha', Key: key, Body: `body of ${key}` }));
  }
  await c.send(new PutObjectCommand({ Bucket: 'beta', Key: 'secret.txt', Body: 'beta' }));
});
afterAll(async () => server?.stop());

const token = () => ({ authorization: `Bearer ${server.adminToken}` });

async function adminJson(method: string, p: string, body?: unknown, headers: Record<string, string> = token()) {
  const res = await fetch(server.adminUrl + p, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A request signed the way the console signs it (console/src/lib/sigv4.ts). */
async function signed(method: string, p: string, creds: { accessKeyId: string; secretAccessKey: string }, opts: { query?: Record<string, string>; body?: unknown; region?: string } = {}) {
  const query = opts.query ? buildQuery(opts.query) : '';
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const host = new URL(server.adminUrl).host;
  const headers = signHeaders({ method, path: p, query, host }, { ...creds, region: opts.region ?? 'us-east-1' }, { body });
  const res = await fetch(`${server.adminUrl}${p}${query ? `?${query}` : ''}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('console files', () => {
  it.skipIf(!consoleBuilt)('serves index.html and hashed assets without a token, with types and cache headers', async () => {
    const index = await fetch(server.adminUrl + '/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain(`connect-src 'self' ${server.url}`);
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(server.adminUrl + script, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = js.headers.get('etag')!;
    expect((await fetch(server.adminUrl + script, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // Client-side routes get the app shell; a missing asset is a 404.
    const page = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const route = await fetch(server.adminUrl + '/o/alpha/docs%2Fx.txt', { headers: page });
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(html);
    // Not for an API client (no text/html in Accept): the API's JSON answer.
    expect((await fetch(server.adminUrl + '/v2/buckets', { headers: token() })).status).toBe(404);
    expect((await fetch(server.adminUrl + '/assets/nope-123.js')).status).toBe(404);
    // No way out of dist/console.
    const escape = await fetch(server.adminUrl + '/%2e%2e/%2e%2e/package.json', { headers: page });
    expect(await escape.text()).toBe(html);
  });

  it('keeps the API behind the token', async () => {
    const res = await fetch(server.adminUrl + '/v1/buckets');
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('Unauthorized');
    expect((await fetch(server.adminUrl + '/metrics')).status).toBe(401);
    expect((await fetch(server.adminUrl + '/v1/nope', { headers: token() })).status).toBe(404);
  });
});

describe('config and listing', () => {
  it('GET /v1/config tells the S3 endpoint and what the token may do', async () => {
    const r = await adminJson('GET', '/v1/config');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ s3Url: server.url, region: 'us-east-1', principal: { kind: 'admin' }, can: { admin: true, manageBuckets: true, seeAll: true } });
  });

  it('GET /v1/list groups by delimiter and pages with a cursor', async () => {
    const r = await adminJson('GET', '/v1/list?bucket=alpha&delimiter=/');
    expect(r.body.prefixes).toEqual(['docs/', 'music/']);
    expect(r.body.objects.map((o: { key: string }) => o.key)).toEqual(['a.txt']);
    expect(r.body.objects[0]).toMatchObject({ size: 13, contentType: expect.any(String) });
    const docs = await adminJson('GET', '/v1/list?bucket=alpha&delimiter=/&prefix=docs/');
    expect(docs.body.prefixes).toEqual(['docs/deep/']);
    expect(docs.body.objects.map((o: { key: string }) => o.key)).toEqual(['docs/x.txt', 'docs/y.txt']);
    const p1 = await adminJson('GET', '/v1/list?bucket=alpha&delimiter=/&limit=2');
    expect(p1.body.objects.map((o: { key: string }) => o.key)).toEqual(['a.txt']);
    expect(p1.body.prefixes).toEqual(['docs/']);
    const p2 = await adminJson('GET', `/v1/list?bucket=alpha&delimiter=/&limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.prefixes).toEqual(['music/']);
    expect(p2.body.nextCursor).toBeUndefined();
    expect((await adminJson('GET', '/v1/list?bucket=alpha&cursor=!!')).body.error.code).toBe('BadFilter');
    expect((await adminJson('GET', '/v1/list?bucket=nope')).status).toBe(404);
    expect((await adminJson('GET', '/v1/list?bucket=alpha&what=1')).body.error.field).toBe('what');
  });
});

describe('access keys on the admin API (SigV4)', () => {
  let reader: { accessKeyId: string; secretAccessKey: string };
  beforeAll(() => {
    const k = server.keys.create({ description: 'console reader', grants: [{ bucket: 'alpha', permission: 'read' }] });
    reader = { accessKeyId: k.id, secretAccessKey: k.secret };
  });

  it('a key sees only its buckets and may not administer', async () => {
    const cfg = await signed('GET', '/v1/config', reader);
    expect(cfg.status).toBe(200);
    expect(cfg.body).toMatchObject({ principal: { kind: 'key', accessKeyId: reader.accessKeyId, grants: [{ bucket: 'alpha', permission: 'read' }] }, can: { admin: false, manageBuckets: false, seeAll: false } });
    const buckets = await signed('GET', '/v1/buckets', reader);
    expect(buckets.body.buckets.map((b: { name: string }) => b.name)).toEqual(['alpha']);
    expect((await signed('GET', '/v1/objects', reader, { query: { bucket: 'alpha' } })).body.objects).toHaveLength(5);
    expect((await signed('GET', '/v1/objects', reader, { query: { bucket: 'beta' } })).status).toBe(403);
    expect((await signed('GET', '/v1/objects', reader)).status).toBe(403);
    expect((await signed('GET', '/v1/objects/alpha/docs/x.txt', reader)).body.key).toBe('docs/x.txt');
    expect((await signed('GET', '/v1/objects/beta/secret.txt', reader)).status).toBe(403);
    expect((await signed('GET', '/v1/list', reader, { query: { bucket: 'beta' } })).status).toBe(403);
    for (const [m, p, body] of [
      ['GET', '/v1/stats'],
      ['GET', '/metrics'],
      ['GET', '/v1/keys'],
      ['POST', '/v1/buckets', { name: 'gamma' }],
      ['DELETE', '/v1/buckets/alpha'],
      ['POST', '/v1/gc', {}],
      ['POST', '/v1/verify', {}],
      ['POST', '/v1/presign', { bucket: 'alpha', key: 'a.txt' }],
      ['PUT', '/v1/buckets/alpha/cors', { origins: ['http://x'] }],
    ] as Array<[string, string, unknown?]>) {
      const r = await signed(m, p, reader, { body });
      expect(r.status, `${m} ${p}`).toBe(403);
      expect(r.body.error.code).toBe('Forbidden');
      expect(r.body.error.message).toMatch(/may not/);
    }
  });

  it('a chunk record shows a key only the references it may read', async () => {
    const rec = (await adminJson('GET', '/v1/objects/alpha/a.txt')).body;
    const chunk = await signed('GET', `/v1/chunks/${rec.chunks[0].sha256}`, reader);
    expect(chunk.body.objects).toEqual([{ bucket: 'alpha', key: 'a.txt', versionId: 'null', seq: 0, offset: 0 }]);
    const other = (await adminJson('GET', '/v1/objects/beta/secret.txt')).body;
    expect((await signed('GET', `/v1/chunks/${other.chunks[0].sha256}`, reader)).status).toBe(404);
  });

  it('refuses a bad secret, an unknown key, a wrong region and a body that is not the signed one', async () => {
    const bad = await signed('GET', '/v1/buckets', { ...reader, secretAccessKey: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toMatch(/SignatureDoesNotMatch/);
    expect((await signed('GET', '/v1/buckets', { accessKeyId: 'CKNOPE', secretAccessKey: 'x' })).status).toBe(401);
    const region = await signed('GET', '/v1/buckets', reader, { region: 'eu-west-1' });
    expect(region.body.error.message).toMatch(/expecting 'us-east-1'/);
    // Signed for one body, sent with another.
    const writer = server.keys.create({ grants: [{ bucket: '*', permission: 'write' }] });
    const host = new URL(server.adminUrl).host;
    const headers = signHeaders({ method: 'POST', path: '/v1/buckets', query: '', host }, { accessKeyId: writer.id, secretAccessKey: writer.secret, region: 'us-east-1' }, { body: '{"name":"gamma"}' });
    const res = await fetch(server.adminUrl + '/v1/buckets', { method: 'POST', headers, body: '{"name":"delta"}' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/signed hash/);
    // The honest request works, and a '*' write key may manage buckets.
    const ok = await signed('POST', '/v1/buckets', { accessKeyId: writer.id, secretAccessKey: writer.secret }, { body: { name: 'gamma' } });
    expect(ok.status).toBe(201);
    expect((await signed('DELETE', '/v1/buckets/gamma', { accessKeyId: writer.id, secretAccessKey: writer.secret })).status).toBe(204);
  });

  it('the root key pair is an administrator', async () => {
    const root = { accessKeyId: server.credentials.accessKeyId, secretAccessKey: server.credentials.secretAccessKey };
    const cfg = await signed('GET', '/v1/config', root);
    expect(cfg.body.can).toEqual({ admin: true, manageBuckets: true, seeAll: true });
    expect((await signed('GET', '/v1/keys', root)).status).toBe(200);
  });
});

describe('presigned URLs for the browser', () => {
  const presign = async (body: Record<string, unknown>) => (await adminJson('POST', '/v1/presign', body)).body.url as string;

  it('PUT, GET and DELETE', async () => {
    const put = await presign({ bucket: 'alpha', key: 'up/new file.txt', method: 'PUT' });
    expect((await fetch(put, { method: 'PUT', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(200);
    const got = await fetch(await presign({ bucket: 'alpha', key: 'up/new file.txt' }));
    expect(await got.text()).toBe('hello');
    expect(got.headers.get('content-type')).toBe('text/plain');
    expect((await fetch(await presign({ bucket: 'alpha', key: 'up/new file.txt', method: 'DELETE' }), { method: 'DELETE' })).status).toBe(204);
    expect((await adminJson('GET', '/v1/objects/alpha/up/new%20file.txt')).status).toBe(404);
  });

  it('a whole multipart upload, and an aborted one', async () => {
    const key = 'mp/big.bin';
    const created = await fetch(await presign({ bucket: 'alpha', key, method: 'POST', query: { uploads: '' } }), { method: 'POST' });
    const uploadId = parseUploadId(await created.text());
    const partA = Buffer.alloc(5 * 1024 * 1024, 1);
    const partB = Buffer.from('tail');
    const etags = [];
    for (const [n, body] of [[1, partA], [2, partB]] as const) {
      const res = await fetch(await presign({ bucket: 'alpha', key, method: 'PUT', query: { partNumber: String(n), uploadId } }), { method: 'PUT', body });
      expect(res.status).toBe(200);
      etags.push({ partNumber: n, etag: res.headers.get('etag')! });
    }
    const done = await fetch(await presign({ bucket: 'alpha', key, method: 'POST', query: { uploadId } }), { method: 'POST', body: completeMultipartXml(etags) });
    expect(done.status).toBe(200);
    const rec = (await adminJson('GET', '/v1/objects/alpha/mp/big.bin')).body;
    expect(rec).toMatchObject({ size: partA.length + 4, partCount: 2 });

    const other = parseUploadId(await (await fetch(await presign({ bucket: 'alpha', key: 'mp/x', method: 'POST', query: { uploads: '' } }), { method: 'POST' })).text());
    expect((await fetch(await presign({ bucket: 'alpha', key: 'mp/x', method: 'DELETE', query: { uploadId: other } }), { method: 'DELETE' })).status).toBe(204);
  });

  it('refuses signature parameters in query and unknown methods', async () => {
    expect((await adminJson('POST', '/v1/presign', { bucket: 'alpha', key: 'k', query: { 'X-Amz-Signature': 'x' } })).body.error.code).toBe('BadRequest');
    expect((await adminJson('POST', '/v1/presign', { bucket: 'alpha', key: 'k', method: 'PATCH' })).body.error.field).toBe('method');
  });
});

describe('maintenance from the console', () => {
  it('verify in the background reports progress, then the result', async () => {
    const started = await adminJson('POST', '/v1/verify', { background: true });
    expect(started.status).toBe(202);
    expect(started.body.running).toBe(true);
    let state = started.body;
    for (let i = 0; i < 100 && state.running; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await adminJson('GET', '/v1/verify')).body;
    }
    expect(state.running).toBe(false);
    expect(state.result.checked).toBeGreaterThan(0);
    expect(state.result.broken).toEqual([]);
    expect(state.done).toBe(state.total);
  });

  it('PUT /v1/buckets/{name}/cors sets a rule for the console origin, checked as PutBucketCors checks one', async () => {
    const r = await adminJson('PUT', '/v1/buckets/alpha/cors', { origins: ['http://console.lan:9001'] });
    expect(r).toMatchObject({ status: 200, body: { bucket: 'alpha', origins: ['http://console.lan:9001'] } });
    const pre = await fetch(`${server.url}/alpha/a.txt`, {
      method: 'OPTIONS',
      headers: { origin: 'http://console.lan:9001', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://console.lan:9001');
    expect((await adminJson('PUT', '/v1/buckets/alpha/cors', { origins: ['javascript:alert(1)'] })).status).toBe(400);
    // A rule S3's parser refuses: 400 with S3's reason.
    const refused = await adminJson('PUT', '/v1/buckets/alpha/cors', { origins: ['http://*.*.lan'] });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'BadRequest' } } });
    expect(refused.body.error.message).toContain('can not have more than one wildcard');
    expect((await adminJson('PUT', '/v1/buckets/nosuchbucket/cors', { origins: ['http://x.lan'] })).status).toBe(404);
    // A second origin is added beside the first rule, and repeating one changes nothing.
    expect((await adminJson('PUT', '/v1/buckets/alpha/cors', { origins: ['http://nas.lan:9001'] })).status).toBe(200);
    expect((await adminJson('PUT', '/v1/buckets/alpha/cors', { origins: ['http://nas.lan:9001'] })).status).toBe(200);
    const { GetBucketCorsCommand } = await import('@aws-sdk/client-s3');
    const cors = await server.client().send(new GetBucketCorsCommand({ Bucket: 'alpha' }));
    expect(cors.CORSRules?.map((r) => r.AllowedOrigins)).toEqual([['http://console.lan:9001'], ['http://nas.lan:9001']]);
    expect(cors.CORSRules?.[0]?.ExposeHeaders).toContain('ETag');
  });
});
