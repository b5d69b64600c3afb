import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startTestServer, tmpFiles, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { signRequest } from '../../src/auth/sigv4.js';

// Slow and idle sockets on loopback: headers trickled a byte at a time (slowloris), sockets
// that say nothing, keep-alive sockets left idle, uploads that stall. Each is closed by its
// timeout (short here: CAIRN_HEADERS_TIMEOUT, CAIRN_IDLE_TIMEOUT, CAIRN_KEEP_ALIVE_TIMEOUT)
// while a well-behaved client keeps getting answers, and the server's descriptors come back.

const HEADERS_TIMEOUT = 1000;
const IDLE_TIMEOUT = 2000;
// At least 2 s: node's agent drops a socket whose Keep-Alive hint is below 2 s at once.
const KEEP_ALIVE_TIMEOUT = 2500;
const B = 'slow';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({
    headersTimeout: HEADERS_TIMEOUT,
    idleTimeout: IDLE_TIMEOUT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
    chunkSize: '1MiB',
    writeBuffers: 4,
    maxBuffersPerRequest: 2,
  });
  expect((await request('PUT', `/${B}`)).status).toBe(200);
});

afterAll(async () => srv?.stop());

function signed(method: string, path: string, body = Buffer.alloc(0), extra: Record<string, string> = {}): Record<string, string> {
  const headers = { host: `127.0.0.1:${srv.port}`, 'x-amz-content-sha256': sha256Hex(body), 'content-length': String(body.length), ...extra };
  return signRequest({ method, rawPath: path, rawQuery: '', headers }, { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, region: 'us-east-1', date: new Date() }).request.headers as Record<string, string>;
}

function request(method: string, path: string, body = Buffer.alloc(0), agent: http.Agent | false = false): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path, headers: signed(method, path, body), agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw socket that records what it receives and when it closes. */
interface Probe {
  sock: net.Socket;
  received: () => string;
  closedAt: Promise<number>;
}

async function probe(): Promise<Probe> {
  const sock = net.connect(srv.port, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d) => got.push(d));
  sock.on('error', () => undefined);
  const closedAt = new Promise<number>((r) => sock.once('close', () => r(Date.now())));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, received: () => Buffer.concat(got).toString('utf8'), closedAt };
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** A well-behaved client: PUTs and GETs in turn until stopped; every answer must be right. */
async function normalClient(stop: () => boolean): Promise<{ ok: number; worst: number }> {
  let ok = 0;
  let worst = 0;
  for (let i = 0; !stop(); i++) {
    const data = randomBytes(1000 + i);
    const started = Date.now();
    const put = await request('PUT', `/${B}/normal-${i % 5}`, data);
    expect(put.status).toBe(200);
    const get = await request('GET', `/${B}/normal-${i % 5}`);
    expect(get.status).toBe(200);
    expect(get.body.equals(data)).toBe(true);
    worst = Math.max(worst, Date.now() - started);
    ok++;
  }
  return { ok, worst };
}

