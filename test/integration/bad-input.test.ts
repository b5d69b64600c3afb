import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { startTestServer, tmpFiles, chunkFiles, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { credentialScope, formatAmzDate, presignRequest, signRequest, signingKey } from '../../src/auth/sigv4.js';

// Raw HTTP requests that real clients would never send (or send only when something broke):
// each must get S3's error code and status in an XML body, and must leave nothing behind:
// no object, no tmp file, no unreferenced chunk file, every pool buffer back.

const MiB = 1024 * 1024;
const B = 'bad';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmacSha256Hex = (key: Buffer, s: string) => createHmac('sha256', key).update(s).digest('hex');
const md5B64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const crc32B64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(b) >>> 0);
  return out.toString('base64');
};

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface SignAs {
  accessKeyId?: string;
  secret?: string;
  date?: Date;
}

interface ReqOpts {
  method: string;
  /** Already percent-encoded path. */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** false: anonymous. Default: signed with the test credentials, hex payload hash. */
  sign?: false | SignAs;
  /** Body pieces written one by one (node sends Transfer-Encoding: chunked without a length). */
  pieces?: Buffer[];
}

const enc = (key: string) => key.split('/').map(encodeURIComponent).join('/');

describe('bad input over raw HTTP', () => {
  let srv: TestServer;
  let host: string;
  const errorBodies: string[] = [];

  beforeAll(async () => {
    // Small chunks and a small pool so the disconnect cases exercise many chunk writes.
    srv = await startTestServer({ chunkSize: '1MiB', writeBuffers: 4, maxBuffersPerRequest: 2 });
    host = `127.0.0.1:${srv.port}`;
    const r = await send({ method: 'PUT', path: `/${B}` });
    expect(r.status).toBe(200);
  });

  afterAll(async () => srv?.stop());

  function sign(o: ReqOpts, headers: Record<string, string>): Record<string, string> {
    const as = o.sign || {};
    const signed = signRequest(
      { method: o.method, rawPath: o.path, rawQuery: o.query ?? '', headers },
      { accessKeyId: as.accessKeyId ?? TEST_ACCESS_KEY, secretAccessKey: as.secret ?? TEST_SECRET, region: 'us-east-1', date: as.date ?? new Date() },
    );
    return signed.request.headers as Record<string, string>;
  }

  function send(o: ReqOpts): Promise<Resp> {
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    let headers: Record<string, string> = { host, ...lower(o.headers ?? {}) };
    if (body !== undefined && headers['content-length'] === undefined && !o.pieces) headers['content-length'] = String(body.length);
    if (o.sign !== false) {
      if (headers['x-amz-content-sha256'] === undefined) headers['x-amz-content-sha256'] = sha256Hex(body ?? Buffer.alloc(0));
      headers = sign(o, headers);
    }
    return rawSend(o.method, o.path + (o.query ? `?${o.query}` : ''), headers, o.pieces ?? (body ? [body] : []));
  }

  function rawSend(method: string, target: string, headers: Record<string, string>, pieces: Buffer[]): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: target, headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          if ((res.statusCode ?? 0) >= 400 && text) errorBodies.push(text);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      for (const p of pieces) req.write(p);
      req.end();
    });
  }

  function expectError(r: Resp, status: number, code: string): void {
    expect({ status: r.status, code: /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1] }, r.text).toEqual({ status, code });
    expect(r.text).toMatch(/^<\?xml[^>]*>\s*<Error>/);
    expect(r.headers['content-type']).toMatch(/xml/);
  }

  async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Chunk files no object references (each file is named by its SHA-256). */
  function orphanChunks(): string[] {
    return chunkFiles(srv).filter((f) => !srv.repo.isChunkReferenced(path.basename(f)));
  }

  /** The request changed nothing: no object at key, no tmp file, no orphan chunk, pool free. */
  async function expectNothingStored(key: string, bucket = B): Promise<void> {
    // A disconnected client gets no answer to wait for: give the server's cleanup time to land.
    await waitFor(
      () => srv.pool.stats().inUse === 0 && tmpFiles(srv).length === 0 && orphanChunks().length === 0,
      'pool buffers, tmp files and unreferenced chunks to be released',
    ).catch(() => undefined);
    const head = await send({ method: 'HEAD', path: `/${bucket}/${enc(key)}` });
    expect(head.status, `HEAD ${key}`).toBe(404);
    expect(tmpFiles(srv)).toEqual([]);
    expect(orphanChunks()).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
  }

  async function put(key: string, data: Buffer | string, headers: Record<string, string> = {}): Promise<Resp> {
    return send({ method: 'PUT', path: `/${B}/${enc(key)}`, body: data, headers });
  }

  // ---------------------------------------------------------------------------------------
  describe('authentication', () => {
    it('anonymous requests to a private bucket: AccessDenied 403', async () => {
      const ok = await put('exists.txt', 'hello');
      expect(ok.status).toBe(200);
      const get = await send({ method: 'GET', path: `/${B}/exists.txt`, sign: false });
      expectError(get, 403, 'AccessDenied');
      const list = await send({ method: 'GET', path: `/${B}`, sign: false });
      expectError(list, 403, 'AccessDenied');
      const p = await send({ method: 'PUT', path: `/${B}/anon.txt`, body: 'anonymous data', sign: false });
      expectError(p, 403, 'AccessDenied');
      await expectNothingStored('anon.txt');
      const del = await send({ method: 'DELETE', path: `/${B}/exists.txt`, sign: false });
      expectError(del, 403, 'AccessDenied');
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
    });

    it('bad signature: SignatureDoesNotMatch 403', async () => {
      const r = await send({ method: 'PUT', path: `/${B}/badsig.txt`, body: 'x', sign: { secret: 'not-the-secret-0000000000' } });
      expectError(r, 403, 'SignatureDoesNotMatch');
      // Signed for one key, sent to another.
      const headers = sign({ method: 'PUT', path: `/${B}/a.txt` }, { host, 'x-amz-content-sha256': sha256Hex('x'), 'content-length': '1' });
      const moved = await rawSend('PUT', `/${B}/badsig.txt`, headers, [Buffer.from('x')]);
      expectError(moved, 403, 'SignatureDoesNotMatch');
      await expectNothingStored('badsig.txt');
    });

    it('unknown access key: InvalidAccessKeyId 403', async () => {
      const r = await send({ method: 'PUT', path: `/${B}/unknown-key.txt`, body: 'x', sign: { accessKeyId: 'AKIAUNKNOWN000000000' } });
      expectError(r, 403, 'InvalidAccessKeyId');
      expect(r.text).toContain('<AWSAccessKeyId>AKIAUNKNOWN000000000</AWSAccessKeyId>');
      await expectNothingStored('unknown-key.txt');
    });

    it('x-amz-date 20 minutes off: RequestTimeTooSkewed 403', async () => {
      for (const offset of [-20, 20]) {
        const r = await send({ method: 'PUT', path: `/${B}/skew.txt`, body: 'x', sign: { date: new Date(Date.now() + offset * 60_000) } });
        expectError(r, 403, 'RequestTimeTooSkewed');
      }
      // 10 minutes is inside S3's 15-minute window.
      const ok = await send({ method: 'GET', path: `/${B}/exists.txt`, sign: { date: new Date(Date.now() - 10 * 60_000) } });
      expect(ok.status).toBe(200);
      await expectNothingStored('skew.txt');
    });

    function presigned(method: string, key: string, date: Date, expiresSeconds: number): string {
      const rawPath = `/${B}/${enc(key)}`;
      const signed = presignRequest(
        { method, rawPath, rawQuery: '', headers: { host } },
        { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date, expiresSeconds },
      );
      return `${rawPath}?${signed.request.rawQuery}`;
    }

    it('expired presigned URL: AccessDenied 403; a fresh one works', async () => {
      const fresh = await rawSend('GET', presigned('GET', 'exists.txt', new Date(), 60), { host }, []);
      expect(fresh.status).toBe(200);
      expect(fresh.text).toBe('hello');
      const old = new Date(Date.now() - 2 * 3600_000);
      const get = await rawSend('GET', presigned('GET', 'exists.txt', old, 3600), { host }, []);
      expectError(get, 403, 'AccessDenied');
      expect(get.text).toMatch(/expired/i);
      const putR = await rawSend('PUT', presigned('PUT', 'presigned-put.txt', old, 3600), { host, 'content-length': '4' }, [Buffer.from('data')]);
      expectError(putR, 403, 'AccessDenied');
      await expectNothingStored('presigned-put.txt');
    });

    it('X-Amz-Expires 604801: AuthorizationQueryParametersError 400; 604800 is accepted', async () => {
      const tooLong = await rawSend('GET', presigned('GET', 'exists.txt', new Date(), 604801), { host }, []);
      expectError(tooLong, 400, 'AuthorizationQueryParametersError');
      const week = await rawSend('GET', presigned('GET', 'exists.txt', new Date(), 604800), { host }, []);
      expect(week.status).toBe(200);
      const putR = await rawSend('PUT', presigned('PUT', 'presigned-long.txt', new Date(), 604801), { host, 'content-length': '4' }, [Buffer.from('data')]);
      expectError(putR, 400, 'AuthorizationQueryParametersError');
      await expectNothingStored('presigned-long.txt');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('body integrity', () => {
    /** Signed headers for a PUT written by hand on a raw socket. */
    function rawPutHead(key: string, length: number, extra: Record<string, string> = {}): string {
      const headers = sign(
        { method: 'PUT', path: `/${B}/${enc(key)}` },
        { host, 'content-length': String(length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra },
      );
      return `PUT /${B}/${enc(key)} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
    }

    async function sendThenClose(head: string, data: Buffer, how: 'destroy' | 'end'): Promise<string> {
      const sock = net.connect(srv.port, '127.0.0.1');
      const got: Buffer[] = [];
      sock.on('data', (d) => got.push(d));
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(head);
      for (let i = 0; i < data.length; i += 64 * 1024) {
        if (!sock.write(data.subarray(i, i + 64 * 1024))) await new Promise((r) => sock.once('drain', r));
      }
      // Let the server take what was sent before the client goes away.
      await new Promise((r) => setTimeout(r, 150));
      if (how === 'destroy') sock.destroy();
      else sock.end();
      await new Promise((r) => (sock.destroyed ? r(undefined) : sock.once('close', r)));
      return Buffer.concat(got).toString('utf8');
    }

    it('body shorter than Content-Length, then the client closes: nothing stored, buffers back', async () => {
      await sendThenClose(rawPutHead('short-destroy.bin', 3 * MiB), randomBytes(1.5 * MiB), 'destroy');
      await expectNothingStored('short-destroy.bin');
      const answer = await sendThenClose(rawPutHead('short-end.bin', 3 * MiB), randomBytes(300 * 1024), 'end');
      // A half-closed client may get a 400 IncompleteBody or nothing at all; never a 200.
      expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
      await expectNothingStored('short-end.bin');
    });

    it('hex x-amz-content-sha256 that does not match the body: XAmzContentSHA256Mismatch 400', async () => {
      const data = randomBytes(2.5 * MiB);
      const r = await put('sha-mismatch.bin', data, { 'x-amz-content-sha256': sha256Hex('something else') });
      expectError(r, 400, 'XAmzContentSHA256Mismatch');
      await expectNothingStored('sha-mismatch.bin');
      // The same body with the right hash is stored.
      const ok = await put('sha-ok.bin', data);
      expect(ok.status).toBe(200);
    });

    it('wrong Content-MD5: BadDigest 400; malformed Content-MD5: InvalidDigest 400', async () => {
      const data = randomBytes(1.5 * MiB);
      const wrong = await put('md5-wrong.bin', data, { 'content-md5': md5B64('other') });
      expectError(wrong, 400, 'BadDigest');
      await expectNothingStored('md5-wrong.bin');
      for (const bad of ['not-base64!!', md5B64(data).slice(0, 12), Buffer.alloc(20).toString('base64')]) {
        const r = await put('md5-malformed.bin', data, { 'content-md5': bad });
        expectError(r, 400, 'InvalidDigest');
      }
      await expectNothingStored('md5-malformed.bin');
    });

    it('wrong x-amz-checksum-crc32: BadDigest 400', async () => {
      const data = randomBytes(1.2 * MiB);
      const r = await put('crc-wrong.bin', data, { 'x-amz-checksum-crc32': crc32B64(Buffer.from('other')) });
      expectError(r, 400, 'BadDigest');
      await expectNothingStored('crc-wrong.bin');
      const ok = await put('crc-ok.bin', data, { 'x-amz-checksum-crc32': crc32B64(data) });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-amz-checksum-crc32']).toBe(crc32B64(data));
    });

    /** aws-chunked framing of unsigned chunks with a CRC32 trailer, one HTTP chunk per piece (as the SDK). */
    function unsignedTrailerPieces(data: Buffer, chunk: number, trailerValue: string): Buffer[] {
      const pieces: Buffer[] = [];
      for (let i = 0; i < data.length; i += chunk) {
        const part = data.subarray(i, i + chunk);
        pieces.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
      }
      pieces.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${trailerValue}\r\n\r\n`));
      return pieces;
    }

    function unsignedTrailerPut(key: string, pieces: Buffer[], decodedLength: number): Promise<Resp> {
      return send({
        method: 'PUT',
        path: `/${B}/${enc(key)}`,
        pieces,
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': String(decodedLength),
          'x-amz-trailer': 'x-amz-checksum-crc32',
          'x-amz-sdk-checksum-algorithm': 'CRC32',
        },
      });
    }

    it('aws-chunked with a wrong trailer checksum: BadDigest 400', async () => {
      const data = randomBytes(2 * MiB + 777);
      const ok = await unsignedTrailerPut('trailer-ok.bin', unsignedTrailerPieces(data, 256 * 1024, crc32B64(data)), data.length);
      expect(ok.status, ok.text).toBe(200);
      const head = await send({ method: 'HEAD', path: `/${B}/trailer-ok.bin` });
      expect(head.headers.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
      expect(head.headers['content-length']).toBe(String(data.length));

      const bad = await unsignedTrailerPut('trailer-bad.bin', unsignedTrailerPieces(data, 256 * 1024, crc32B64(Buffer.from('x'))), data.length);
      expectError(bad, 400, 'BadDigest');
      await expectNothingStored('trailer-bad.bin');
    });

    it('x-amz-decoded-content-length not matching the decoded bytes: IncompleteBody 400', async () => {
      const data = randomBytes(1.5 * MiB);
      for (const declared of [data.length + 1, data.length - 1, data.length + MiB]) {
        const r = await unsignedTrailerPut('decoded-len.bin', unsignedTrailerPieces(data, 64 * 1024, crc32B64(data)), declared);
        expectError(r, 400, 'IncompleteBody');
        await expectNothingStored('decoded-len.bin');
      }
    });

    /** Signed chunks (restic / minio-go): each chunk signature chains from the previous one. */
    function signedChunkPut(key: string, data: Buffer, chunk: number, tamper?: (framed: Buffer, dataOffsets: number[]) => void): Promise<Resp> {
      const rawPath = `/${B}/${enc(key)}`;
      const sizes: number[] = [];
      for (let i = 0; i < data.length; i += chunk) sizes.push(Math.min(chunk, data.length - i));
      sizes.push(0);
      const framedLength = sizes.reduce((n, s) => n + s.toString(16).length + ';chunk-signature='.length + 64 + 2 + s + 2, 0);
      const now = new Date();
      const amzDate = formatAmzDate(now);
      const headers = sign(
        { method: 'PUT', path: rawPath, sign: { date: now } },
        {
          host,
          'content-encoding': 'aws-chunked',
          'content-length': String(framedLength),
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'x-amz-decoded-content-length': String(data.length),
        },
      );
      const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization)![1];
      const key4 = signingKey(TEST_SECRET, amzDate.slice(0, 8), 'us-east-1', 's3');
      const scope = credentialScope(amzDate.slice(0, 8), 'us-east-1', 's3');
      let prev = seed;
      let at = 0;
      const frames: Buffer[] = [];
      const dataOffsets: number[] = [];
      let framedAt = 0;
      for (const s of sizes) {
        const part = data.subarray(at, at + s);
        at += s;
        const sig = hmacSha256Hex(key4, `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${prev}\n${EMPTY_SHA256}\n${sha256Hex(part)}`);
        prev = sig;
        const head = Buffer.from(`${s.toString(16)};chunk-signature=${sig}\r\n`);
        dataOffsets.push(framedAt + head.length);
        frames.push(head, part, Buffer.from('\r\n'));
        framedAt += head.length + s + 2;
      }
      const framed = Buffer.concat(frames);
      expect(framed.length).toBe(framedLength);
      tamper?.(framed, dataOffsets);
      return rawSend('PUT', rawPath, headers, [framed]);
    }

    it('signed aws-chunked body with tampered data: SignatureDoesNotMatch 403', async () => {
      const data = randomBytes(2 * MiB + 100);
      const ok = await signedChunkPut('signed-ok.bin', data, 512 * 1024);
      expect(ok.status, ok.text).toBe(200);
      const get = await send({ method: 'GET', path: `/${B}/signed-ok.bin` });
      expect(get.body.equals(data)).toBe(true);

      // One byte of the third chunk's data flipped, framing intact.
      const bad = await signedChunkPut('signed-bad.bin', data, 512 * 1024, (framed, offs) => {
        framed[offs[2] + 10] ^= 0xff;
      });
      expectError(bad, 403, 'SignatureDoesNotMatch');
      await expectNothingStored('signed-bad.bin');
      // The last (empty) chunk's signature broken: every data byte is right, still refused.
      const badLast = await signedChunkPut('signed-bad-last.bin', data, 512 * 1024, (framed, offs) => {
        const sigAt = offs[offs.length - 1] - 2 - 64;
        framed[sigAt] = framed[sigAt] === 0x61 ? 0x62 : 0x61;
      });
      expectError(badLast, 403, 'SignatureDoesNotMatch');
      await expectNothingStored('signed-bad-last.bin');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('names and limits', () => {
    it('invalid bucket names: InvalidBucketName 400, no bucket created', async () => {
      for (const name of ['ab', 'UPPER', '192.168.1.1', 'a..b', '-dash', 'under_score', 'x'.repeat(64)]) {
        const r = await send({ method: 'PUT', path: `/${name}` });
        expectError(r, 400, 'InvalidBucketName');
        expect(r.text).toContain(`<BucketName>${name}</BucketName>`);
      }
      expect(srv.repo.listBuckets().map((b) => b.name)).toEqual([B]);
    });

    it('key of 1025 bytes: KeyTooLongError 400; 1024 bytes is fine', async () => {
      const long = 'k'.repeat(1025);
      const r = await put(long, 'x');
      expectError(r, 400, 'KeyTooLongError');
      await expectNothingStored(long.slice(0, 1024));
      // 513 two-byte characters: 513 characters but 1026 bytes.
      const wide = 'é'.repeat(513);
      expectError(await put(wide, 'x'), 400, 'KeyTooLongError');
      const max = 'k'.repeat(1024);
      expect((await put(max, 'x')).status).toBe(200);
      expect((await send({ method: 'HEAD', path: `/${B}/${max}` })).status).toBe(200);
      expect((await send({ method: 'DELETE', path: `/${B}/${max}` })).status).toBe(204);
    });

    it('user metadata over 2 KB: MetadataTooLarge 400; exactly 2 KB is fine', async () => {
      const r = await put('meta-big.txt', 'x', { 'x-amz-meta-a': 'v'.repeat(2048) });
      expectError(r, 400, 'MetadataTooLarge');
      await expectNothingStored('meta-big.txt');
      const many: Record<string, string> = {};
      for (let i = 0; i < 30; i++) many[`x-amz-meta-field${i}`] = 'v'.repeat(70);
      expectError(await put('meta-many.txt', 'x', many), 400, 'MetadataTooLarge');
      await expectNothingStored('meta-many.txt');
      const ok = await put('meta-max.txt', 'x', { 'x-amz-meta-a': 'v'.repeat(2047) });
      expect(ok.status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('DeleteObjects', () => {
    const deleteReq = (xml: string, headers: Record<string, string> = { 'content-md5': md5B64(xml) }) =>
      send({ method: 'POST', path: `/${B}`, query: 'delete', body: xml, headers: { 'content-type': 'application/xml', ...headers } });
    const keysXml = (keys: string[]) => `<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;

    it('malformed XML: MalformedXML 400, nothing deleted', async () => {
      for (const xml of ['<Delete><Object><Key>exists.txt</Key></Object>', 'not xml at all', '<Delete></Delete>', '<Other><Object><Key>exists.txt</Key></Object></Other>']) {
        expectError(await deleteReq(xml), 400, 'MalformedXML');
      }
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
    });

    it('DOCTYPE / entity bomb: MalformedXML 400, quickly, without a memory blow-up', async () => {
      const lol = ['<!ENTITY lol "lol">'];
      for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
      const bomb = `<?xml version="1.0"?>\n<!DOCTYPE Delete [\n${lol.join('\n')}\n]>\n<Delete><Object><Key>&lol9;</Key></Object></Delete>`;
      const heapBefore = process.memoryUsage().heapUsed;
      const started = Date.now();
      const r = await deleteReq(bomb);
      expect(Date.now() - started).toBeLessThan(1000);
      expectError(r, 400, 'MalformedXML');
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * MiB);
      const external = `<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>`;
      const ext = await deleteReq(external);
      expectError(ext, 400, 'MalformedXML');
      expect(ext.text).not.toContain('root:');
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
    });

    it('more than 1000 keys: MalformedXML 400, nothing deleted; 1000 keys are fine', async () => {
      const keys = ['exists.txt', ...Array.from({ length: 1000 }, (_, i) => `nokey-${i}`)];
      expectError(await deleteReq(keysXml(keys)), 400, 'MalformedXML');
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
      const ok = await deleteReq(keysXml(keys.slice(1)));
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('<DeleteResult');
    });

    it('without Content-MD5 or a checksum: InvalidRequest 400, nothing deleted', async () => {
      const xml = keysXml(['exists.txt']);
      expectError(await deleteReq(xml, {}), 400, 'InvalidRequest');
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
      // A wrong Content-MD5 is BadDigest, and deletes nothing either.
      expectError(await deleteReq(xml, { 'content-md5': md5B64('other') }), 400, 'BadDigest');
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
      // The SDK's form: a CRC32 header and no Content-MD5.
      const crc = await deleteReq(keysXml(['no-such-key']), { 'x-amz-checksum-crc32': crc32B64(Buffer.from(keysXml(['no-such-key']))) });
      expect(crc.status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('missing things and ranges', () => {
    it('GET of a missing bucket: NoSuchBucket 404; missing key: NoSuchKey 404 with Key', async () => {
      const nb = await send({ method: 'GET', path: '/no-such-bucket/some/key' });
      expectError(nb, 404, 'NoSuchBucket');
      expect(nb.text).toContain('<BucketName>no-such-bucket</BucketName>');
      const nbList = await send({ method: 'GET', path: '/no-such-bucket' });
      expectError(nbList, 404, 'NoSuchBucket');
      const nk = await send({ method: 'GET', path: `/${B}/${enc('missing dir/ü+key.txt')}` });
      expectError(nk, 404, 'NoSuchKey');
      expect(nk.text).toContain('<Key>missing dir/ü+key.txt</Key>');
    });

    it('HEAD of a missing key or bucket: 404 with an empty body', async () => {
      for (const p of [`/${B}/missing.txt`, '/no-such-bucket/x', '/no-such-bucket']) {
        const r = await send({ method: 'HEAD', path: p });
        expect(r.status, p).toBe(404);
        expect(r.body.length).toBe(0);
      }
    });

    it('DeleteBucket of a non-empty bucket: BucketNotEmpty 409, bucket and object kept', async () => {
      const r = await send({ method: 'DELETE', path: `/${B}` });
      expectError(r, 409, 'BucketNotEmpty');
      expect(r.text).toContain(`<BucketName>${B}</BucketName>`);
      expect((await send({ method: 'HEAD', path: `/${B}/exists.txt` })).status).toBe(200);
      expect((await send({ method: 'HEAD', path: `/${B}` })).status).toBe(200);
    });

    it('unsatisfiable Range: 416 InvalidRange with Content-Range bytes */size', async () => {
      const data = randomBytes(1000);
      expect((await put('range.bin', data)).status).toBe(200);
      for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
        const r = await send({ method: 'GET', path: `/${B}/range.bin`, headers: { range } });
        expectError(r, 416, 'InvalidRange');
        expect(r.headers['content-range'], range).toBe('bytes */1000');
      }
      const ok = await send({ method: 'GET', path: `/${B}/range.bin`, headers: { range: 'bytes=990-5000' } });
      expect(ok.status).toBe(206);
      expect(ok.headers['content-range']).toBe('bytes 990-999/1000');
      expect(ok.body.equals(data.subarray(990))).toBe(true);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('a client that disconnects in the middle of a large PUT', () => {
    it('40 MiB PUT cut off at ~20 MiB: no object, no tmp file, no orphan chunk, pool free', async () => {
      const before = chunkFiles(srv).length;
      const total = 40 * MiB;
      const key = 'disconnect-40m.bin';
      const headers = sign(
        { method: 'PUT', path: `/${B}/${key}` },
        { host, 'content-length': String(total), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      );
      const sock = net.connect(srv.port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(`PUT /${B}/${key} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
      // Fresh bytes per piece: repeated data would dedup into one chunk file.
      let sent = 0;
      while (sent < 20 * MiB + 123_456) {
        const piece = randomBytes(256 * 1024);
        if (!sock.write(piece)) await new Promise((r) => sock.once('drain', r));
        sent += piece.length;
      }
      // Wait until the server has written chunks of this upload, then vanish.
      await waitFor(() => chunkFiles(srv).length > before + 4, 'chunks of the upload to be written');
      expect(srv.pool.stats().inUse).toBeGreaterThan(0);
      sock.destroy();
      await expectNothingStored(key);
      expect(chunkFiles(srv).length).toBe(before);
      expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
      // The server still works afterwards.
      const data = randomBytes(3 * MiB);
      expect((await put('after-disconnect.bin', data)).status).toBe(200);
    });

    /** Opens a raw PUT, sends `sendBytes` of fresh random data and leaves it hanging. */
    async function hangingPut(key: string, total: number, sendBytes: number, extra: Record<string, string> = {}, framing?: (data: Buffer) => Buffer): Promise<net.Socket> {
      const headers = sign(
        { method: 'PUT', path: `/${B}/${enc(key)}` },
        { host, 'content-length': String(total), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra },
      );
      const sock = net.connect(srv.port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(`PUT /${B}/${enc(key)} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
      const data = randomBytes(sendBytes);
      sock.write(framing ? framing(data) : data);
      return sock;
    }

    it('uploads waiting for an exhausted pool, then all disconnect: waiters dropped, every buffer back', async () => {
      // Pool of 4: five stalled uploads each hold a half-filled buffer, the fifth waits for one.
      const socks: net.Socket[] = [];
      for (let i = 0; i < 5; i++) socks.push(await hangingPut(`stalled-${i}.bin`, 4 * MiB, 1.5 * MiB));
      await waitFor(() => srv.pool.stats().inUse === 4 && srv.pool.stats().waiters >= 1, 'the pool to be exhausted with a waiter');
      for (const s of socks) s.destroy();
      for (let i = 0; i < 5; i++) await expectNothingStored(`stalled-${i}.bin`);
      expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
      expect((await put('after-stall.bin', randomBytes(2 * MiB + 1))).status).toBe(200);
    });

    it('aws-chunked upload cut off mid-stream: nothing stored, buffers back', async () => {
      // Unsigned framing in 256 KiB chunks, 3 of the declared 6 MiB sent.
      const frame = (data: Buffer) => {
        const parts: Buffer[] = [];
        for (let i = 0; i < data.length; i += 256 * 1024) {
          const part = data.subarray(i, i + 256 * 1024);
          parts.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
        }
        return Buffer.concat(parts);
      };
      const sock = await hangingPut('chunked-cut.bin', 6 * MiB + 24 * 10 + 100, 3 * MiB, {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(6 * MiB),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      }, frame);
      await waitFor(() => orphanChunks().length >= 2, 'chunks of the upload to be written');
      sock.destroy();
      await expectNothingStored('chunked-cut.bin');
    });
  });

  it('error bodies never leak the data dir or a stack trace', () => {
    expect(errorBodies.length).toBeGreaterThan(30);
    for (const body of errorBodies) {
      expect(body).not.toContain(srv.dataDir);
      expect(body).not.toMatch(/^\s*at /m);
      expect(body).not.toMatch(/\.ts:\d+|node:internal/);
      expect(body).not.toContain(TEST_SECRET);
    }
  });
});

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
