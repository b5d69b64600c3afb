import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasClient, run, runOk } from '../helpers/clients.js';
import { chunkFiles, startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

// Encryption at rest with the aws CLI over https (--ca-bundle): `s3 cp --sse AES256` and
// `--sse-c AES256 --sse-c-key fileb://...`, single-part and multipart, and back byte for byte.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let srv: TestServer;
let work: string;
let env: NodeJS.ProcessEnv;
const aws = (args: string[]) => runOk('aws', ['--endpoint-url', srv.url, '--ca-bundle', srv.caFile!, ...args], { env, timeoutMs: 180_000 });
const head = async (key: string, extra: string[] = []) =>
  JSON.parse((await aws(['s3api', 'head-object', '--bucket', 'sse-cli', '--key', key, '--output', 'json', ...extra])).stdout) as Record<string, unknown>;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sse-cli-'));
  const { cert, key } = makeSelfSignedCert(path.join(work, 'tls'));
  const keys = path.join(work, 'keys');
  fs.writeFileSync(keys, `cli ${randomBytes(32).toString('base64')}\n`);
  srv = await startTestServer({ tlsCert: cert, tlsKey: key, encryptionKeyFile: keys, chunkSize: '1MiB', writeBuffers: 8 });
  const cfg = path.join(work, 'aws-config');
  fs.writeFileSync(cfg, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  env = { ...srv.env, AWS_CONFIG_FILE: cfg };
});
afterAll(async () => {
  await srv?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasClient('aws'))('aws CLI: encryption at rest over https', () => {
  it('s3 cp --sse AES256, small and multipart; head-object says AES256; the copy back is byte for byte', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', 'sse-cli']);
    for (const [name, size] of [['small', 200 * 1024 + 3], ['big', 9 * 1024 * 1024 + 11]] as const) {
      const data = randomBytes(size);
      const src = path.join(work, `${name}.bin`);
      fs.writeFileSync(src, data);
      await aws(['s3', 'cp', src, `s3://sse-cli/s3-${name}`, '--sse', 'AES256']);
      expect((await head(`s3-${name}`)).ServerSideEncryption).toBe('AES256');
      const dst = path.join(work, `${name}.out`);
      await aws(['s3', 'cp', `s3://sse-cli/s3-${name}`, dst]);
      expect(sha256(fs.readFileSync(dst))).toBe(sha256(data));
    }
  });

  it('s3 cp --sse-c AES256 --sse-c-key fileb://, small and multipart; without the key head-object fails', async () => {
    const keyFile = path.join(work, 'customer.key');
    fs.writeFileSync(keyFile, randomBytes(32));
    const sseC = ['--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`];
    for (const [name, size] of [['small', 100 * 1024], ['big', 9 * 1024 * 1024 + 5]] as const) {
      const data = randomBytes(size);
      const src = path.join(work, `c-${name}.bin`);
      fs.writeFileSync(src, data);
      const before = chunkFiles(srv).length;
      await aws(['s3', 'cp', src, `s3://sse-cli/c-${name}`, ...sseC]);
      expect(chunkFiles(srv).length).toBeGreaterThan(before);
      const h = await head(`c-${name}`, ['--sse-customer-algorithm', 'AES256', '--sse-customer-key', `fileb://${keyFile}`]);
      expect(h.SSECustomerAlgorithm).toBe('AES256');
      const dst = path.join(work, `c-${name}.out`);
      await aws(['s3', 'cp', `s3://sse-cli/c-${name}`, dst, ...sseC]);
      expect(sha256(fs.readFileSync(dst))).toBe(sha256(data));
      const denied = await run('aws', ['--endpoint-url', srv.url, '--ca-bundle', srv.caFile!, 's3api', 'head-object', '--bucket', 'sse-cli', '--key', `c-${name}`], { env, timeoutMs: 60_000 });
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/400|Bad Request/);
    }
  });
});