describe('slow and idle sockets', () => {
  it('200 slowloris sockets trickling headers are answered 400 RequestTimeout and closed; a normal client keeps working', async () => {
    const fdsBefore = openFds();
    const probes = await Promise.all(Array.from({ length: 200 }, () => probe()));
    const started = Date.now();
    const line = `GET /${B}/normal-0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(500)}\r\n`;
    let stopTrickle = false;
    const trickle = (async () => {
      for (let i = 0; !stopTrickle; i++) {
        for (const p of probes) if (!p.sock.destroyed) p.sock.write(line[i % line.length]!);
        await sleep(100);
      }
    })();
    let done = false;
    const client = normalClient(() => done);
    const closed = await Promise.all(probes.map((p) => p.closedAt));
    done = true;
    stopTrickle = true;
    await trickle;
    const { ok, worst } = await client;
    // Closed by headersTimeout (checked every headersTimeout / 4), long before the headers end.
    for (const at of closed) expect(at - started).toBeLessThan(HEADERS_TIMEOUT * 3);
    for (const p of probes) {
      expect(p.received()).toMatch(/^HTTP\/1\.1 400 /);
      expect(p.received()).toContain('<Code>RequestTimeout</Code>');
    }
    expect(ok).toBeGreaterThan(3);
    expect(worst).toBeLessThan(2000);
    await sleep(100);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
  });

  it('sockets that connect and say nothing are closed after headersTimeout', async () => {
    const fdsBefore = openFds();
    const started = Date.now();
    const probes = await Promise.all(Array.from({ length: 50 }, () => probe()));
    const closed = await Promise.all(probes.map((p) => p.closedAt));
    for (const at of closed) {
      expect(at - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
      expect(at - started).toBeLessThan(HEADERS_TIMEOUT * 3);
    }
    await sleep(100);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
    expect((await request('GET', `/${B}/normal-0`)).status).toBe(200);
  });

  it('a keep-alive socket left idle after its response is closed after keepAliveTimeout', async () => {
    const p = await probe();
    const headers = signed('GET', `/${B}/normal-0`);
    p.sock.write(`GET /${B}/normal-0 HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    for (let i = 0; i < 100 && !p.received().includes('\r\n\r\n'); i++) await sleep(10);
    const answered = Date.now();
    expect(p.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(p.received()).toMatch(new RegExp(`Keep-Alive: timeout=${Math.floor(KEEP_ALIVE_TIMEOUT / 1000)}\\b`, 'i'));
    // Node allows itself up to a second past keepAliveTimeout.
    const idle = (await p.closedAt) - answered;
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT - 100);
    expect(idle).toBeLessThan(KEEP_ALIVE_TIMEOUT + 1500);
  });

  it('an upload that stalls mid-body is closed after the idle timeout: nothing stored, pool buffers back', async () => {
    const path = `/${B}/stalled.bin`;
    const total = 3 * 1024 * 1024;
    const headers = signed('PUT', path, Buffer.alloc(0), { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(total) });
    const stalled = await Promise.all(Array.from({ length: 4 }, () => probe()));
    for (const p of stalled) {
      p.sock.write(`PUT ${path} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
      p.sock.write(randomBytes(1536 * 1024));
    }
    const started = Date.now();
    // Every buffer of the pool is held by a stalled upload.
    for (let i = 0; i < 100 && srv.pool.stats().inUse < 4; i++) await sleep(20);
    expect(srv.pool.stats().inUse).toBe(4);
    const closed = await Promise.all(stalled.map((p) => p.closedAt));
    for (const at of closed) expect(at - started).toBeLessThan(IDLE_TIMEOUT + 1500);
    for (let i = 0; i < 100 && (srv.pool.stats().inUse > 0 || tmpFiles(srv).length > 0); i++) await sleep(20);
    expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
    expect(tmpFiles(srv)).toEqual([]);
    expect((await request('HEAD', path)).status).toBe(404);
    // And uploads go through again.
    const data = randomBytes(2 * 1024 * 1024 + 1);
    expect((await request('PUT', path, data)).status).toBe(200);
    expect((await request('GET', path)).body.equals(data)).toBe(true);
  });

  it('uploads trickling their bodies (slow POST) cannot hold the write-buffer pool: cut below the minimum rate, normal uploads go on', async () => {
    const path = `/${B}/trickle.bin`;
    const total = 3 * 1024 * 1024;
    const headers = signed('PUT', path, Buffer.alloc(0), { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(total) });
    // Eight trickling uploads: each takes a pool buffer with its first bytes, then sends 10 bytes a
    // tenth of a second (100 B/s, below the 1 KiB/s floor) and never goes quiet long enough for the idle timeout.
    const slow = await Promise.all(Array.from({ length: 8 }, () => probe()));
    for (const p of slow) p.sock.write(`PUT ${path} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + 'x'.repeat(1000));
    let stop = false;
    const trickle = (async () => {
      while (!stop) {
        for (const p of slow) if (!p.sock.destroyed) p.sock.write('y'.repeat(10));
        await sleep(100);
      }
    })();
    for (let i = 0; i < 100 && srv.pool.stats().inUse < 4; i++) await sleep(20);
    expect(srv.pool.stats().inUse).toBe(4);
    const started = Date.now();
    // A normal 2 MiB upload waits for a buffer, gets one when the slow ones are cut, and lands.
    const data = randomBytes(2 * 1024 * 1024 + 7);
    const put = await request('PUT', `/${B}/after-trickle.bin`, data);
    const waited = Date.now() - started;
    stop = true;
    await trickle;
    expect(put.status).toBe(200);
    expect(waited).toBeLessThan(IDLE_TIMEOUT * 2 + 1500);
    const closed = await Promise.all(slow.map((p) => p.closedAt));
    for (const at of closed) expect(at - started).toBeLessThan(IDLE_TIMEOUT * 2 + 1500);
    expect((await request('GET', `/${B}/after-trickle.bin`)).body.equals(data)).toBe(true);
    expect((await request('HEAD', path)).status).toBe(404);
    for (let i = 0; i < 100 && srv.pool.stats().inUse > 0; i++) await sleep(20);
    expect(srv.pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
  });

  it('a keep-alive socket serves at most 1000 requests, then is told to close', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<net.Socket>();
    let closeAt = -1;
    for (let i = 1; i <= 1001; i++) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'GET', path: `/${B}/normal-0`, headers: signed('GET', `/${B}/normal-0`), agent }, (r) => {
          r.resume();
          r.on('end', () => resolve(r));
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end();
      });
      expect(res.statusCode).toBe(200);
      if (res.headers.connection === 'close' && closeAt < 0) closeAt = i;
    }
    expect(closeAt).toBe(1000);
    expect(sockets.size).toBe(2);
    agent.destroy();
  });
});
