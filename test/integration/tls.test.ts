import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
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
      const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
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
