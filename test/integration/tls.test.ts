import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ConfigError } from '../../src/config.js';
import { bodyOf } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

// Both listeners over TLS with a self-signed certificate: the SDK through an https agent that
// trusts it, the admin API with its token, aws:SecureTransport, plain HTTP on the https port,
// and the start-up errors of a bad certificate or key.

/** An https request trusting `ca`; resolves with status, body and the peer certificate's serial. */
function get(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers, agent: false }, (res) => {
      const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, serial }));
    });
    req.on('error', reject);
  });
}

describe('TLS on both listeners', () => {
  let dir: string;
  let srv: TestServer;
  let ca: Buffer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tls-'));
    const { cert, key } = makeSelfSignedCert(dir);
    ca = fs.readFileSync(cert);
    srv = await startTestServer({ tlsCert: cert, tlsKey: key });
  });
  afterAll(async () => {
    await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves S3 and the admin API on https URLs', () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the SDK puts, gets and uploads multipart over https', async () => {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'small.txt', Body: 'over tls' }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'small.txt' })))).toString()).toBe('over tls');
    const big = Buffer.alloc(12 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    await new Upload({ client: s3, params: { Bucket: 'tls', Key: 'big.bin', Body: big }, partSize: 5 * 1024 * 1024 }).done();
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'big.bin' })))).equals(big)).toBe(true);
  });

  it('aws:SecureTransport is true over https: an https-only policy lets the owner through', async () => {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-only' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'a.txt', Body: 'secret' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::tls-only', 'arn:aws:s3:::tls-only/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'tls-only', Policy: JSON.stringify(policy) }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'tls-only', Key: 'a.txt' })))).toString()).toBe('secret');
    // And the reverse: a policy that allows anonymous reads only over TLS lets an https GET in.
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tls/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'tls', Policy: JSON.stringify(allow) }));
    const anon = await get(`${srv.url}/tls/small.txt`, ca);
    expect(anon.status).toBe(200);
    expect(anon.body).toBe('over tls');
  });

  it('the admin API answers over https with its token, and 401 without', async () => {
    const ok = await get(`${srv.adminUrl}/v1/buckets`, ca, { authorization: `Bearer ${srv.adminToken}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ buckets: expect.any(Array) });
    expect((await get(`${srv.adminUrl}/v1/buckets`, ca)).status).toBe(401);
  });

  it('a client that does not trust the certificate is refused in the handshake', async () => {
    await expect(get(`${srv.url}/tls/small.txt`, Buffer.from(''))).rejects.toThrow();
    const err = await new Promise<Error>((resolve) => https.get(`${srv.url}/`, { agent: false }, () => resolve(new Error('answered'))).on('error', resolve));
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  it('plain HTTP on the https port fails cleanly, and the listener keeps serving', async () => {
    const plain = srv.url.replace('https:', 'http:');
    const err = await new Promise<NodeJS.ErrnoException | string>((resolve) => {
      const req = http.get(`${plain}/`, { agent: false }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (e) => resolve(e));
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    });
    expect(typeof err).not.toBe('string');
    expect((err as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|HPE_|EPIPE/);
    expect((await get(`${srv.url}/tls/small.txt`, ca)).status).toBe(200);
  });

  it('reloadTls() swaps the certificate for new connections', async () => {
    const before = await get(`${srv.url}/tls/small.txt`, ca);
    const second = makeSelfSignedCert(dir, 'second');
    fs.copyFileSync(second.cert, srv.caFile!);
    fs.copyFileSync(second.key, srv.caFile!.replace('cert.pem', 'key.pem'));
    expect(srv.reloadTls()).toEqual({ reloaded: ['s3', 'admin'], failed: [] });
    const newCa = fs.readFileSync(second.cert);
    const after = await get(`${srv.url}/tls/small.txt`, newCa);
    expect(after.status).toBe(200);
    expect(after.serial).not.toBe(before.serial);
    expect((await get(`${srv.adminUrl}/v1/buckets`, newCa, { authorization: `Bearer ${srv.adminToken}` })).status).toBe(200);
    // The old CA no longer verifies new connections.
    await expect(get(`${srv.url}/tls/small.txt`, ca)).rejects.toThrow();
    ca = newCa;
  });

  it('a bad file on reload keeps the certificate in use and says why', async () => {
    const before = await get(`${srv.url}/tls/small.txt`, ca);
    const keyFile = srv.caFile!.replace('cert.pem', 'key.pem');
    const goodKey = fs.readFileSync(keyFile);
    fs.writeFileSync(keyFile, 'not a key');
    try {
      const r = srv.reloadTls();
      expect(r.reloaded).toEqual([]);
      expect(r.failed.map((f) => f.listener)).toEqual(['s3', 'admin']);
      expect(r.failed[0]!.error).toContain('CAIRN_TLS_KEY (--tls-key)');
      const after = await get(`${srv.url}/tls/small.txt`, ca);
      expect(after.status).toBe(200);
      expect(after.serial).toBe(before.serial);
    } finally {
      fs.writeFileSync(keyFile, goodKey);
    }
  });
});

describe('TLS start-up errors name the setting', () => {
  let dir: string;
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tls-bad-'));
    a = makeSelfSignedCert(dir, 'a');
    b = makeSelfSignedCert(dir, 'b');
    fs.writeFileSync(path.join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const startError = async (overrides: Record<string, string>): Promise<Error> => {
    const err = await startTestServer(overrides).then(
      async (s) => {
        await s.stop();
        return new Error('started');
      },
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return err;
  };

  it.each([
    ['only the certificate', () => ({ tlsCert: a.cert }), /CAIRN_TLS_CERT and CAIRN_TLS_KEY \(--tls-cert, --tls-key\) must be set together/],
    ['only the key', () => ({ tlsKey: a.key }), /CAIRN_TLS_CERT and CAIRN_TLS_KEY .* must be set together/],
    ['only the admin certificate', () => ({ adminTlsCert: a.cert }), /CAIRN_ADMIN_TLS_CERT and CAIRN_ADMIN_TLS_KEY .* must be set together/],
    ['a missing certificate file', () => ({ tlsCert: path.join(dir, 'nope.pem'), tlsKey: a.key }), /CAIRN_TLS_CERT \(--tls-cert\): cannot read .*nope\.pem: ENOENT/],
    ['a missing key file', () => ({ tlsCert: a.cert, tlsKey: path.join(dir, 'nope.pem') }), /CAIRN_TLS_KEY \(--tls-key\): cannot read .*nope\.pem: ENOENT/],
    ['a certificate that is not PEM', () => ({ tlsCert: path.join(dir, 'garbage.pem'), tlsKey: a.key }), /CAIRN_TLS_CERT \(--tls-cert\): .*garbage\.pem is not a PEM certificate/],
    ['a key that is not a key', () => ({ tlsCert: a.cert, tlsKey: a.cert }), /CAIRN_TLS_KEY \(--tls-key\): .* is not an unencrypted PEM private key/],
    ['a key of another certificate', () => ({ tlsCert: a.cert, tlsKey: b.key }), /CAIRN_TLS_KEY \(--tls-key\): .*b-key\.pem is not the private key of the certificate in .*a-cert\.pem/],
    ['an admin key of another certificate', () => ({ tlsCert: a.cert, tlsKey: a.key, adminTlsCert: b.cert, adminTlsKey: a.key }), /CAIRN_ADMIN_TLS_KEY \(--admin-tls-key\): .*is not the private key/],
  ])('%s', async (_name, overrides, message) => {
    const err = await startError(overrides());
    expect(err.message).toMatch(message);
  });

  it('the admin listener can have a pair of its own, and plain S3 beside it', async () => {
    const s = await startTestServer({ adminTlsCert: b.cert, adminTlsKey: b.key });
    try {
      expect(s.url).toMatch(/^http:/);
      expect(s.adminUrl).toMatch(/^https:/);
      const res = await get(`${s.adminUrl}/v1/buckets`, fs.readFileSync(b.cert), { authorization: `Bearer ${s.adminToken}` });
      expect(res.status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe('the S3 listener keeps its rules over TLS', () => {
  const HEADERS_TIMEOUT = 1000;
  const KEEP_ALIVE_TIMEOUT = 1000;
  let dir: string;
  let s: TestServer;
  let ca: Buffer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tls-rules-'));
    const pair = makeSelfSignedCert(dir);
    ca = fs.readFileSync(pair.cert);
    s = await startTestServer({ tlsCert: pair.cert, tlsKey: pair.key, headersTimeout: HEADERS_TIMEOUT, keepAliveTimeout: KEEP_ALIVE_TIMEOUT, idleTimeout: 5000 });
  });
  afterAll(async () => {
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS connection (handshake done) and what it receives, and when it closes. */
  const tlsProbe = async () => {
    const sock = tls.connect({ host: '127.0.0.1', port: s.port, ca });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject));
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.on('error', () => {});
    const closedAt = new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())));
    return { sock, received: () => got, closedAt };
  };

  it('a connection that never starts its handshake is closed after headersTimeout', async () => {
    const started = Date.now();
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    const closedAt = await new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())));
    expect(closedAt - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
    expect(closedAt - started).toBeLessThan(HEADERS_TIMEOUT * 3);
  });

  it('stopping the server ends connections still waiting in their handshake, on both listeners', async () => {
    const other = await startTestServer({ tlsCert: path.join(dir, 'cairn-cert.pem'), tlsKey: path.join(dir, 'cairn-key.pem') });
    const socks = [other.port, Number(new URL(other.adminUrl).port)].map((port) => net.connect(port, '127.0.0.1').on('error', () => {}));
    await Promise.all(socks.map((sock) => new Promise((r) => sock.once('connect', r))));
    const closed = Promise.all(socks.map((sock) => new Promise((r) => sock.once('close', r))));
    const started = Date.now();
    // Without the tracking, close() waits for the 30 s handshake timeout (120 s on the admin port).
    await other.stop();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  }, 20_000);

  it('headers trickling after the handshake are answered 400 RequestTimeout and closed', async () => {
    const p = await tlsProbe();
    const started = Date.now();
    const line = 'GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa';
    let i = 0;
    const timer = setInterval(() => !p.sock.destroyed && p.sock.write(line[i++ % line.length]!), 100);
    const closedAt = await p.closedAt;
    clearInterval(timer);
    expect(closedAt - started).toBeLessThan(HEADERS_TIMEOUT * 3);
    expect(p.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(p.received()).toContain('<Code>RequestTimeout</Code>');
  });

  it('headers over 16 KiB get 400 RequestHeaderSectionTooLarge in XML', async () => {
    const p = await tlsProbe();
    p.sock.write(`GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'v'.repeat(17 * 1024)}\r\n\r\n`);
    await p.closedAt;
    expect(p.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(p.received()).toContain('<Code>RequestHeaderSectionTooLarge</Code>');
  });

  it('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
    const p = await tlsProbe();
    p.sock.write('GET /health-of-nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    for (let i = 0; i < 200 && !p.received().includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    const answered = Date.now();
    expect(p.received()).toMatch(/^HTTP\/1\.1 \d{3} /);
    expect(p.received()).toMatch(/Keep-Alive: timeout=1\b/i);
    const idle = (await p.closedAt) - answered;
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT - 100);
    expect(idle).toBeLessThan(KEEP_ALIVE_TIMEOUT + 1500);
  });
});
