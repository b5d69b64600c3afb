import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startTestServer, tmpFiles, chunkFiles, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { presignRequest, signRequest } from '../../src/auth/sigv4.js';
import { signV2, stringToSignV2 } from '../../src/auth/sigv2.js';

// Hostile input, table-driven: every case states the S3 error code and HTTP status it must get,
// and after every case the server is still up and nothing changed (every SQLite row, every chunk
// and tmp file, every pool buffer). Error bodies are snapshotted: they must never carry a file
// path, a stack trace or a secret. test/integration/bad-input.test.ts covers the everyday
// failures (wrong digests, short bodies, disconnects); this file is about attackers.

const MiB = 1024 * 1024;
const B = 'hostile';
const OTHER = 'hostile-other';
const EMPTY = 'hostile-empty';
const GARBAGE_SIG = 'deadbeef'.repeat(8);
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5B64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const crc32B64 = (b: Buffer | string) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(Buffer.from(b)) >>> 0);
  return out.toString('base64');
};
const enc = (key: string) => key.split('/').map(encodeURIComponent).join('/');

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** What a table case expects: a status, and the S3 error code (none for HEAD, whose errors have no body). */
interface Expect {
  status: number;
  code?: string;
}

interface SignOpts {
  accessKeyId?: string;
  secret?: string;
  date?: Date;
  region?: string;
  service?: string;
  /** Credential scope date other than the request's. */
  scopeDate?: string;
  /** Replace the signature with garbage after signing. */
  garbage?: boolean;
  /** Headers sent but left out of SignedHeaders. */
  unsigned?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Server, fixtures, and the state that must not change

let srv: TestServer;
let host: string;
let root: string;
let uploadId: string;
let limited: { id: string; secret: string };
/** Every error body seen (leak checks), and one per case for the snapshot. */
const allErrorBodies: string[] = [];
const errorBodies = new Map<string, string>();

beforeAll(async () => {
  // The data dir sits deep inside a directory of its own: any file written outside it shows.
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-hostile-'));
  const dataDir = path.join(root, 'a', 'b', 'c', 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  srv = await startTestServer({ dataDir, chunkSize: '1MiB', writeBuffers: 8, maxBuffersPerRequest: 2 });
  host = `127.0.0.1:${srv.port}`;
  for (const b of [B, OTHER, EMPTY]) expect((await send('PUT', `/${b}`)).status).toBe(200);
  expect((await send('PUT', `/${B}/exists.txt`, { body: 'hello hostile' })).status).toBe(200);
  expect((await send('PUT', `/${B}/range.bin`, { body: RANGE_DATA })).status).toBe(200);
  expect((await send('PUT', `/${OTHER}/exists.txt`, { body: 'other bucket' })).status).toBe(200);
  const create = await send('POST', `/${B}/mp.bin`, { query: 'uploads' });
  uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(create.text)![1]!;
  const part = await send('PUT', `/${B}/mp.bin`, { query: `partNumber=1&uploadId=${uploadId}`, body: 'part one' });
  expect(part.status).toBe(200);
  // A key that may read OTHER only: everything in B is forbidden to it.
  const key = srv.keys.create({ description: 'hostile test', grants: [{ bucket: OTHER, permission: 'read' }] });
  limited = { id: key.id, secret: key.secret };
});

afterAll(async () => {
  await srv?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const RANGE_DATA = randomBytes(3000);

/** Every row of every table, every chunk and tmp file, and the pool: what "nothing changed" compares. */
function state(): string {
  const sqlite = srv.db.sqlite;
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%drizzle%' ORDER BY name")
    .all() as Array<{ name: string }>;
  const rows: Record<string, unknown[]> = {};
  // The gateway registry's row is this process's heartbeat: it changes on its own clock.
  for (const { name } of tables) if (name !== 'gateways') rows[name] = sqlite.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
  return JSON.stringify({ rows, chunks: chunkFiles(srv).sort(), tmp: tmpFiles(srv), inUse: srv.pool.stats().inUse });
}

async function waitIdle(): Promise<void> {
  const until = Date.now() + 5000;
  while ((srv.pool.stats().inUse > 0 || tmpFiles(srv).length > 0) && Date.now() < until) await sleep(10);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server still answers a signed GET with the right bytes. */
async function expectServerUp(): Promise<void> {
  const r = await send('GET', `/${B}/exists.txt`);
  expect(r.status, r.text).toBe(200);
  expect(r.text).toBe('hello hostile');
}

function expectError(r: Resp, e: Expect, label = ''): void {
  const code = /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];
  expect({ status: r.status, code }, `${label}\n${r.text}`).toEqual({ status: e.status, code: e.code });
  if (e.code !== undefined) {
    expect(r.text).toMatch(/^<\?xml[^>]*>\s*<Error>/);
    expect(r.headers['content-type']).toMatch(/xml/);
  } else {
    expect(r.body.length).toBe(0);
  }
}

/** Records an error body for the leak checks and (unless told not to) the snapshot. */
function record(name: string, r: Resp, snapshot = true): void {
  if (r.status < 400 || !r.text) return;
  allErrorBodies.push(r.text);
  if (snapshot) errorBodies.set(name, r.text);
}

/** Runs a case that must fail and change nothing. */
async function expectRefused(name: string, run: () => Promise<Resp>, e: Expect, snapshot = true): Promise<Resp> {
  await waitIdle();
  const before = state();
  const r = await run();
  expectError(r, e, name);
  record(name, r, snapshot);
  await waitIdle();
  expect(state(), `${name}: state changed`).toBe(before);
  await expectServerUp();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Sending

interface SendOpts {
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** false: anonymous; otherwise header-signed (hex payload hash unless a mode is given). */
  sign?: false | SignOpts;
  /** x-amz-content-sha256 to send ('absent' for none); default: the body's hex SHA-256. */
  contentSha?: string;
  /** Body pieces written one by one, without a Content-Length (chunked). */
  pieces?: Iterable<Buffer> | AsyncIterable<Buffer>;
}

function signHeaders(method: string, rawPath: string, rawQuery: string, headers: Record<string, string>, o: SignOpts = {}): Record<string, string> {
  const date = o.date ?? new Date();
  const toSign = { ...headers };
  const signed = signRequest(
    { method, rawPath, rawQuery, headers: toSign },
    { accessKeyId: o.accessKeyId ?? TEST_ACCESS_KEY, secretAccessKey: o.secret ?? TEST_SECRET, region: o.region ?? 'us-east-1', service: o.service, date },
  );
  const out = { ...(signed.request.headers as Record<string, string>), ...(o.unsigned ?? {}) };
  if (o.scopeDate) out.authorization = out.authorization!.replace(/Credential=([^/]+)\/\d{8}\//, `Credential=$1/${o.scopeDate}/`);
  if (o.garbage) out.authorization = out.authorization!.replace(/Signature=[0-9a-f]+/, `Signature=${GARBAGE_SIG}`);
  return out;
}

function send(method: string, rawPath: string, o: SendOpts = {}): Promise<Resp> {
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  let headers: Record<string, string> = { host, ...lower(o.headers ?? {}) };
  if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  if (o.sign !== false) {
    const sha = o.contentSha ?? sha256Hex(body ?? Buffer.alloc(0));
    if (sha !== 'absent') headers['x-amz-content-sha256'] = sha;
    headers = signHeaders(method, rawPath, o.query ?? '', headers, o.sign);
  }
  return rawSend(method, rawPath + (o.query ? `?${o.query}` : ''), headers, o.pieces ?? (body ? [body] : []));
}

function rawSend(method: string, target: string, headers: Record<string, string>, pieces: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<Resp> {
  return new Promise((resolve, reject) => {
    let done = false;
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: target, headers, agent: false }, (res) => {
      done = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const b = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    // The server may answer and close while a large body is still being written.
    req.on('error', (err) => {
      if (!done) reject(err);
    });
    void (async () => {
      try {
        for await (const p of pieces) {
          if (done || req.destroyed) break;
          if (!req.write(p)) await new Promise((r) => req.once('drain', r).once('close', r));
        }
      } finally {
        if (!req.destroyed) req.end();
      }
    })().catch(() => undefined);
  });
}

/** Writes raw bytes on a socket and parses the responses that come back before it closes. */
async function socketSend(data: Buffer | string, timeoutMs = 5000): Promise<Resp[]> {
  const sock = net.connect(srv.port, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d) => got.push(d));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(data);
  await Promise.race([new Promise((r) => sock.once('close', r)), sleep(timeoutMs)]);
  sock.destroy();
  return parseResponses(Buffer.concat(got));
}

function parseResponses(buf: Buffer): Resp[] {
  const out: Resp[] = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = buf.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
    const headers: http.IncomingHttpHeaders = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const body = buf.subarray(end + 4, end + 4 + len);
    out.push({ status, headers, body, text: body.toString('utf8') });
    at = end + 4 + len;
  }
  return out;
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A SigV4 presigned target for the given request, optionally with its signature replaced. */
function presigned(method: string, rawPath: string, o: { date?: Date; expires?: number; query?: string; contentSha?: string; garbage?: boolean; region?: string; service?: string } = {}): string {
  const signed = presignRequest(
    { method, rawPath, rawQuery: o.query ?? '', headers: { host } },
    {
      accessKeyId: TEST_ACCESS_KEY,
      secretAccessKey: TEST_SECRET,
      region: o.region ?? 'us-east-1',
      service: o.service,
      date: o.date ?? new Date(),
      expiresSeconds: o.expires ?? 300,
      payloadHash: o.contentSha,
    },
  );
  let q = signed.request.rawQuery;
  if (o.contentSha !== undefined) q = q.replace('&X-Amz-Signature=', `&X-Amz-Content-Sha256=${encodeURIComponent(o.contentSha)}&X-Amz-Signature=`);
  if (o.garbage) q = q.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${GARBAGE_SIG}`);
  return `${rawPath}?${q}`;
}

/** SigV2 header form. */
function v2Headers(method: string, rawPath: string, rawQuery: string, headers: Record<string, string>, o: { secret?: string; date?: Date } = {}): Record<string, string> {
  const date = (o.date ?? new Date()).toUTCString();
  const all: Record<string, string> = { ...headers, date };
  const amz = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('x-amz-')));
  const toSign = stringToSignV2({ method, contentMd5: all['content-md5'] ?? '', contentType: all['content-type'] ?? '', date, amzHeaders: amz, rawPath, rawQuery, emptyValueStyle: 'literal' });
  return { ...all, authorization: `AWS ${TEST_ACCESS_KEY}:${signV2(o.secret ?? TEST_SECRET, toSign)}` };
}

/** SigV2 query form (what `aws s3 presign` makes). */
function v2Presigned(method: string, rawPath: string, o: { expiresAt?: number; secret?: string } = {}): string {
  const expires = String(o.expiresAt ?? Math.floor(Date.now() / 1000) + 300);
  const toSign = stringToSignV2({ method, contentMd5: '', contentType: '', date: expires, amzHeaders: {}, rawPath, rawQuery: '', emptyValueStyle: 'literal' });
  const sig = signV2(o.secret ?? TEST_SECRET, toSign);
  return `${rawPath}?AWSAccessKeyId=${TEST_ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
}

// ---------------------------------------------------------------------------------------------
// Auth: a valid access key with a garbage signature, on every route

interface Route {
  op: string;
  method: string;
  path: () => string;
  query?: () => string;
  headers?: () => Record<string, string>;
  body?: () => Buffer;
}

const deleteXml = Buffer.from('<Delete><Object><Key>exists.txt</Key></Object></Delete>');
const completeXml = () => Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${createHash('md5').update('part one').digest('hex')}"</ETag></Part></CompleteMultipartUpload>`);

// Each route aims at something a forged request would damage if it got through.
const ROUTES: Route[] = [
  { op: 'ListBuckets', method: 'GET', path: () => '/' },
  { op: 'CreateBucket', method: 'PUT', path: () => '/forged-bucket', headers: () => ({ 'x-amz-acl': 'public-read' }) },
  { op: 'HeadBucket', method: 'HEAD', path: () => `/${B}` },
  { op: 'DeleteBucket', method: 'DELETE', path: () => `/${EMPTY}` },
  { op: 'DeleteObjects', method: 'POST', path: () => `/${B}`, query: () => 'delete', body: () => deleteXml, headers: () => ({ 'content-md5': md5B64(deleteXml) }) },
  { op: 'GetBucketLocation', method: 'GET', path: () => `/${B}`, query: () => 'location' },
  { op: 'GetBucketVersioning', method: 'GET', path: () => `/${B}`, query: () => 'versioning' },
  { op: 'GetBucketAcl', method: 'GET', path: () => `/${B}`, query: () => 'acl' },
  { op: 'PutBucketAcl', method: 'PUT', path: () => `/${B}`, query: () => 'acl', headers: () => ({ 'x-amz-acl': 'public-read' }) },
  { op: 'PutBucketVersioning', method: 'PUT', path: () => `/${B}`, query: () => 'versioning' },
  { op: 'GetBucketPolicy', method: 'GET', path: () => `/${B}`, query: () => 'policy' },
  { op: 'PutBucketCors', method: 'PUT', path: () => `/${B}`, query: () => 'cors' },
  { op: 'ListMultipartUploads', method: 'GET', path: () => `/${B}`, query: () => 'uploads' },
  { op: 'ListObjectsV2', method: 'GET', path: () => `/${B}`, query: () => 'list-type=2' },
  { op: 'ListObjects', method: 'GET', path: () => `/${B}` },
  { op: 'PutObject', method: 'PUT', path: () => `/${B}/exists.txt`, body: () => Buffer.from('forged') },
  { op: 'CopyObject', method: 'PUT', path: () => `/${B}/exists.txt`, headers: () => ({ 'x-amz-copy-source': `${OTHER}/exists.txt` }) },
  { op: 'UploadPart', method: 'PUT', path: () => `/${B}/mp.bin`, query: () => `partNumber=2&uploadId=${uploadId}`, body: () => Buffer.from('forged part') },
  { op: 'UploadPartCopy', method: 'PUT', path: () => `/${B}/mp.bin`, query: () => `partNumber=2&uploadId=${uploadId}`, headers: () => ({ 'x-amz-copy-source': `${OTHER}/exists.txt` }) },
  { op: 'GetObjectAcl', method: 'GET', path: () => `/${B}/exists.txt`, query: () => 'acl' },
  { op: 'PutObjectAcl', method: 'PUT', path: () => `/${B}/exists.txt`, query: () => 'acl' },
  { op: 'GetObjectTagging', method: 'GET', path: () => `/${B}/exists.txt`, query: () => 'tagging' },
  { op: 'ListParts', method: 'GET', path: () => `/${B}/mp.bin`, query: () => `uploadId=${uploadId}` },
  { op: 'GetObject', method: 'GET', path: () => `/${B}/exists.txt` },
  { op: 'HeadObject', method: 'HEAD', path: () => `/${B}/exists.txt` },
  { op: 'AbortMultipartUpload', method: 'DELETE', path: () => `/${B}/mp.bin`, query: () => `uploadId=${uploadId}` },
  { op: 'DeleteObject', method: 'DELETE', path: () => `/${B}/exists.txt` },
  { op: 'CreateMultipartUpload', method: 'POST', path: () => `/${B}/forged.bin`, query: () => 'uploads' },
  { op: 'CompleteMultipartUpload', method: 'POST', path: () => `/${B}/mp.bin`, query: () => `uploadId=${uploadId}`, body: completeXml },
  { op: 'POST on the service (MethodNotAllowed if signed)', method: 'POST', path: () => '/' },
];

/** Every value x-amz-content-sha256 may take (and its absence). */
const MODES = [
  'absent',
  'hex',
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
];

function forged(route: Route, form: 'header' | 'query', mode: string): Promise<Resp> {
  const body = route.body?.() ?? Buffer.alloc(0);
  const rawPath = route.path();
  const query = route.query?.() ?? '';
  const extra = lower(route.headers?.() ?? {});
  const streaming = mode.startsWith('STREAMING-');
  if (streaming) {
    extra['content-encoding'] = 'aws-chunked';
    extra['x-amz-decoded-content-length'] = String(body.length);
  }
  if (mode.includes('TRAILER')) extra['x-amz-trailer'] = 'x-amz-checksum-crc32';
  const contentSha = mode === 'hex' ? sha256Hex(body) : mode;
  const pieces = route.method === 'GET' || route.method === 'HEAD' ? [] : [body];
  if (form === 'header') {
    return send(route.method, rawPath, { query, headers: { ...extra, 'content-length': String(body.length) }, contentSha, sign: { garbage: true }, pieces });
  }
  const target = presigned(route.method, rawPath, { query, contentSha: mode === 'absent' ? undefined : contentSha, garbage: true });
  // Under a presigned URL the x-amz-* headers would be unsigned: move them into the query, as presigners do.
  const amz = Object.entries(extra).filter(([k]) => k.startsWith('x-amz-'));
  const plain = Object.fromEntries(Object.entries(extra).filter(([k]) => !k.startsWith('x-amz-')));
  const q = amz.map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
  return rawSend(route.method, target + q, { host, ...plain, 'content-length': String(body.length) }, pieces);
}

describe('auth: a valid access key with a garbage signature, on every route', () => {
  const table = ROUTES.flatMap((route) => (['header', 'query'] as const).map((form) => ({ route, form, name: `${route.op} (${form})` })));

  it.each(table)('$name: 403 SignatureDoesNotMatch for every x-amz-content-sha256 mode, nothing changed', async ({ route, form, name }) => {
    const expected: Expect = { status: 403, code: route.method === 'HEAD' ? undefined : 'SignatureDoesNotMatch' };
    let first: string | undefined;
    for (const mode of MODES) {
      const r = await expectRefused(`${name}`, () => forged(route, form, mode), expected, mode === MODES[0]);
      // Same answer whatever the mode: nothing about the payload is looked at before the signature.
      const normal = normalise(r.text);
      first ??= normal;
      expect(normal, mode).toBe(first);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Auth: the other ways to forge, replay or bend a signature

interface AuthCase {
  name: string;
  run: () => Promise<Resp>;
  expect: Expect;
}

const skewDate = (seconds: number) => new Date((seconds > 0 ? Math.ceil(Date.now() / 1000) : Math.floor(Date.now() / 1000)) * 1000 + seconds * 1000);
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

const AUTH_CASES: AuthCase[] = [
  // Presigned GET of B/exists.txt, used for something else.
  { name: 'presigned GET used as PUT', run: () => rawSend('PUT', presigned('GET', `/${B}/exists.txt`), { host, 'content-length': '6' }, [Buffer.from('forged')]), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned GET used as DELETE', run: () => rawSend('DELETE', presigned('GET', `/${B}/exists.txt`), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned GET used as HEAD', run: () => rawSend('HEAD', presigned('GET', `/${B}/exists.txt`), { host }, []), expect: { status: 403 } },
  { name: 'presigned GET with the bucket swapped', run: () => rawSend('GET', presigned('GET', `/${OTHER}/exists.txt`).replace(OTHER, B), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned GET with the key swapped', run: () => rawSend('GET', presigned('GET', `/${B}/range.bin`).replace('range.bin', 'exists.txt'), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned PUT with the key swapped', run: () => rawSend('PUT', presigned('PUT', `/${B}/new.txt`).replace('new.txt', 'exists.txt'), { host, 'content-length': '6' }, [Buffer.from('forged')]), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned GET with a query parameter added', run: () => rawSend('GET', presigned('GET', `/${B}/exists.txt`) + '&response-content-type=text%2Fhtml', { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'presigned GET with X-Amz-Expires raised', run: () => rawSend('GET', presigned('GET', `/${B}/exists.txt`, { expires: 60 }).replace('X-Amz-Expires=60', 'X-Amz-Expires=604800'), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'header-signed GET replayed as DELETE', run: () => rawSend('DELETE', `/${B}/exists.txt`, signHeaders('GET', `/${B}/exists.txt`, '', { host, 'x-amz-content-sha256': sha256Hex('') }), []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'header-signed GET replayed on another bucket', run: () => rawSend('GET', `/${B}/exists.txt`, signHeaders('GET', `/${OTHER}/exists.txt`, '', { host, 'x-amz-content-sha256': sha256Hex('') }), []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  // x-amz-* headers nobody signed: they would change what the request does.
  { name: 'unsigned x-amz-acl on CreateBucket', run: () => send('PUT', '/forged-public', { sign: { unsigned: { 'x-amz-acl': 'public-read' } } }), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'unsigned x-amz-copy-source on PutObject', run: () => send('PUT', `/${B}/exists.txt`, { body: '', sign: { unsigned: { 'x-amz-copy-source': `${OTHER}/exists.txt` } } }), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'unsigned x-amz-meta-* on PutObject', run: () => send('PUT', `/${B}/exists.txt`, { body: 'forged', sign: { unsigned: { 'x-amz-meta-evil': '1' } } }), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'unsigned x-amz-acl under a presigned CreateBucket URL', run: () => rawSend('PUT', presigned('PUT', '/forged-presigned'), { host, 'x-amz-acl': 'public-read' }, []), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'unsigned x-amz-copy-source under a presigned PUT URL', run: () => rawSend('PUT', presigned('PUT', `/${B}/exists.txt`), { host, 'x-amz-copy-source': `${OTHER}/exists.txt`, 'content-length': '0' }, []), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'unsigned x-amz-meta-* under a presigned PUT URL', run: () => rawSend('PUT', presigned('PUT', `/${B}/exists.txt`), { host, 'x-amz-meta-evil': '1', 'content-length': '6' }, [Buffer.from('forged')]), expect: { status: 403, code: 'AccessDenied' } },
  // Clock skew just beyond S3's 15 minutes, both ways.
  { name: 'x-amz-date 15:01 in the past', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { date: skewDate(-901) } }), expect: { status: 403, code: 'RequestTimeTooSkewed' } },
  { name: 'x-amz-date 15:01 in the future', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { date: skewDate(901) } }), expect: { status: 403, code: 'RequestTimeTooSkewed' } },
  { name: 'presigned X-Amz-Date 15:01 in the future', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`, { date: skewDate(901) }), { host }, []), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'SigV2 Date 15:01 in the past', run: () => rawSend('DELETE', `/${B}/exists.txt`, v2Headers('DELETE', `/${B}/exists.txt`, '', { host }, { date: skewDate(-901) }), []), expect: { status: 403, code: 'RequestTimeTooSkewed' } },
  { name: 'SigV2 Date 15:01 in the future', run: () => rawSend('DELETE', `/${B}/exists.txt`, v2Headers('DELETE', `/${B}/exists.txt`, '', { host }, { date: skewDate(901) }), []), expect: { status: 403, code: 'RequestTimeTooSkewed' } },
  // Credential scope of another region, service or day: S3 answers these before the signature.
  { name: 'credential scope of another region', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { region: 'eu-west-1' } }), expect: { status: 400, code: 'AuthorizationHeaderMalformed' } },
  { name: 'credential scope of another service', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { service: 'iam' } }), expect: { status: 400, code: 'AuthorizationHeaderMalformed' } },
  { name: 'credential scope of another day', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { scopeDate: yesterday() } }), expect: { status: 400, code: 'AuthorizationHeaderMalformed' } },
  { name: 'credential scope and x-amz-date of yesterday', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { date: new Date(Date.now() - 86_400_000) } }), expect: { status: 403, code: 'RequestTimeTooSkewed' } },
  { name: 'presigned credential scope of another region', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`, { region: 'eu-west-1' }), { host }, []), expect: { status: 400, code: 'AuthorizationQueryParametersError' } },
  { name: 'presigned credential scope of another service', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`, { service: 'sts' }), { host }, []), expect: { status: 400, code: 'AuthorizationQueryParametersError' } },
  { name: 'presigned credential scope of another day', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`).replace(/(X-Amz-Credential=[^&]*?%2F)\d{8}/, `$1${yesterday()}`), { host }, []), expect: { status: 400, code: 'AuthorizationQueryParametersError' } },
  // SigV2, header and query.
  { name: 'SigV2 header with a wrong signature', run: () => rawSend('DELETE', `/${B}/exists.txt`, v2Headers('DELETE', `/${B}/exists.txt`, '', { host }, { secret: 'not-the-secret' }), []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 header signed for GET, sent as DELETE', run: () => rawSend('DELETE', `/${B}/exists.txt`, v2Headers('GET', `/${B}/exists.txt`, '', { host }), []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 header with an unsigned-looking x-amz-acl added after signing', run: () => rawSend('PUT', '/forged-v2', { ...v2Headers('PUT', '/forged-v2', '', { host }), 'x-amz-acl': 'public-read' }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 query with a wrong signature', run: () => rawSend('DELETE', v2Presigned('DELETE', `/${B}/exists.txt`, { secret: 'not-the-secret' }), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 query signed for GET, sent as DELETE', run: () => rawSend('DELETE', v2Presigned('GET', `/${B}/exists.txt`), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 query with the key swapped', run: () => rawSend('GET', v2Presigned('GET', `/${B}/range.bin`).replace('range.bin', 'exists.txt'), { host }, []), expect: { status: 403, code: 'SignatureDoesNotMatch' } },
  { name: 'SigV2 query expired', run: () => rawSend('DELETE', v2Presigned('DELETE', `/${B}/exists.txt`, { expiresAt: Math.floor(Date.now() / 1000) - 1 }), { host }, []), expect: { status: 403, code: 'AccessDenied' } },
  // Both mechanisms at once, and an Authorization header of no known kind.
  { name: 'Authorization header and presigned query together', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`), signHeaders('DELETE', `/${B}/exists.txt`, '', { host, 'x-amz-content-sha256': sha256Hex('') }), []), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'Authorization: Bearer', run: () => rawSend('DELETE', `/${B}/exists.txt`, { host, authorization: 'Bearer abc' }, []), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'SigV4 Authorization without SignedHeaders', run: () => rawSend('DELETE', `/${B}/exists.txt`, { host, 'x-amz-date': '20260101T000000Z', authorization: `AWS4-HMAC-SHA256 Credential=${TEST_ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, Signature=${GARBAGE_SIG}` }, []), expect: { status: 400, code: 'AuthorizationHeaderMalformed' } },
  { name: 'SigV4 that does not sign host', run: () => rawSend('DELETE', `/${B}/exists.txt`, withoutHostSigned(signHeaders('DELETE', `/${B}/exists.txt`, '', { host, 'x-amz-content-sha256': sha256Hex('') })), []), expect: { status: 400, code: 'AuthorizationHeaderMalformed' } },
  // A valid signature from a key without a grant on the bucket.
  { name: 'limited key deleting in a bucket it cannot write', run: () => send('DELETE', `/${B}/exists.txt`, { sign: { accessKeyId: limited.id, secret: limited.secret } }), expect: { status: 403, code: 'AccessDenied' } },
  { name: 'limited key copying from a bucket it cannot read', run: () => send('PUT', `/${OTHER}/copied.txt`, { headers: { 'x-amz-copy-source': `${B}/exists.txt` }, sign: { accessKeyId: limited.id, secret: limited.secret } }), expect: { status: 403, code: 'AccessDenied' } },
];

function withoutHostSigned(h: Record<string, string>): Record<string, string> {
  return { ...h, authorization: h.authorization!.replace('SignedHeaders=host;', 'SignedHeaders=') };
}

describe('auth: forged, replayed and bent signatures', () => {
  it.each(AUTH_CASES)('$name: $expect.status $expect.code, nothing changed', async (c) => {
    await expectRefused(c.name, c.run, c.expect);
  });

  it('a presigned URL (SigV4 and SigV2) works until it expires, and a replay after that is 403 AccessDenied', async () => {
    // Signed 56 s ago for 60 s: about four seconds of life left.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 56_000);
    const v4 = presigned('GET', `/${B}/exists.txt`, { date: signedAt, expires: 60 });
    const v2 = v2Presigned('GET', `/${B}/exists.txt`, { expiresAt: signedAt.getTime() / 1000 + 60 });
    for (const target of [v4, v2]) {
      const ok = await rawSend('GET', target, { host }, []);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.text).toBe('hello hostile');
    }
    await sleep(Math.max(0, signedAt.getTime() + 61_000 - Date.now()));
    for (const [name, target] of [['v4', v4], ['v2', v2]] as const) {
      const r = await expectRefused(`presigned ${name} replayed after expiry`, () => rawSend('GET', target, { host }, []), { status: 403, code: 'AccessDenied' });
      expect(r.text).toMatch(/expired/i);
    }
  });

  it('an unauthorised request gets the same 403 whether the object (or bucket) exists or not; anonymous, a missing bucket is 404 as on S3', async () => {
    const variants: Array<[string, (p: string) => Promise<Resp>]> = [
      ['garbage signature', (p) => send('GET', p, { sign: { garbage: true } })],
      ['anonymous', (p) => send('GET', p, { sign: false })],
      ['anonymous HEAD', (p) => send('HEAD', p, { sign: false })],
      ['key without a grant', (p) => send('GET', p, { sign: { accessKeyId: limited.id, secret: limited.secret } })],
      ['key without a grant, HEAD', (p) => send('HEAD', p, { sign: { accessKeyId: limited.id, secret: limited.secret } })],
      ['key without a grant, DELETE', (p) => send('DELETE', p, { sign: { accessKeyId: limited.id, secret: limited.secret } })],
    ];
    for (const [name, run] of variants) {
      const answers = [];
      // An existing object, a missing key, a missing bucket.
      // S3 tells anyone that a bucket does not exist (#21); a bucket that exists tells nothing more.
      const anonymous = name.startsWith('anonymous');
      for (const p of [`/${B}/exists.txt`, `/${B}/missing.txt`, '/no-such-bucket-x/exists.txt']) {
        const noBucket = anonymous && p.startsWith('/no-such-bucket-x');
        const code = name.includes('HEAD') ? undefined : noBucket ? 'NoSuchBucket' : name === 'garbage signature' ? 'SignatureDoesNotMatch' : 'AccessDenied';
        const r = await expectRefused(`unauthorised ${name} ${p}`, () => run(p), { status: noBucket ? 404 : 403, code });
        answers.push({ status: r.status, body: normalise(r.text).replace(/<Resource>[^<]*<\/Resource>/, '') });
      }
      expect(answers[1], name).toEqual(answers[0]);
      if (!anonymous) expect(answers[2], name).toEqual(answers[0]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Keys: opaque bytes or a clean refusal, never a path

interface KeyCase {
  name: string;
  /** As sent on the wire (the raw request path after /bucket/). */
  wire: string;
  /** The key it must be stored under, or the error it must get. */
  key?: string;
  error?: Expect;
}

const KEY_CASES: KeyCase[] = [
  { name: '../../x sent raw', wire: '../../x', key: '../../x' },
  { name: 'a/../../b sent raw', wire: 'a/../../b', key: 'a/../../b' },
  { name: '../../../../../../etc/passwd sent raw', wire: '../../../../../../etc/passwd', key: '../../../../../../etc/passwd' },
  { name: '%2e%2e/ (encoded dots)', wire: '%2e%2e/', key: '../' },
  { name: '%2e%2e%2f%2e%2e%2fx (encoded slashes too)', wire: '%2e%2e%2f%2e%2e%2fx', key: '../../x' },
  { name: 'a literal %2e%2e/ (its % encoded)', wire: '%252e%252e/', key: '%2e%2e/' },
  { name: '..\\ sent raw', wire: '..\\', key: '..\\' },
  { name: '..\\..\\x encoded', wire: '..%5C..%5Cx', key: '..\\..\\x' },
  { name: '. and .. as whole keys', wire: '..', key: '..' },
  { name: 'a leading slash (//x)', wire: '/x', key: '/x' },
  { name: 'NUL inside (%00)', wire: 'nul%00byte', key: 'nul\u0000byte' },
  { name: 'NUL then ../ (%00../../x)', wire: '%00/../../x', key: '\u0000/../../x' },
  { name: 'control characters %01-%1F and DEL', wire: Array.from({ length: 31 }, (_, i) => `%${(i + 1).toString(16).padStart(2, '0').toUpperCase()}`).join('') + '%7F', key: Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('') + '\u007f' },
  { name: 'CR LF inside (%0D%0A)', wire: 'line%0D%0AX-Injected:%201', key: 'line\r\nX-Injected: 1' },
  { name: 'a raw byte 0xFF (not ASCII on the wire)', wire: '\u00ff', error: { status: 400, code: 'InvalidRequest' } },
  { name: 'invalid UTF-8 (%FF%FE)', wire: 'bad%FF%FE', error: { status: 400, code: 'InvalidURI' } },
  { name: 'overlong UTF-8 slash (%C0%AF)', wire: '..%C0%AF..%C0%AFx', error: { status: 400, code: 'InvalidURI' } },
  { name: 'UTF-16 surrogate (%ED%A0%80)', wire: 'x%ED%A0%80', error: { status: 400, code: 'InvalidURI' } },
  { name: 'a lone % (bad escape)', wire: '100%', error: { status: 400, code: 'InvalidURI' } },
  { name: '1025 bytes', wire: 'k'.repeat(1025), error: { status: 400, code: 'KeyTooLongError' } },
  { name: '1024 bytes of ../', wire: '../'.repeat(341) + 'x', key: '../'.repeat(341) + 'x' },
  { name: '1025 bytes of ../', wire: '../'.repeat(341) + 'xy', error: { status: 400, code: 'KeyTooLongError' } },
];

describe('keys: ../, NUL, invalid UTF-8, control characters', () => {
  it.each(KEY_CASES)('$name', async (c) => {
    const wirePath = `/${B}/${c.wire}`;
    const data = `data of ${c.name}`;
    if (c.error) {
      await expectRefused(`key ${c.name}`, () => send('PUT', wirePath, { body: data }), c.error);
      return;
    }
    await waitIdle();
    const before = state();
    const put = await send('PUT', wirePath, { body: data });
    expect(put.status, put.text).toBe(200);
    // Stored under exactly the decoded key, reachable by its canonical encoding too.
    const row = srv.db.sqlite.prepare('SELECT key FROM objects WHERE key = ?').get(c.key) as { key: string } | undefined;
    expect(row?.key).toBe(c.key);
    for (const p of [wirePath, `/${B}/${enc(c.key!)}`]) {
      const get = await send('GET', p);
      expect(get.status, p).toBe(200);
      expect(get.text).toBe(data);
    }
    // Listed under the same key (URL-encoded listing, so any byte survives the XML).
    const list = await send('GET', `/${B}`, { query: `list-type=2&encoding-type=url&prefix=${encodeURIComponent(c.key!)}` });
    const keys = [...list.text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeURIComponent(m[1]!));
    expect(keys).toContain(c.key);
    // No header of any answer carries a raw CR or LF from the key.
    expect(JSON.stringify(put.headers)).not.toMatch(/X-Injected/i);
    const del = await send('DELETE', wirePath);
    expect(del.status).toBe(204);
    expect((await send('GET', wirePath)).status).toBe(404);
    await waitIdle();
    expect(state()).toBe(before);
  });

  it('key and bucket names reached through other operations: copy, multipart, DeleteObjects', async () => {
    const long = 'k'.repeat(1025);
    await expectRefused('CopyObject to a 1025-byte key', () => send('PUT', `/${B}/${long}`, { headers: { 'x-amz-copy-source': `${B}/exists.txt` } }), { status: 400, code: 'KeyTooLongError' });
    await expectRefused('CreateMultipartUpload of a 1025-byte key', () => send('POST', `/${B}/${long}`, { query: 'uploads' }), { status: 400, code: 'KeyTooLongError' });
    await expectRefused('CopyObject from ../../ of the bucket', () => send('PUT', `/${B}/copy.txt`, { headers: { 'x-amz-copy-source': `${B}/../../etc/passwd` } }), { status: 404, code: 'NoSuchKey' });
    await expectRefused('CopyObject from an invalid UTF-8 source', () => send('PUT', `/${B}/copy.txt`, { headers: { 'x-amz-copy-source': `${B}/%FF%FE` } }), { status: 400, code: 'InvalidURI' });
    await expectRefused('CopyObject from a bucket named ..', () => send('PUT', `/${B}/copy.txt`, { headers: { 'x-amz-copy-source': `../${B}/exists.txt` } }), { status: 404, code: 'NoSuchBucket' });
    await expectRefused('bucket named .. in the path', () => send('GET', `/../${B}/exists.txt`), { status: 404, code: 'NoSuchBucket' });
    await expectRefused('CreateBucket named ..', () => send('PUT', '/..'), { status: 400, code: 'InvalidBucketName' });
    await expectRefused('CreateBucket named %2e%2e%2fx', () => send('PUT', '/%2e%2e%2fx'), { status: 400, code: 'InvalidBucketName' });
    // DeleteObjects reports a too-long or empty key per key, and deletes nothing.
    const xml = `<Delete><Object><Key>${long}</Key></Object><Object><Key>../../exists.txt</Key></Object></Delete>`;
    await waitIdle();
    const before = state();
    const r = await send('POST', `/${B}`, { query: 'delete', body: xml, headers: { 'content-md5': md5B64(xml) } });
    expect(r.status).toBe(200);
    expect(r.text).toContain('<Code>KeyTooLongError</Code>');
    expect(state()).toBe(before);
  });

  it('raw NUL, space and control bytes in the request line: 400 InvalidRequest, server up', async () => {
    for (const target of [`/${B}/a\u0000b`, `/${B}/a b`, `/${B}/a\u0001b`, `/${B}/a\rb`]) {
      await waitIdle();
      const before = state();
      const [r] = await socketSend(`PUT ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\n\r\nx`);
      expectError(r!, { status: 400, code: 'InvalidRequest' }, JSON.stringify(target));
      record(`raw request line ${JSON.stringify(target)}`, r!);
      expect(state()).toBe(before);
      await expectServerUp();
    }
  });

  it('no file appears outside the data dir, and inside it only cairn files', () => {
    const dataDir = srv.dataDir;
    const allowed = [
      /^cairn\.db(-wal|-shm|-journal)?$/,
      /^credentials\.json$/,
      /^admin-token$/,
      /^chunks(\/[0-9a-f]{2}(\/[0-9a-f]{2}(\/[0-9a-f]{64})?)?)?$/,
      // tmp/local: the single node's temp folder (a gateway's id on shared chunk folders).
      /^tmp(\/local)?$/,
      /^quarantine$/,
    ];
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = path.join(dir, d.name);
      return d.isDirectory() ? [p, ...walk(p)] : [p];
    });
    for (const p of walk(root)) {
      if (!p.startsWith(dataDir + path.sep)) {
        expect([path.join(root, 'a'), path.join(root, 'a', 'b'), path.join(root, 'a', 'b', 'c'), dataDir], `outside the data dir: ${p}`).toContain(p);
        continue;
      }
      const rel = path.relative(dataDir, p).split(path.sep).join('/');
      expect(allowed.some((re) => re.test(rel)), `unexpected file in the data dir: ${rel}`).toBe(true);
    }
    // Nor next to the test process.
    for (const name of ['x', 'b', 'passwd', '..\\', '..\\..\\x']) expect(fs.existsSync(path.join(process.cwd(), name)), name).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// XML bodies: entity tricks, size and depth

function billionLaughs(root: string, inner: string): string {
  const lol = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?>\n<!DOCTYPE ${root} [\n${lol.join('\n')}\n]>\n${inner.replace('TEXT', '&lol9;')}`;
}

/** Pieces of a body much larger than any XML cairn accepts, produced lazily. */
async function* hugeBody(total: number, head: string | Buffer): AsyncGenerator<Buffer> {
  yield Buffer.from(head);
  const filler = Buffer.alloc(MiB, '<Object><Key>k</Key></Object>');
  for (let sent = head.length; sent < total; sent += filler.length) yield filler;
}

interface XmlTarget {
  op: string;
  send: (body: Buffer | string, o?: { pieces?: AsyncIterable<Buffer>; contentLength?: number }) => Promise<Resp>;
  /** The document with `t` as the text of its one leaf. */
  wrap: (text: string) => string;
  rootName: string;
}

const XML_TARGETS: XmlTarget[] = [
  {
    op: 'DeleteObjects',
    rootName: 'Delete',
    wrap: (t) => `<Delete><Object><Key>${t}</Key></Object></Delete>`,
    send: (body, o = {}) =>
      send('POST', `/${B}`, {
        query: 'delete',
        body: o.pieces ? undefined : body,
        pieces: o.pieces,
        contentSha: o.pieces ? 'UNSIGNED-PAYLOAD' : undefined,
        headers: { 'x-amz-checksum-crc32': crc32B64(body), ...(o.contentLength ? { 'content-length': String(o.contentLength) } : {}) },
      }),
  },
  {
    op: 'CompleteMultipartUpload',
    rootName: 'CompleteMultipartUpload',
    wrap: (t) => `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${t}</ETag></Part></CompleteMultipartUpload>`,
    send: (body, o = {}) =>
      send('POST', `/${B}/mp.bin`, {
        query: `uploadId=${uploadId}`,
        body: o.pieces ? undefined : body,
        pieces: o.pieces,
        contentSha: o.pieces ? 'UNSIGNED-PAYLOAD' : undefined,
        headers: o.contentLength ? { 'content-length': String(o.contentLength) } : {},
      }),
  },
  {
    op: 'CreateBucket',
    rootName: 'CreateBucketConfiguration',
    wrap: (t) => `<CreateBucketConfiguration><LocationConstraint>${t}</LocationConstraint></CreateBucketConfiguration>`,
    send: (body, o = {}) =>
      send('PUT', '/xml-bomb-bucket', {
        body: o.pieces ? undefined : body,
        pieces: o.pieces,
        contentSha: o.pieces ? 'UNSIGNED-PAYLOAD' : undefined,
        headers: o.contentLength ? { 'content-length': String(o.contentLength) } : {},
      }),
  },
];

interface XmlCase {
  name: string;
  body: (t: XmlTarget) => string | Buffer;
  /** Stream this many bytes instead of sending body() (chunked, or with contentLength). */
  stream?: number;
  contentLength?: number;
  maxMs: number;
}

const XML_CASES: XmlCase[] = [
  { name: 'billion laughs', body: (t) => billionLaughs(t.rootName, t.wrap('TEXT')), maxMs: 2000 },
  { name: 'external entity (file:///etc/passwd)', body: (t) => `<?xml version="1.0"?><!DOCTYPE ${t.rootName} [<!ENTITY x SYSTEM "file:///etc/passwd">]>${t.wrap('&x;')}`, maxMs: 2000 },
  { name: 'parameter entity', body: (t) => `<!DOCTYPE ${t.rootName} [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>${t.wrap('a')}`, maxMs: 2000 },
  { name: 'plain DOCTYPE', body: (t) => `<!DOCTYPE ${t.rootName}>${t.wrap('a')}`, maxMs: 2000 },
  { name: 'lower-case doctype after a comment', body: (t) => `<!-- x --><!doctype ${t.rootName}>${t.wrap('a')}`, maxMs: 2000 },
  { name: 'an undeclared entity', body: (t) => t.wrap('&lol9;'), maxMs: 2000 },
  { name: '1,000,000 &#65; references (5.9 MB)', body: (t) => t.wrap('&#65;'.repeat(1_000_000)), maxMs: 3000 },
  { name: '1,000,000 &#0; references', body: (t) => t.wrap('&#0;'.repeat(1_000_000)), maxMs: 3000 },
  { name: '&#0; (not an XML character)', body: (t) => t.wrap('a&#0;b'), maxMs: 2000 },
  { name: '100,000-deep nesting', body: (t) => t.wrap('<a>'.repeat(100_000) + '</a>'.repeat(100_000)), maxMs: 3000 },
  { name: '100,000 unclosed elements', body: (t) => t.wrap('<a>'.repeat(100_000)), maxMs: 3000 },
  { name: '100 MB streamed without a length', body: (t) => `<${t.rootName}>`, stream: 100 * MiB, maxMs: 5000 },
  { name: '100 MB declared in Content-Length', body: (t) => `<${t.rootName}>`, stream: 100 * MiB, contentLength: 100 * MiB, maxMs: 5000 },
  { name: 'CDATA around a DOCTYPE', body: (t) => t.wrap('<![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]>&a;'), maxMs: 2000 },
  { name: 'two root elements', body: (t) => t.wrap('a') + t.wrap('a'), maxMs: 2000 },
  { name: 'invalid UTF-8', body: (t) => Buffer.concat([Buffer.from(t.wrap('@@').split('@@')[0]!), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from(t.wrap('@@').split('@@')[1]!)]), maxMs: 2000 },
];

describe('XML bodies: entity bombs, DOCTYPE, huge and deep documents', () => {
  const table = XML_TARGETS.flatMap((target) => XML_CASES.map((c) => ({ target, c, name: `${target.op}: ${c.name}` })));

  it.each(table)('$name: 400 MalformedXML in bounded time and memory, nothing changed', async ({ target, c, name }) => {
    const body = c.body(target);
    let peak = process.memoryUsage().rss;
    const before = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let ms = 0;
    try {
      await expectRefused(
        name,
        async () => {
          const started = Date.now();
          const r = await (c.stream ? target.send(body, { pieces: hugeBody(c.stream, body), contentLength: c.contentLength }) : target.send(body));
          ms = Date.now() - started;
          return r;
        },
        { status: 400, code: 'MalformedXML' },
      );
    } finally {
      clearInterval(sampler);
    }
    expect(ms, 'time to the answer').toBeLessThan(c.maxMs);
    expect(peak - before, 'RSS growth').toBeLessThan(150 * MiB);
    expect(errorBodies.get(name)).not.toMatch(/root:|lollol/);
  });
});

// ---------------------------------------------------------------------------------------------
// Headers: size, count, lying lengths, ranges, checksums, duplicate query keys

function metaHeaders(count: number, valueBytes: number): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i < count; i++) h[`x-amz-meta-m${i}`] = 'v'.repeat(valueBytes);
  return h;
}

/** Short unsigned headers: 1,000 of them stay well under the 16 KiB header limit. */
function padHeaders(count: number): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i < count; i++) h[`x-p${i}`] = '1';
  return h;
}

const HEADER_CASES: AuthCase[] = [
  { name: '16 KiB of metadata in one header', run: () => send('PUT', `/${B}/meta.txt`, { body: 'x', headers: { 'x-amz-meta-big': 'v'.repeat(16 * 1024) } }), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '16 KiB of metadata in 64 headers', run: () => send('PUT', `/${B}/meta.txt`, { body: 'x', headers: metaHeaders(64, 256) }), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '12 KiB of metadata (fits the header limit, not S3 metadata limit)', run: () => send('PUT', `/${B}/meta.txt`, { body: 'x', headers: metaHeaders(48, 256) }), expect: { status: 400, code: 'MetadataTooLarge' } },
  { name: '12 KiB of metadata on CreateMultipartUpload', run: () => send('POST', `/${B}/meta.txt`, { query: 'uploads', headers: metaHeaders(48, 256) }), expect: { status: 400, code: 'MetadataTooLarge' } },
  { name: '12 KiB of metadata on CopyObject REPLACE', run: () => send('PUT', `/${B}/meta.txt`, { headers: { 'x-amz-copy-source': `${B}/exists.txt`, 'x-amz-metadata-directive': 'REPLACE', ...metaHeaders(48, 256) } }), expect: { status: 400, code: 'MetadataTooLarge' } },
  { name: '1,000 headers (11 KiB)', run: () => send('PUT', `/${B}/many.txt`, { body: 'x', sign: { unsigned: padHeaders(1000) } }), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '1,000 headers before Authorization (node would drop it)', run: () => rawSend('DELETE', `/${B}/exists.txt`, { host, ...padHeaders(1000), ...signHeaders('DELETE', `/${B}/exists.txt`, '', { host, 'x-amz-content-sha256': sha256Hex('') }) }, []), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '1,000 headers before Host', run: () => rawSend('GET', `/${B}/exists.txt`, { ...padHeaders(1000), host }, []), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: 'no Host header', run: async () => (await socketSend(`GET /${B}/exists.txt HTTP/1.1\r\nConnection: close\r\n\r\n`))[0]!, expect: { status: 400, code: 'InvalidRequest' } },
  { name: '1,000 headers hiding If-None-Match', run: () => send('PUT', `/${B}/exists.txt`, { body: 'forged', sign: { unsigned: { ...padHeaders(1000), 'if-none-match': '*' } } }), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '1,000 metadata headers', run: () => send('PUT', `/${B}/meta.txt`, { body: 'x', headers: metaHeaders(1000, 1) }), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  { name: '300 metadata headers, 2.7 KB', run: () => send('PUT', `/${B}/meta.txt`, { body: 'x', headers: metaHeaders(300, 5) }), expect: { status: 400, code: 'MetadataTooLarge' } },
  { name: 'a 17 KiB URL', run: () => send('GET', `/${B}/${'u'.repeat(17 * 1024)}`), expect: { status: 400, code: 'RequestHeaderSectionTooLarge' } },
  // Content-Length lies and framing conflicts.
  { name: 'Content-Length 5 GiB + 1', run: () => send('PUT', `/${B}/huge.bin`, { contentSha: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(5 * 1024 ** 3 + 1) }, pieces: [Buffer.from('x')] }), expect: { status: 400, code: 'EntityTooLarge' } },
  {
    name: 'Content-Length shorter than the signed body',
    run: async () => {
      // The rest of the body is read as a next request: refused in turn, after the first answer.
      const rs = await socketSend(rawPut('short-cl.bin', 'hello world, longer than five', { 'content-length': '5' }));
      expect(rs.map((r) => r.status)).toEqual([400, 400]);
      expect(rs[1]!.text).toContain('<Code>InvalidRequest</Code>');
      return rs[0]!;
    },
    expect: { status: 400, code: 'XAmzContentSHA256Mismatch' },
  },
  { name: 'Content-Length: -1', run: async () => (await socketSend(rawPut('neg-cl.bin', 'x', { 'content-length': '-1' })))[0]!, expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'Content-Length: 1e3', run: async () => (await socketSend(rawPut('exp-cl.bin', 'x', { 'content-length': '1e3' })))[0]!, expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'two different Content-Lengths', run: async () => (await socketSend(rawPut('two-cl.bin', 'xx', { 'content-length': '1', 'Content-Length': '2' })))[0]!, expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'Content-Length and Transfer-Encoding: chunked (smuggling)', run: async () => (await socketSend(rawPut('te-cl.bin', '1\r\nx\r\n0\r\n\r\n', { 'content-length': '11', 'transfer-encoding': 'chunked' })))[0]!, expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'Transfer-Encoding: gzip, chunked', run: async () => (await socketSend(rawPut('te-gzip.bin', '1\r\nx\r\n0\r\n\r\n', { 'transfer-encoding': 'gzip, chunked' })))[0]!, expect: { status: 501, code: 'NotImplemented' } },
  { name: 'x-amz-decoded-content-length: -5', run: () => send('PUT', `/${B}/dcl.bin`, { body: '0\r\n\r\n', contentSha: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '-5' } }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'x-amz-decoded-content-length: 99999999999999999999', run: () => send('PUT', `/${B}/dcl.bin`, { body: '0\r\n\r\n', contentSha: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '99999999999999999999' } }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'aws-chunked chunk size of 2^64-1', run: () => send('PUT', `/${B}/dcl.bin`, { body: 'ffffffffffffffff\r\nx', contentSha: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '1' } }), expect: { status: 400, code: 'InvalidRequest' } },
  // Ranges that cannot be satisfied, on GET and on UploadPartCopy.
  { name: 'Range bytes=3000- on 3000 bytes', run: () => send('GET', `/${B}/range.bin`, { headers: { range: 'bytes=3000-' } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: 'Range bytes=99999999999999999999-', run: () => send('GET', `/${B}/range.bin`, { headers: { range: 'bytes=99999999999999999999-' } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: `Range bytes=${'9'.repeat(400)}-${'9'.repeat(401)}`, run: () => send('GET', `/${B}/range.bin`, { headers: { range: `bytes=${'9'.repeat(400)}-${'9'.repeat(401)}` } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: 'Range bytes=-0', run: () => send('GET', `/${B}/range.bin`, { headers: { range: 'bytes=-0' } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: 'x-amz-copy-source-range bytes=-1-5', run: () => send('PUT', `/${B}/mp.bin`, { query: `partNumber=2&uploadId=${uploadId}`, headers: { 'x-amz-copy-source': `${B}/range.bin`, 'x-amz-copy-source-range': 'bytes=-1-5' } }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'x-amz-copy-source-range beyond the source', run: () => send('PUT', `/${B}/mp.bin`, { query: `partNumber=2&uploadId=${uploadId}`, headers: { 'x-amz-copy-source': `${B}/range.bin`, 'x-amz-copy-source-range': 'bytes=0-99999999999999999999' } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: 'x-amz-copy-source-range last < first', run: () => send('PUT', `/${B}/mp.bin`, { query: `partNumber=2&uploadId=${uploadId}`, headers: { 'x-amz-copy-source': `${B}/range.bin`, 'x-amz-copy-source-range': 'bytes=10-5' } }), expect: { status: 416, code: 'InvalidRange' } },
  { name: 'partNumber=-1 on GET', run: () => send('GET', `/${B}/range.bin`, { query: 'partNumber=-1' }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'partNumber=99999999999999999999 on UploadPart', run: () => send('PUT', `/${B}/mp.bin`, { query: `partNumber=99999999999999999999&uploadId=${uploadId}`, body: 'x' }), expect: { status: 400, code: 'InvalidArgument' } },
  // Checksums that contradict each other.
  { name: 'x-amz-checksum-crc32 and x-amz-checksum-sha256 together', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', headers: { 'x-amz-checksum-crc32': crc32B64('data'), 'x-amz-checksum-sha256': createHash('sha256').update('data').digest('base64') } }), expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'x-amz-checksum-crc32 twice, different values', run: () => rawSend('PUT', `/${B}/ck.txt`, signRaw('PUT', `/${B}/ck.txt`, 'data', [['x-amz-checksum-crc32', crc32B64('data')], ['x-amz-checksum-crc32', crc32B64('other')]]), [Buffer.from('data')]), expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'x-amz-sdk-checksum-algorithm SHA256 with an x-amz-checksum-crc32 value', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', headers: { 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': crc32B64('data') } }), expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'x-amz-checksum-crc32 header and an x-amz-checksum-crc32c trailer', run: () => send('PUT', `/${B}/ck.txt`, { body: `4\r\ndata\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n`, contentSha: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '4', 'x-amz-trailer': 'x-amz-checksum-crc32c', 'x-amz-checksum-crc32': crc32B64('data') } }), expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'right Content-MD5, wrong CRC32', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', headers: { 'content-md5': md5B64('data'), 'x-amz-checksum-crc32': crc32B64('other') } }), expect: { status: 400, code: 'BadDigest' } },
  { name: 'right CRC32, wrong Content-MD5', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', headers: { 'content-md5': md5B64('other'), 'x-amz-checksum-crc32': crc32B64('data') } }), expect: { status: 400, code: 'BadDigest' } },
  { name: 'right CRC32, hex x-amz-content-sha256 of other bytes', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', contentSha: sha256Hex('other'), headers: { 'x-amz-checksum-crc32': crc32B64('data') } }), expect: { status: 400, code: 'XAmzContentSHA256Mismatch' } },
  { name: 'x-amz-checksum-crc32 of the wrong length', run: () => send('PUT', `/${B}/ck.txt`, { body: 'data', headers: { 'x-amz-checksum-crc32': 'AAAAAAAA' } }), expect: { status: 400, code: 'InvalidRequest' } },
  { name: 'x-amz-checksum-algorithm MD5', run: () => send('POST', `/${B}/ck.txt`, { query: 'uploads', headers: { 'x-amz-checksum-algorithm': 'MD5' } }), expect: { status: 400, code: 'InvalidRequest' } },
  // The same query parameter twice: two readers could each pick another value.
  { name: 'uploadId twice', run: () => send('DELETE', `/${B}/mp.bin`, { query: `uploadId=${uploadId}&uploadId=other` }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'partNumber twice', run: () => send('PUT', `/${B}/mp.bin`, { query: `partNumber=1&partNumber=2&uploadId=${uploadId}`, body: 'x' }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'list-type twice', run: () => send('GET', `/${B}`, { query: 'list-type=2&list-type=1' }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'prefix twice', run: () => send('GET', `/${B}`, { query: 'prefix=a&prefix=b' }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'delete twice (valueless)', run: () => send('POST', `/${B}`, { query: 'delete&delete', body: deleteXml, headers: { 'content-md5': md5B64(deleteXml) } }), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'X-Amz-Expires twice in a presigned URL', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`) + '&X-Amz-Expires=604800', { host }, []), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'X-Amz-Signature twice in a presigned URL', run: () => rawSend('DELETE', presigned('DELETE', `/${B}/exists.txt`) + `&X-Amz-Signature=${GARBAGE_SIG}`, { host }, []), expect: { status: 400, code: 'InvalidArgument' } },
  { name: 'Signature twice in a SigV2 URL', run: () => rawSend('DELETE', v2Presigned('DELETE', `/${B}/exists.txt`) + '&Signature=x', { host }, []), expect: { status: 400, code: 'InvalidArgument' } },
];

/** A signed PUT written by hand (for lengths node's client will not send). */
function rawPut(key: string, body: string, extra: Record<string, string>): string {
  const p = `/${B}/${key}`;
  const h = signHeaders('PUT', p, '', { host, 'x-amz-content-sha256': sha256Hex(body) });
  return `PUT ${p} HTTP/1.1\r\n` + [...Object.entries(h), ...Object.entries(extra)].map(([k, v]) => `${k}: ${v}\r\n`).join('') + `\r\n${body}`;
}

/** Signed headers with a repeated header (an array value: node sends each line). */
function signRaw(method: string, p: string, body: string, extra: Array<[string, string]>): Record<string, string> {
  const h: Record<string, string | string[]> = { host, 'x-amz-content-sha256': sha256Hex(body), 'content-length': String(body.length) };
  for (const [k, v] of extra) h[k] = h[k] === undefined ? v : [...([] as string[]).concat(h[k]!), v];
  const signed = signRequest({ method, rawPath: p, rawQuery: '', headers: h }, { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() });
  return signed.request.headers as Record<string, string>;
}

describe('headers: sizes, counts, lying lengths, ranges, checksums, duplicate query keys', () => {
  it.each(HEADER_CASES)('$name: $expect.status $expect.code, nothing changed', async (c) => {
    await expectRefused(c.name, c.run, c.expect);
  });

  const RANGES: Array<{ range: string; status: number; start?: number; end?: number }> = [
    { range: 'bytes=-1-5', status: 200 },
    { range: 'bytes=--5', status: 200 },
    { range: 'bytes=5-3', status: 200 },
    { range: 'bytes=0-1,5-6', status: 200 },
    { range: 'bytes=1.5-2', status: 200 },
    { range: 'bytes=0x10-', status: 200 },
    { range: 'items=0-5', status: 200 },
    { range: 'bytes=', status: 200 },
    { range: 'bytes=-', status: 200 },
    { range: 'bytes=0-99999999999999999999', status: 206, start: 0, end: 2999 },
    { range: `bytes=0-${'9'.repeat(400)}`, status: 206, start: 0, end: 2999 },
    { range: 'bytes=-99999999999999999999', status: 206, start: 0, end: 2999 },
    { range: 'bytes=-1', status: 206, start: 2999, end: 2999 },
    { range: 'bytes=2999-2999', status: 206, start: 2999, end: 2999 },
    { range: '  BYTES = 10 - 20  ', status: 206, start: 10, end: 20 },
  ];

  it.each(RANGES)('Range $range: $status', async ({ range, status, start, end }) => {
    const r = await send('GET', `/${B}/range.bin`, { headers: { range } });
    expect(r.status, r.text).toBe(status);
    if (status === 200) {
      expect(r.body.equals(RANGE_DATA)).toBe(true);
      expect(r.headers['content-range']).toBeUndefined();
    } else {
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/3000`);
      expect(r.body.equals(RANGE_DATA.subarray(start!, end! + 1))).toBe(true);
    }
  });

  it('a request that fits just under the header count limit is served', async () => {
    const r = await send('GET', `/${B}/exists.txt`, { sign: { unsigned: padHeaders(480) } });
    expect(r.status, r.text).toBe(200);
    expect(r.text).toBe('hello hostile');
  });
});

// ---------------------------------------------------------------------------------------------
// Error bodies

/** Request ids, times and ports vary from run to run; the rest of an error body must not. */
function normalise(text: string): string {
  return text
    .replace(/<(RequestId|HostId)>[^<]*</g, '<$1>ID<')
    .replace(/<(RequestTime|ServerTime|Expires)>[^<]*</g, '<$1>TIME<')
    .replace(new RegExp(String(srv?.port ?? 0), 'g'), 'PORT')
    .replace(/\d{8}T\d{6}Z/g, 'AMZDATE');
}

describe('error bodies', () => {
  it('never carry a file path, a stack trace or a secret (snapshot)', () => {
    expect(errorBodies.size).toBeGreaterThan(150);
    const secrets = [TEST_SECRET, limited.secret, srv.adminToken];
    for (const [name, body] of errorBodies) {
      expect(body, name).not.toContain(srv.dataDir);
      expect(body, name).not.toContain(root);
      expect(body, name).not.toContain(os.tmpdir() + '/');
      expect(body, name).not.toMatch(/^\s*at /m);
      expect(body, name).not.toMatch(/\.[jt]s:\d+|node:internal|node_modules|Error: /);
      for (const s of secrets) expect(body, name).not.toContain(s);
    }
    // Node 22 and later count each header line's framing against maxHeaderSize, so 1,000 small
    // headers are refused by node's parser (http/listener.ts answers that) where Node 20 lets them
    // through to app.ts's header count: the same code and status, two bodies. Those cases are
    // checked here, and the snapshot holds the rest.
    const countCases = [...errorBodies.keys()].filter((name) => name.startsWith('1,000 headers'));
    expect(countCases.length).toBe(4);
    for (const name of countCases) {
      expect(normalise(errorBodies.get(name)!), name).toMatch(
        /<Code>RequestHeaderSectionTooLarge<\/Code><Message>(Your request has more than 499 header fields\.<\/Message><Resource>\/<\/Resource>|Your request header section exceeds the maximum allowed size\.<\/Message><MaxSizeAllowed>16384<\/MaxSizeAllowed>)<RequestId>ID<\/RequestId>/,
      );
    }
    const snapshot = [...errorBodies.entries()]
      .filter(([name]) => !countCases.includes(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, body]) => `## ${name}\n${normalise(body)}\n`);
    expect(snapshot.join('\n')).toMatchSnapshot();
  });
});
