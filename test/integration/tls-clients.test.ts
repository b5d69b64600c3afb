import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasClient, run, runOk, rcloneEnv } from '../helpers/clients.js';
import { startTestServer, tmpFiles, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';
import { exchange } from '../helpers/raw-exchange.js';

// The real command-line clients over https, trusting the self-signed certificate the way a user
// would: the aws CLI with --ca-bundle (over TLS it streams aws-chunked bodies with a trailing
// checksum), rclone with --ca-cert, curl with --cacert.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes that differ from offset to offset (a shifted part would show). */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32BE((i * 2654435761 + seed) >>> 0, i);
  return b;
}

let srv: TestServer;
let work: string;
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-tls-clients-'));
  const { cert, key } = makeSelfSignedCert(path.join(work, 'tls'));
  srv = await startTestServer({ tlsCert: cert, tlsKey: key, chunkSize: '1MiB', writeBuffers: 8 });
});
afterAll(async () => {
  await srv?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasClient('aws'))('aws CLI over https (--ca-bundle)', () => {
  let env: NodeJS.ProcessEnv;
  const aws = (args: string[]) => runOk('aws', ['--endpoint-url', srv.url, '--ca-bundle', srv.caFile!, ...args], { env, timeoutMs: 120_000 });

  beforeAll(() => {
    const cfg = path.join(work, 'aws-config');
    fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    env = { ...srv.env, AWS_CONFIG_FILE: cfg };
  });

  it('put-object streams an aws-chunked body with a trailing checksum; get-object returns the bytes', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', 'tls-cli']);
    const data = pattern(300 * 1024 + 7, 1);
    const src = path.join(work, 'small.bin');
    fs.writeFileSync(src, data);
    const put = await aws(['s3api', 'put-object', '--bucket', 'tls-cli', '--key', 'small.bin', '--body', src, '--debug']);
    // What this test is about: over TLS botocore sends the trailer form, not a signed payload.
    expect(put.stderr).toMatch(/STREAMING-UNSIGNED-PAYLOAD-TRAILER/);
    expect(put.stderr).toMatch(/x-amz-trailer/i);
    const dst = path.join(work, 'small.out');
    await aws(['s3api', 'get-object', '--bucket', 'tls-cli', '--key', 'small.bin', dst]);
    expect(sha256(fs.readFileSync(dst))).toBe(sha256(data));
  });

  it('aws s3 cp of a file over 8 MiB goes multipart over https, and back byte for byte', async () => {
    const data = pattern(9 * 1024 * 1024 + 4321, 2);
    const src = path.join(work, 'big.bin');
    fs.writeFileSync(src, data);
    const up = await aws(['s3', 'cp', src, 's3://tls-cli/big.bin', '--debug']);
    expect(up.stderr).toMatch(/CreateMultipartUpload|uploads=/);
    expect(up.stderr).toMatch(/STREAMING-UNSIGNED-PAYLOAD-TRAILER/);
    const head = JSON.parse((await aws(['s3api', 'head-object', '--bucket', 'tls-cli', '--key', 'big.bin', '--output', 'json'])).stdout) as { ETag: string; ContentLength: number };
    expect(head.ContentLength).toBe(data.length);
    expect(head.ETag).toMatch(/-2"$/);
    const dst = path.join(work, 'big.out');
    await aws(['s3', 'cp', 's3://tls-cli/big.bin', dst]);
    expect(sha256(fs.readFileSync(dst))).toBe(sha256(data));
    expect(tmpFiles(srv)).toEqual([]);
  });

  it('without the CA the CLI refuses the certificate', async () => {
    const r = await run('aws', ['--endpoint-url', srv.url, 's3api', 'list-buckets'], { env: { ...env, AWS_MAX_ATTEMPTS: '1' }, timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SSL|certificate/i);
  });
});

describe.skipIf(!hasClient('rclone'))('rclone over https (--ca-cert)', () => {
  let env: NodeJS.ProcessEnv;
  const rclone = (...args: string[]) => runOk('rclone', ['--ca-cert', srv.caFile!, ...args], { env, timeoutMs: 120_000 });

  beforeAll(() => {
    env = rcloneEnv(srv, path.join(work, 'rclone.conf'));
  });

  it('copies a tree up (one file multipart) and back, byte for byte', async () => {
    const up = path.join(work, 'tree');
    fs.mkdirSync(path.join(up, 'sub'), { recursive: true });
    const files: Record<string, Buffer> = { 'a.txt': Buffer.from('over tls\n'), 'sub/b.bin': pattern(200 * 1024, 3), 'big.bin': pattern(6 * 1024 * 1024 + 11, 4) };
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(up, name), data);
    await rclone('mkdir', 'cairn:tls-rclone');
    // Cutoff below big.bin: rclone uploads it in parts.
    await rclone('copy', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', up, 'cairn:tls-rclone');
    const listed = (await rclone('lsf', '-R', '--files-only', 'cairn:tls-rclone')).stdout.trim().split('\n').sort();
    expect(listed).toEqual(['a.txt', 'big.bin', 'sub/b.bin']);
    const down = path.join(work, 'tree-back');
    await rclone('copy', 'cairn:tls-rclone', down);
    for (const [name, data] of Object.entries(files)) expect(sha256(fs.readFileSync(path.join(down, name))), name).toBe(sha256(data));
    await rclone('check', up, 'cairn:tls-rclone');
  });

  it('without the CA rclone refuses the certificate', async () => {
    const r = await run('rclone', ['lsd', 'cairn:'], { env, timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/x509|certificate/i);
  });
});

describe.skipIf(!hasClient('curl'))('curl over https (--cacert)', () => {
  it('reads the health of the admin API and gets a clean handshake failure over plain HTTP', async () => {
    const ok = await runOk('curl', ['-sS', '--cacert', srv.caFile!, `${srv.adminUrl}/health`], { timeoutMs: 30_000 });
    expect(ok.stdout).toMatch(/ok/i);
    const plain = await run('curl', ['-sS', srv.url.replace('https:', 'http:') + '/'], { timeoutMs: 30_000 });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/Empty reply|reset|Recv failure/i);
  });
});

describe('Expect over https (the listener handles it as over HTTP)', () => {
  it('100-continue: a refused upload is answered without 100 and closed; an accepted one gets 100; other values are ignored', async () => {
    const ca = fs.readFileSync(srv.caFile!, 'utf8');
    const root = { id: srv.credentials.accessKeyId, secret: srv.credentials.secretAccessKey };
    const expect100 = { expect: '100-continue' };
    await exchange(srv.port, { method: 'PUT', target: '/tls-expect', as: root, ca });
    const refused = await exchange(srv.port, { method: 'PUT', target: '/tls-expect/k', headers: expect100, body: 'never sent', ca });
    expect([refused.status, refused.continued, refused.bodySent, refused.closed]).toEqual([403, false, false, true]);
    const accepted = await exchange(srv.port, { method: 'PUT', target: '/tls-expect/k', headers: expect100, body: 'sent after 100', as: root, ca });
    expect([accepted.continued, accepted.status]).toEqual([true, 200]);
    const other = await exchange(srv.port, { method: 'GET', target: '/tls-expect/k', headers: { expect: 'other' }, as: root, ca });
    expect([other.status, other.body.toString()]).toEqual([200, 'sent after 100']);
  });
});
