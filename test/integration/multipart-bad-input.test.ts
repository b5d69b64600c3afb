import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { chunkFiles, startTestServer, tmpFiles, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { signRequest } from '../../src/auth/sigv4.js';

// Multipart requests that go wrong, over raw signed HTTP: each must get S3's error code and
// status and change nothing (the upload, its parts, the object, tmp/, chunk files, the pool).
// Then the races and lifetimes: a client dying mid-part, Complete racing Abort, expiry, and
// how long Complete of a 1,000-part upload takes.

const MiB = 1024 * 1024;
const B = 'mpbad';
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const md5hex = (b: Buffer) => md5(b).toString('hex');
const multipartEtag = (parts: Buffer[]) => `"${md5hex(Buffer.concat(parts.map(md5)))}-${parts.length}"`;

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface Req {
  method: string;
  key?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** UNSIGNED-PAYLOAD instead of the body's SHA-256 (cheaper for big bodies). */
  unsigned?: boolean;
}

const enc = (key: string) => key.split('/').map(encodeURIComponent).join('/');
const code = (r: Resp) => /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];

function expectError(r: Resp, status: number, errorCode: string): void {
  expect({ status: r.status, code: code(r) }, r.text).toEqual({ status, code: errorCode });
  expect(r.text).toMatch(/^<\?xml[^>]*>\s*<Error>/);
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const partXml = (n: number | string, etag: string) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;
const completeXml = (parts: Array<[number, string]>) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="${XMLNS}">${parts.map(([n, e]) => partXml(n, e)).join('')}</CompleteMultipartUpload>`;

/** A raw S3 client for one test server (SigV4 header auth, path style). */
function clientFor(srv: TestServer) {
  const host = `127.0.0.1:${srv.port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  function signedHeaders(method: string, rawPath: string, rawQuery: string, headers: Record<string, string>): Record<string, string> {
    const signed = signRequest(
      { method, rawPath, rawQuery, headers },
      { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() },
    );
    return signed.request.headers as Record<string, string>;
  }

  function send(o: Req, opts: { agent?: http.Agent | false } = {}): Promise<Resp> {
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const rawPath = o.key === undefined ? `/${B}` : `/${B}/${enc(o.key)}`;
    const headers = signedHeaders(o.method, rawPath, o.query ?? '', {
      host,
      'x-amz-content-sha256': o.unsigned ? 'UNSIGNED-PAYLOAD' : sha256Hex(body ?? Buffer.alloc(0)),
      ...(body !== undefined ? { 'content-length': String(body.length) } : {}),
      ...(o.headers ?? {}),
    });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: srv.port, method: o.method, path: rawPath + (o.query ? `?${o.query}` : ''), headers, agent: opts.agent ?? agent },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => {
            const b = Buffer.concat(parts);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const c = {
    send,
    signedHeaders,
    host,
    agent,
    async create(key: string, headers: Record<string, string> = {}): Promise<string> {
      const r = await send({ method: 'POST', key, query: 'uploads=', headers });
      expect(r.status, r.text).toBe(200);
      return /<UploadId>([^<]+)<\/UploadId>/.exec(r.text)![1]!;
    },
    part(key: string, uploadId: string, n: number | string, body: Buffer, o: { agent?: http.Agent | false } = {}): Promise<Resp> {
      return send({ method: 'PUT', key, query: `partNumber=${n}&uploadId=${uploadId}`, body, unsigned: body.length > 64 * 1024 }, o);
    },
    async partOk(key: string, uploadId: string, n: number, body: Buffer): Promise<string> {
      const r = await c.part(key, uploadId, n, body);
      expect(r.status, r.text).toBe(200);
      expect(r.headers.etag).toBe(`"${md5hex(body)}"`);
      return r.headers.etag as string;
    },
    complete(key: string, uploadId: string, xml: string, o: { agent?: http.Agent | false } = {}): Promise<Resp> {
      return send({ method: 'POST', key, query: `uploadId=${uploadId}`, body: xml }, o);
    },
    abort(key: string, uploadId: string, o: { agent?: http.Agent | false } = {}): Promise<Resp> {
      return send({ method: 'DELETE', key, query: `uploadId=${uploadId}` }, o);
    },
    /** [partNumber, etag, size] of every part, via ListParts. */
    async parts(key: string, uploadId: string): Promise<Array<[number, string, number]>> {
      const r = await send({ method: 'GET', key, query: `uploadId=${uploadId}` });
      expect(r.status, r.text).toBe(200);
      return [...r.text.matchAll(/<Part><PartNumber>(\d+)<\/PartNumber>.*?<ETag>([^<]*)<\/ETag><Size>(\d+)<\/Size>/g)].map((m) => [
        Number(m[1]),
        m[2]!.replace(/&quot;|&#34;/g, '"'),
        Number(m[3]),
      ]);
    },
    async uploadIds(): Promise<string[]> {
      const r = await send({ method: 'GET', query: 'uploads=' });
      expect(r.status, r.text).toBe(200);
      return [...r.text.matchAll(/<UploadId>([^<]+)<\/UploadId>/g)].map((m) => m[1]!);
    },
    head: (key: string) => send({ method: 'HEAD', key }),
    get: (key: string, headers: Record<string, string> = {}, query?: string) => send({ method: 'GET', key, headers, query }),
  };
  return c;
}

/** Chunk files no row (object or part) references. */
const orphanChunks = (srv: TestServer) => chunkFiles(srv).filter((f) => !srv.repo.isChunkReferenced(path.basename(f)));

/** Nothing half-done is left: no tmp file, no orphan chunk, every pool buffer back. */
async function expectClean(srv: TestServer): Promise<void> {
  await waitFor(() => srv.pool.stats().inUse === 0 && tmpFiles(srv).length === 0 && orphanChunks(srv).length === 0, 'cleanup').catch(() => undefined);
  expect(tmpFiles(srv)).toEqual([]);
  expect(orphanChunks(srv)).toEqual([]);
  expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
}

describe('multipart bad input over raw HTTP', () => {
  let srv: TestServer;
  let c: ReturnType<typeof clientFor>;
  const P5 = randomBytes(5 * MiB);

  beforeAll(async () => {
    // Small chunks and a small pool: a dying part spans many chunk writes and waits for buffers.
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 8, maxBuffersPerRequest: 2 });
    c = clientFor(srv);
    expect((await c.send({ method: 'PUT' })).status).toBe(200);
  });
  afterAll(async () => {
    c?.agent.destroy();
    await srv?.stop();
  });

  /** An upload with a 5 MiB part 1 and a small part 2, plus a check that nothing about it changed. */
  async function fixture(key: string) {
    const uploadId = await c.create(key);
    const small = randomBytes(1000);
    const e1 = await c.partOk(key, uploadId, 1, P5);
    const e2 = await c.partOk(key, uploadId, 2, small);
    const before = await c.parts(key, uploadId);
    expect(before).toEqual([
      [1, e1, P5.length],
      [2, e2, small.length],
    ]);
    const unchanged = async () => {
      expect(await c.parts(key, uploadId)).toEqual(before);
      expect(await c.uploadIds()).toContain(uploadId);
      expect((await c.head(key)).status).toBe(404);
      await expectClean(srv);
    };
    return { key, uploadId, e1, e2, small, unchanged };
  }

  it('Complete with a wrong ETag, a missing part, bad order, a duplicate or a small non-last part fails and changes nothing', async () => {
    const f = await fixture('errors/complete');
    const wrong = `"${'0'.repeat(32)}"`;
    const cases: Array<[string, Array<[number, string]>, number, string]> = [
      ['wrong ETag', [[1, f.e1], [2, wrong]], 400, 'InvalidPart'],
      ['part never uploaded', [[1, f.e1], [3, f.e2]], 400, 'InvalidPart'],
      ['ETag of another part', [[1, f.e2], [2, f.e2]], 400, 'InvalidPart'],
      ['descending', [[2, f.e2], [1, f.e1]], 400, 'InvalidPartOrder'],
      ['duplicate', [[1, f.e1], [1, f.e1], [2, f.e2]], 400, 'InvalidPartOrder'],
    ];
    for (const [what, parts, status, errorCode] of cases) {
      const r = await c.complete(f.key, f.uploadId, completeXml(parts));
      expect({ what, status: r.status, code: code(r) }, r.text).toEqual({ what, status, code: errorCode });
      await f.unchanged();
    }
    // EntityTooSmall: a second upload whose small part comes first.
    const key = 'errors/too-small';
    const id = await c.create(key);
    const s1 = await c.partOk(key, id, 1, f.small);
    const s2 = await c.partOk(key, id, 2, P5);
    expectError(await c.complete(key, id, completeXml([[1, s1], [2, s2]])), 400, 'EntityTooSmall');
    expect((await c.head(key)).status).toBe(404);
    expect(await c.uploadIds()).toContain(id);
    // The same upload still completes with a valid list (a lone small part is the last part).
    const ok = await c.complete(key, id, completeXml([[1, s1]]));
    expect(ok.status, ok.text).toBe(200);
    expect((await c.head(key)).headers['content-length']).toBe(String(f.small.length));
    await f.unchanged();
  });

  it('malformed Complete bodies are MalformedXML and change nothing', async () => {
    const f = await fixture('errors/malformed');
    const bodies = [
      '',
      'not xml at all',
      `<CompleteMultipartUpload xmlns="${XMLNS}"><Part><PartNumber>1</PartNumber><ETag>${f.e1}</ETag></Part>`,
      `<CompleteMultipartUpload xmlns="${XMLNS}"></CompleteMultipartUpload>`,
      `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>${f.e1}</ETag></Part></CompleteMultipartUpload>`,
      `<CompleteMultipartUpload><Part><ETag>${f.e1}</ETag></Part></CompleteMultipartUpload>`,
      `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
      `<Wrong><Part><PartNumber>1</PartNumber><ETag>${f.e1}</ETag></Part></Wrong>`,
    ];
    for (const body of bodies) {
      const r = await c.complete(f.key, f.uploadId, body);
      expect({ body, status: r.status, code: code(r) }, r.text).toEqual({ body, status: 400, code: 'MalformedXML' });
      await f.unchanged();
    }
  });

  it('every ETag spelling clients send completes: "abc", &quot;abc&quot;, &#34;abc&#34;, bare, no xmlns, s3cmd style', async () => {
    const bare = (e: string) => e.replace(/"/g, '');
    const spellings: Array<[string, (e1: string, e2: string) => string]> = [
      ['quoted', (e1, e2) => completeXml([[1, e1], [2, e2]])],
      ['&quot;', (e1, e2) => completeXml([[1, `&quot;${bare(e1)}&quot;`], [2, `&quot;${bare(e2)}&quot;`]])],
      ['&#34;', (e1, e2) => completeXml([[1, `&#34;${bare(e1)}&#34;`], [2, `&#34;${bare(e2)}&#34;`]])],
      ['bare', (e1, e2) => completeXml([[1, bare(e1)], [2, bare(e2)]])],
      ['no xmlns', (e1, e2) => `<CompleteMultipartUpload>\n  ${partXml(1, e1)}\n  ${partXml(2, e2)}\n</CompleteMultipartUpload>`],
      // s3cmd: no declaration, no namespace, bare ETags, no whitespace.
      ['s3cmd', (e1, e2) => `<CompleteMultipartUpload>${partXml(1, bare(e1))}${partXml(2, bare(e2))}</CompleteMultipartUpload>`],
    ];
    for (const [name, xml] of spellings) {
      const key = `spelling/${name}`;
      const uploadId = await c.create(key);
      const small = randomBytes(777);
      const [e1, e2] = [await c.partOk(key, uploadId, 1, P5), await c.partOk(key, uploadId, 2, small)];
      const r = await c.complete(key, uploadId, xml(e1, e2));
      expect({ name, status: r.status }, r.text).toEqual({ name, status: 200 });
      const etag = multipartEtag([P5, small]);
      expect(r.text).toContain(`<ETag>${etag.replace(/"/g, '&quot;')}</ETag>`);
      const got = await c.get(key);
      expect(got.headers.etag).toBe(etag);
      expect(got.body.equals(Buffer.concat([P5, small])), name).toBe(true);
      expect(await c.uploadIds()).not.toContain(uploadId);
    }
    await expectClean(srv);
  });

  it('NoSuchUpload: unknown id, wrong key for a real id, after Abort, UploadPart after Complete', async () => {
    const f = await fixture('nsu/real');
    const small = randomBytes(2000);
    // Unknown id, on every operation that takes one.
    for (const r of [
      await c.part(f.key, 'no-such-upload-id', 1, small),
      await c.complete(f.key, 'no-such-upload-id', completeXml([[1, f.e1]])),
      await c.abort(f.key, 'no-such-upload-id'),
      await c.send({ method: 'GET', key: f.key, query: 'uploadId=no-such-upload-id' }),
    ]) expectError(r, 404, 'NoSuchUpload');
    // A real id under another key.
    for (const r of [
      await c.part('nsu/other', f.uploadId, 3, small),
      await c.complete('nsu/other', f.uploadId, completeXml([[1, f.e1], [2, f.e2]])),
      await c.abort('nsu/other', f.uploadId),
      await c.send({ method: 'GET', key: 'nsu/other', query: `uploadId=${f.uploadId}` }),
    ]) expectError(r, 404, 'NoSuchUpload');
    expect((await c.head('nsu/other')).status).toBe(404);
    await f.unchanged();

    // After Abort: a part (small, then 5 MiB), Complete, ListParts, a second Abort.
    expect((await c.abort(f.key, f.uploadId)).status).toBe(204);
    expectError(await c.part(f.key, f.uploadId, 3, small), 404, 'NoSuchUpload');
    expectError(await c.part(f.key, f.uploadId, 1, randomBytes(5 * MiB)), 404, 'NoSuchUpload');
    expectError(await c.complete(f.key, f.uploadId, completeXml([[1, f.e1], [2, f.e2]])), 404, 'NoSuchUpload');
    expectError(await c.send({ method: 'GET', key: f.key, query: `uploadId=${f.uploadId}` }), 404, 'NoSuchUpload');
    expectError(await c.abort(f.key, f.uploadId), 404, 'NoSuchUpload');
    expect((await c.head(f.key)).status).toBe(404);
    expect(await c.uploadIds()).not.toContain(f.uploadId);
    await expectClean(srv);

    // After Complete: UploadPart is NoSuchUpload and the object keeps its bytes.
    const key = 'nsu/completed';
    const id = await c.create(key);
    const e1 = await c.partOk(key, id, 1, small);
    expect((await c.complete(key, id, completeXml([[1, e1]]))).status).toBe(200);
    expectError(await c.part(key, id, 1, randomBytes(2000)), 404, 'NoSuchUpload');
    expectError(await c.part(key, id, 2, randomBytes(2000)), 404, 'NoSuchUpload');
    const got = await c.get(key);
    expect(got.body.equals(small)).toBe(true);
    expect(got.headers.etag).toBe(multipartEtag([small]));
    await expectClean(srv);
  });

  it('a part still being sent when the upload is aborted is NoSuchUpload and leaves nothing', async () => {
    const key = 'aborted/in-flight';
    const uploadId = await c.create(key);
    const body = randomBytes(20 * MiB);
    const chunksBefore = chunkFiles(srv).length;
    const rawPath = `/${B}/${enc(key)}`;
    const query = `partNumber=1&uploadId=${uploadId}`;
    const headers = c.signedHeaders('PUT', rawPath, query, { host: c.host, 'content-length': String(body.length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const sock = net.connect(srv.port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => undefined);
    const closed = new Promise((r) => sock.once('close', r));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`PUT ${rawPath}?${query} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    const half = 10 * MiB;
    for (let i = 0; i < half; i += 256 * 1024) {
      if (!sock.write(body.subarray(i, i + 256 * 1024))) await new Promise((r) => sock.once('drain', r));
    }
    await waitFor(() => chunkFiles(srv).length >= chunksBefore + 5, 'chunks of the part');
    expect((await c.abort(key, uploadId)).status).toBe(204);
    for (let i = half; i < body.length; i += 256 * 1024) {
      if (!sock.write(body.subarray(i, i + 256 * 1024))) await new Promise((r) => sock.once('drain', r));
    }
    await waitFor(() => /\r\n\r\n[\s\S]*<\/Error>/.test(Buffer.concat(got).toString()), 'the answer to the part', 15_000);
    const answer = Buffer.concat(got).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).toContain('<Code>NoSuchUpload</Code>');
    sock.destroy();
    await closed;
    await expectClean(srv);
    expect(chunkFiles(srv).length).toBe(chunksBefore);
    expect(await c.uploadIds()).not.toContain(uploadId);
    expect((await c.head(key)).status).toBe(404);
  });

  it('a re-sent part that fails (bad Content-MD5, bad CRC32, too large) keeps the earlier part', async () => {
    const key = 'errors/resend';
    const uploadId = await c.create(key, { 'x-amz-checksum-algorithm': 'CRC32' });
    const good = randomBytes(3 * MiB);
    const crc = (b: Buffer) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(zlib.crc32(b) >>> 0);
      return out.toString('base64');
    };
    const r1 = await c.send({ method: 'PUT', key, query: `partNumber=1&uploadId=${uploadId}`, body: good, unsigned: true, headers: { 'x-amz-checksum-crc32': crc(good) } });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.headers['x-amz-checksum-crc32']).toBe(crc(good));
    const before = await c.parts(key, uploadId);
    const other = randomBytes(3 * MiB);
    const badMd5 = await c.send({ method: 'PUT', key, query: `partNumber=1&uploadId=${uploadId}`, body: other, unsigned: true, headers: { 'content-md5': md5(good).toString('base64') } });
    expectError(badMd5, 400, 'BadDigest');
    const badCrc = await c.send({ method: 'PUT', key, query: `partNumber=1&uploadId=${uploadId}`, body: other, unsigned: true, headers: { 'x-amz-checksum-crc32': crc(good) } });
    expectError(badCrc, 400, 'BadDigest');
    // A part over 5 GiB is refused from its Content-Length, before any byte is read.
    const sock = net.connect(srv.port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const rawPath = `/${B}/${enc(key)}`;
    const query = `partNumber=1&uploadId=${uploadId}`;
    const headers = c.signedHeaders('PUT', rawPath, query, { host: c.host, 'content-length': String(5 * 1024 ** 3 + 1), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    sock.write(`PUT ${rawPath}?${query} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    sock.write(randomBytes(64 * 1024));
    await waitFor(() => /<\/Error>/.test(Buffer.concat(got).toString()), 'the EntityTooLarge answer');
    sock.destroy();
    expect(Buffer.concat(got).toString()).toMatch(/^HTTP\/1\.1 400 [\s\S]*<Code>EntityTooLarge<\/Code>/);
    expect(await c.parts(key, uploadId)).toEqual(before);
    await expectClean(srv);
    // Completing with an ETag of a part that was since replaced is InvalidPart.
    const replaced = before[0]![1];
    const newer = await c.send({ method: 'PUT', key, query: `partNumber=1&uploadId=${uploadId}`, body: other, unsigned: true, headers: { 'x-amz-checksum-crc32': crc(other) } });
    expect(newer.status, newer.text).toBe(200);
    expectError(await c.complete(key, uploadId, completeXml([[1, replaced]])), 400, 'InvalidPart');
    const ok = await c.complete(key, uploadId, completeXml([[1, newer.headers.etag as string]]));
    expect(ok.status, ok.text).toBe(200);
    expect((await c.get(key)).body.equals(other)).toBe(true);
    await expectClean(srv);
  });

  it('part numbers outside 1..10000 are InvalidArgument and store nothing', async () => {
    const f = await fixture('errors/partnumber');
    for (const n of ['0', '10001', '-1', '1.5', 'abc', '', '99999999999']) {
      const r = await c.part(f.key, f.uploadId, n, randomBytes(3000));
      expect({ n, status: r.status, code: code(r) }, r.text).toEqual({ n, status: 400, code: 'InvalidArgument' });
    }
    const r = await c.part(f.key, f.uploadId, 10001, randomBytes(6 * MiB));
    expectError(r, 400, 'InvalidArgument');
    await f.unchanged();
    // The bounds themselves are fine.
    await c.partOk(f.key, f.uploadId, 10000, randomBytes(100));
    expect((await c.parts(f.key, f.uploadId)).map((p) => p[0])).toEqual([1, 2, 10000]);
    expect((await c.abort(f.key, f.uploadId)).status).toBe(204);
    await expectClean(srv);
  });

  it('a client dying halfway through a 20 MiB part leaves nothing; the part re-sent, the upload completes', async () => {
    const key = 'dying/part';
    const uploadId = await c.create(key);
    const parts = [randomBytes(20 * MiB), randomBytes(20 * MiB), randomBytes(3 * MiB + 17)];
    const e1 = await c.partOk(key, uploadId, 1, parts[0]!);
    const chunksBefore = chunkFiles(srv).length;

    // Part 2 on a raw socket, cut off after ~10 MiB; part 3 goes up at the same time.
    const rawPath = `/${B}/${enc(key)}`;
    const query = `partNumber=2&uploadId=${uploadId}`;
    const headers = c.signedHeaders('PUT', rawPath, query, { host: c.host, 'content-length': String(parts[1]!.length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`PUT ${rawPath}?${query} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    const third = c.part(key, uploadId, 3, parts[2]!);
    for (let i = 0; i < 10 * MiB; i += 256 * 1024) {
      if (!sock.write(parts[1]!.subarray(i, i + 256 * 1024))) await new Promise((r) => sock.once('drain', r));
    }
    // The server has written chunks of part 2 (and holds buffers) when the client vanishes.
    // Part 3 makes at most 4 chunk files: at least 4 of these are part 2's.
    await waitFor(() => chunkFiles(srv).length >= chunksBefore + 8, 'chunks of the dying part');
    sock.destroy();
    const r3 = await third;
    expect(r3.status, r3.text).toBe(200);

    await waitFor(() => srv.pool.stats().inUse === 0 && tmpFiles(srv).length === 0 && orphanChunks(srv).length === 0, 'the dead part to be cleaned up');
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0, free: srv.pool.stats().total });
    expect(orphanChunks(srv)).toEqual([]);
    expect((await c.parts(key, uploadId)).map((p) => p[0])).toEqual([1, 3]);

    // The client comes back, re-sends part 2 and completes.
    const e2 = await c.partOk(key, uploadId, 2, parts[1]!);
    const done = await c.complete(key, uploadId, completeXml([[1, e1], [2, e2], [3, r3.headers.etag as string]]));
    expect(done.status, done.text).toBe(200);
    const got = await c.get(key);
    expect(got.headers.etag).toBe(multipartEtag(parts));
    expect(sha256Hex(got.body)).toBe(sha256Hex(Buffer.concat(parts)));
    await expectClean(srv);
  });

  it('the same part number re-sent concurrently (client retries): the last one wins, no chunk file leaks', async () => {
    const key = 'retry/same-part';
    const uploadId = await c.create(key);
    await c.partOk(key, uploadId, 1, randomBytes(3 * MiB));
    for (let round = 0; round < 10; round++) {
      const bodies = [randomBytes(3 * MiB), randomBytes(3 * MiB), randomBytes(3 * MiB)];
      const rs = await Promise.all(bodies.map((b) => c.part(key, uploadId, 1, b, { agent: false })));
      for (const r of rs) expect(r.status, r.text).toBe(200);
      const [[n, etag, size]] = await c.parts(key, uploadId);
      expect([n, size]).toEqual([1, 3 * MiB]);
      expect(rs.map((r) => r.headers.etag)).toContain(etag);
      await expectClean(srv);
    }
    // Aborting while a replacement part is being committed leaks nothing either.
    for (let round = 0; round < 10; round++) {
      const id = await c.create(key);
      await c.partOk(key, id, 1, randomBytes(2 * MiB));
      const [pr, ar] = await Promise.all([c.part(key, id, 1, randomBytes(2 * MiB), { agent: false }), c.abort(key, id, { agent: false })]);
      expect(ar.status, ar.text).toBe(204);
      // The part either landed before the Abort or found the upload gone.
      if (pr.status !== 200) expectError(pr, 404, 'NoSuchUpload');
      await expectClean(srv);
    }
    expect((await c.abort(key, uploadId)).status).toBe(204);
    await expectClean(srv);
  });

  it('Complete and Abort of the same upload at once (20 rounds): exactly one wins; the object exists iff Complete won', async () => {
    const wins = { complete: 0, abort: 0 };
    for (let round = 0; round < 20; round++) {
      const key = `race/${round}`;
      const uploadId = await c.create(key);
      const small = randomBytes(4096);
      const xml = completeXml([[1, await c.partOk(key, uploadId, 1, P5)], [2, await c.partOk(key, uploadId, 2, small)]]);
      // Separate connections, both requests on the wire before either answer; who goes
      // first alternates.
      const fire = {
        complete: () => c.complete(key, uploadId, xml, { agent: false }),
        abort: () => c.abort(key, uploadId, { agent: false }),
      };
      const [cr, ar] =
        round % 2 === 0
          ? await Promise.all([fire.complete(), fire.abort()])
          : await Promise.all([fire.abort(), fire.complete()]).then(([a, b]) => [b, a] as const);
      const completeWon = cr.status === 200;
      const abortWon = ar.status === 204;
      expect({ round, completeWon, abortWon }, `${cr.status} ${cr.text}\n${ar.status} ${ar.text}`).toEqual({ round, completeWon, abortWon: !completeWon });
      if (completeWon) {
        wins.complete++;
        expectError(ar, 404, 'NoSuchUpload');
        const got = await c.get(key);
        expect(got.status).toBe(200);
        expect(got.headers.etag).toBe(multipartEtag([P5, small]));
        expect(got.body.equals(Buffer.concat([P5, small]))).toBe(true);
      } else {
        wins.abort++;
        expectError(cr, 404, 'NoSuchUpload');
        expect((await c.head(key)).status).toBe(404);
      }
      expect(await c.uploadIds()).not.toContain(uploadId);
    }
    console.log(`Complete vs Abort race: complete won ${wins.complete}, abort won ${wins.abort} of 20`);
    await expectClean(srv);
  });
});

describe('multipart upload expiry', () => {
  let srv: TestServer;
  let c: ReturnType<typeof clientFor>;
  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB', multipartExpiry: '2s' });
    c = clientFor(srv);
    expect((await c.send({ method: 'PUT' })).status).toBe(200);
  });
  afterAll(async () => {
    c?.agent.destroy();
    await srv?.stop();
  });

  it('an upload older than multipartExpiry is swept with its chunk files; completed objects stay', async () => {
    // A completed object first: the sweep must never touch its chunks.
    const keep = randomBytes(3 * MiB);
    const doneId = await c.create('kept');
    expect((await c.complete('kept', doneId, completeXml([[1, await c.partOk('kept', doneId, 1, keep)]]))).status).toBe(200);
    const keptChunks = chunkFiles(srv).sort();
    expect(keptChunks).toHaveLength(3);

    const t0 = Date.now();
    const uploadId = await c.create('expiring');
    await c.partOk('expiring', uploadId, 1, randomBytes(2 * MiB + 5));
    expect(await c.uploadIds()).toEqual([uploadId]);
    // 1 MiB chunks: 1 + 1 + 5 bytes.
    expect(chunkFiles(srv)).toHaveLength(6);

    // Swept at most one interval (expiry / 2) after it turns 2 s old.
    await waitFor(async () => (await c.uploadIds()).length === 0, 'the upload to expire', 5_000);
    const gone = Date.now() - t0;
    console.log(`upload expired after ${gone} ms (multipartExpiry 2s)`);
    expect(gone).toBeGreaterThanOrEqual(1900);
    await waitFor(() => chunkFiles(srv).length === 3, 'its chunk files to be removed', 2_000);
    expect(chunkFiles(srv).sort()).toEqual(keptChunks);
    expectError(await c.part('expiring', uploadId, 2, randomBytes(100)), 404, 'NoSuchUpload');
    expect((await c.head('expiring')).status).toBe(404);
    const kept = await c.get('kept');
    expect(kept.body.equals(keep)).toBe(true);
    await expectClean(srv);
  }, 20_000);
});

describe('Complete of a 1,000-part upload', () => {
  let srv: TestServer;
  let c: ReturnType<typeof clientFor>;
  beforeAll(async () => {
    // Default 8 MiB chunks: each 5 MiB part is one chunk, all the same one.
    srv = await startTestServer({});
    c = clientFor(srv);
    expect((await c.send({ method: 'PUT' })).status).toBe(200);
  });
  afterAll(async () => {
    c?.agent.destroy();
    await srv?.stop();
  });

  it('links 1,000 parts of 5 MiB (one deduplicated chunk file) and serves ranges across them', async () => {
    const PART = 5 * MiB;
    const N = 1000;
    const data = randomBytes(PART);
    const key = 'thousand.bin';
    const uploadId = await c.create(key);
    const etag = `"${md5hex(data)}"`;
    const t0 = performance.now();
    let next = 1;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next <= N) {
          const n = next++;
          const r = await c.part(key, uploadId, n, data);
          expect(r.status, r.text).toBe(200);
          expect(r.headers.etag).toBe(etag);
        }
      }),
    );
    const upMs = performance.now() - t0;
    expect(chunkFiles(srv)).toHaveLength(1);

    const xml = completeXml(Array.from({ length: N }, (_, i) => [i + 1, etag] as [number, string]));
    const t1 = performance.now();
    const done = await c.complete(key, uploadId, xml);
    const completeMs = performance.now() - t1;
    console.log(`1,000 x 5 MiB parts: uploads ${(upMs / 1000).toFixed(1)} s, Complete ${completeMs.toFixed(0)} ms`);
    expect(done.status, done.text).toBe(200);
    const expectedEtag = `"${md5hex(Buffer.concat(Array.from({ length: N }, () => md5(data))))}-${N}"`;
    expect(done.text).toContain(`<ETag>${expectedEtag.replace(/"/g, '&quot;')}</ETag>`);

    const head = await c.head(key);
    expect(head.headers['content-length']).toBe(String(N * PART));
    expect(head.headers.etag).toBe(expectedEtag);
    expect(head.headers['x-amz-mp-parts-count']).toBe(String(N));
    // A range across the boundary of parts 500 and 501, and one inside part 777.
    const b = 500 * PART;
    const across = await c.get(key, { range: `bytes=${b - 1000}-${b + 999}` });
    expect(across.status).toBe(206);
    expect(across.headers['content-range']).toBe(`bytes ${b - 1000}-${b + 999}/${N * PART}`);
    expect(across.body.equals(Buffer.concat([data.subarray(PART - 1000), data.subarray(0, 1000)]))).toBe(true);
    const o = 776 * PART + 1_234_567;
    const inside = await c.get(key, { range: `bytes=${o}-${o + 65535}` });
    expect(inside.body.equals(data.subarray(1_234_567, 1_234_567 + 65536))).toBe(true);
    const last = await c.get(key, {}, 'partNumber=1000');
    expect(last.status).toBe(206);
    expect(last.headers['content-range']).toBe(`bytes ${999 * PART}-${N * PART - 1}/${N * PART}`);
    expect(last.body.equals(data)).toBe(true);
    expect(chunkFiles(srv)).toHaveLength(1);
    await expectClean(srv);
  }, 180_000);
});
