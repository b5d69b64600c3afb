import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CLI, spawnServe, type ServeProcess } from '../helpers/process.js';
import { bodyOf } from '../helpers/sdk.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

// The built `cairn serve` with --tls-cert/--tls-key: start-up errors as a user sees them (exit
// code, one line naming the setting, no stack), and SIGHUP swapping the certificate under an
// upload that is still sending.

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** The serial number of the certificate a new connection to `url` is shown, trusting `ca`. */
function servedSerial(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${url}/`, { ca, agent: false }, (res) => {
      resolve((res.socket as TLSSocket).getPeerCertificate().serialNumber);
      res.resume();
    });
    req.on('error', reject);
  });
}

const serialOf = (certFile: string) => new X509Certificate(fs.readFileSync(certFile)).serialNumber;

const sdk = (url: string, ca: Buffer, agent = new https.Agent({ ca, keepAlive: true })) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET },
    requestHandler: { httpsAgent: agent },
  });

/** Resolves once the process has printed `text` after `from` characters of its output. */
async function waitForOutput(p: ServeProcess, text: string, from: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = p.output().slice(from).split('\n').find((l) => l.includes(text));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "${text}" in the output:\n${p.output().slice(from)}`);
}

describe('cairn serve over TLS (the process)', () => {
  let dir: string;
  let one: { cert: string; key: string };
  let two: { cert: string; key: string };
  let live: { cert: string; key: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tls-proc-'));
    one = makeSelfSignedCert(dir, 'one');
    two = makeSelfSignedCert(dir, 'two');
    live = { cert: path.join(dir, 'live-cert.pem'), key: path.join(dir, 'live-key.pem') };
    fs.copyFileSync(one.cert, live.cert);
    fs.copyFileSync(one.key, live.key);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a missing certificate', () => ['--tls-cert', path.join(dir, 'missing.pem'), '--tls-key', one.key], 'CAIRN_TLS_CERT (--tls-cert): cannot read'],
    ['a key of another certificate', () => ['--tls-cert', one.cert, '--tls-key', two.key], 'CAIRN_TLS_KEY (--tls-key):'],
    ['a certificate without its key', () => ['--tls-cert', one.cert], 'must be set together'],
  ])('%s stops start-up: exit 2, one message naming the setting, no stack', async (_name, args, message) => {
    const data = path.join(dir, `data-${Math.random().toString(36).slice(2)}`);
    const { code, out } = await cli(['serve', '--port', '0', '--admin-port', '0', '--data-dir', data, ...args()]);
    expect(code).toBe(2);
    expect(out).toContain(message);
    expect(out).not.toMatch(/^\s+at /m);
  });

  it('SIGHUP swaps the certificate while an upload is sending: the upload completes, new connections see the new one; a bad file keeps it', async () => {
    const p = await spawnServe(
      { CAIRN_DATA_DIR: path.join(dir, 'data'), CAIRN_PORT: '0', CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY, CAIRN_SECRET_ACCESS_KEY: TEST_SECRET, CAIRN_DURABILITY: 'relaxed' },
      ['--tls-cert', live.cert, '--tls-key', live.key],
    );
    try {
      expect(p.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const caOne = fs.readFileSync(one.cert);
      const caTwo = fs.readFileSync(two.cert);
      expect(await servedSerial(p.url, caOne)).toBe(serialOf(one.cert));
      const agent = new https.Agent({ ca: caOne, keepAlive: true });
      const first = sdk(p.url, caOne, agent);
      await first.send(new CreateBucketCommand({ Bucket: 'swap' }));

      // An upload whose body is still arriving when the certificate changes.
      const MiB = 1024 * 1024;
      const data = Buffer.alloc(12 * MiB);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
      const body = new PassThrough();
      const upload = first.send(new PutObjectCommand({ Bucket: 'swap', Key: 'during-swap.bin', Body: body, ContentLength: data.length }));
      body.write(data.subarray(0, 4 * MiB));
      // The upload's connection has sent part of the body (the SDK streams, it does not buffer).
      let uploading: TLSSocket | undefined;
      for (let i = 0; i < 100 && !uploading; i++) {
        await new Promise((r) => setTimeout(r, 50));
        uploading = Object.values(agent.sockets).flat().find((s) => s !== undefined && s.bytesWritten > MiB) as TLSSocket | undefined;
      }
      expect(uploading).toBeDefined();

      fs.copyFileSync(two.cert, live.cert);
      fs.copyFileSync(two.key, live.key);
      const mark = p.output().length;
      p.child.kill('SIGHUP');
      const reloaded = JSON.parse(await waitForOutput(p, 'TLS certificates reloaded', mark)) as { listeners: string[] };
      expect(reloaded.listeners).toEqual(['s3', 'admin']);
      expect(await servedSerial(p.url, caTwo)).toBe(serialOf(two.cert));
      await expect(servedSerial(p.url, caOne)).rejects.toThrow();

      for (let off = 4 * MiB; off < data.length; off += MiB) body.write(data.subarray(off, off + MiB));
      body.end();
      await upload;
      // It finished on the connection that shook hands with the first certificate.
      expect(uploading!.getPeerCertificate().serialNumber).toBe(serialOf(one.cert));
      const second = sdk(p.url, caTwo);
      expect((await bodyOf(await second.send(new GetObjectCommand({ Bucket: 'swap', Key: 'during-swap.bin' })))).equals(data)).toBe(true);

      // A broken key file on SIGHUP: a structured error, the process lives, the certificate stays.
      fs.writeFileSync(live.key, 'not a key at all');
      const mark2 = p.output().length;
      p.child.kill('SIGHUP');
      const failed = JSON.parse(await waitForOutput(p, 'TLS reload failed', mark2)) as Record<string, unknown>;
      expect(failed).toMatchObject({ level: 50, listener: 's3', key: live.key, error: expect.stringContaining('CAIRN_TLS_KEY (--tls-key)') });
      expect(p.child.exitCode).toBeNull();
      expect(await servedSerial(p.url, caTwo)).toBe(serialOf(two.cert));
      expect((await bodyOf(await second.send(new GetObjectCommand({ Bucket: 'swap', Key: 'during-swap.bin' })))).length).toBe(data.length);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});
