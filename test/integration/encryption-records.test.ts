import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CLI } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

// Each version's encryption and each bucket's default on the front-ends (issue 20): the admin
// API's records and filter, and the CLI in both modes (the data dir, and the admin API over https).
// A real server with a server key and TLS (SSE-C is refused over plain HTTP), written by the SDK.

let srv: TestServer;
let work: string;
const customerKey = randomBytes(32);
const keyMd5 = createHash('md5').update(customerKey).digest('base64');
const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: keyMd5 };
const ids: Record<string, string> = {};

function admin(pathAndQuery: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${srv.adminUrl}${pathAndQuery}`, { ca: fs.readFileSync(srv.caFile!), headers: { authorization: `Bearer ${srv.adminToken}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  // The remote mode trusts the test certificate as a client on a LAN would: an extra CA.
  env.NODE_EXTRA_CA_CERTS = srv.caFile;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

const at = (mode: 'local' | 'remote', ...args: string[]) =>
  mode === 'local' ? [...args, '--data-dir', srv.dataDir] : [...args, '--url', srv.adminUrl, '--token', srv.adminToken];

async function json(args: string[]): Promise<any> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-enc-rec-'));
  const { cert, key } = makeSelfSignedCert(path.join(work, 'tls'));
  srv = await startTestServer({ tlsCert: cert, tlsKey: key, encryptionKey: randomBytes(32).toString('base64') });
  const s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'vault' }));
  await s3.send(new PutBucketEncryptionCommand({ Bucket: 'vault', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
  await s3.send(new PutObjectCommand({ Bucket: 'vault', Key: 'auto.txt', Body: 'sealed by the bucket default' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'mixed' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'mixed', VersioningConfiguration: { Status: 'Enabled' } }));
  ids.plain = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'in clear' }))).VersionId!;
  ids.s3 = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'server key', ServerSideEncryption: 'AES256' }))).VersionId!;
  ids.c = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'customer key', ...sseC }))).VersionId!;
  await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'open.txt', Body: 'plain' }));
  s3.destroy();
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const NONE = { mode: 'none', algorithm: null, customerKeyMd5: null };
const SSE_S3 = { mode: 'SSE-S3', algorithm: 'AES256', customerKeyMd5: null };
const SSE_C = () => ({ mode: 'SSE-C', algorithm: 'AES256', customerKeyMd5: keyMd5 });

describe('encryption in the admin API records', () => {
  it("bucket summaries carry the bucket's default encryption", async () => {
    const { status, body } = await admin('/v1/buckets');
    expect(status).toBe(200);
    const by = Object.fromEntries(body.buckets.map((b: any) => [b.name, b.defaultEncryption]));
    expect(by).toEqual({ vault: 'SSE-S3', mixed: 'none' });
  });

  it('each version says its encryption: none, SSE-S3, SSE-C with the key MD5 (the key never appears)', async () => {
    const rec = (await admin('/v1/objects/mixed/doc.txt')).body;
    expect(rec).toMatchObject({ versionId: ids.c, encryption: SSE_C() });
    expect(rec.versions.map((v: any) => [v.versionId, v.encryption.mode])).toEqual([
      [ids.c, 'SSE-C'],
      [ids.s3, 'SSE-S3'],
      [ids.plain, 'none'],
    ]);
    expect((await admin(`/v1/objects/mixed/doc.txt?versionId=${ids.s3}`)).body.encryption).toEqual(SSE_S3);
    expect((await admin(`/v1/objects/mixed/doc.txt?versionId=${ids.plain}`)).body.encryption).toEqual(NONE);
    expect((await admin('/v1/objects/vault/auto.txt')).body.encryption).toEqual(SSE_S3);
    expect(JSON.stringify(rec)).not.toContain(customerKey.toString('base64'));
  });

  it('filters by encryption; a mode it does not know is BadFilter naming the field', async () => {
    // Sorted by key (then row): auto.txt before doc.txt whatever the bucket.
    const keys = async (q: string) => (await admin(`/v1/objects?${q}`)).body.objects.map((o: any) => `${o.bucket}/${o.key}@${o.encryption.mode}`);
    expect(await keys('encryption=SSE-C')).toEqual(['mixed/doc.txt@SSE-C']);
    expect(await keys('encryption=sse-s3')).toEqual(['vault/auto.txt@SSE-S3']);
    expect(await keys('encryption=AES256&versions=true')).toEqual(['vault/auto.txt@SSE-S3', 'mixed/doc.txt@SSE-S3']);
    expect(await keys('encryption=none')).toEqual(['mixed/open.txt@none']);
    const bad = await admin('/v1/objects?encryption=aws:kms');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BadFilter', field: 'encryption' });
  });
});

describe('encryption in the CLI (both modes)', { timeout: 120_000 }, () => {
  it('ls --versions, find --encryption and inspect --json carry it', async () => {
    for (const mode of ['local', 'remote'] as const) {
      const all = await json(at(mode, 'ls', 'mixed', '--versions'));
      expect(all.objects.map((o: any) => [o.key, o.encryption.mode])).toEqual([
        ['doc.txt', 'SSE-C'],
        ['doc.txt', 'SSE-S3'],
        ['doc.txt', 'none'],
        ['open.txt', 'none'],
      ]);
      const found = await json(at(mode, 'find', '--encryption', 'SSE-S3', '--versions'));
      expect(found.objects.map((o: any) => `${o.bucket}/${o.key}`)).toEqual(['vault/auto.txt', 'mixed/doc.txt']);
      expect((await json(at(mode, 'inspect', 'mixed/doc.txt'))).encryption).toEqual(SSE_C());
      const buckets = await json(at(mode, 'ls'));
      expect(buckets.buckets.map((b: any) => [b.name, b.defaultEncryption])).toEqual([
        ['mixed', 'none'],
        ['vault', 'SSE-S3'],
      ]);
    }
  });

  it('prints it: inspect, ls --versions, find -l and the buckets table (both modes)', async () => {
    for (const mode of ['local', 'remote'] as const) {
      const rec = await cli(at(mode, 'inspect', 'mixed/doc.txt'));
      expect(rec.code, rec.stderr).toBe(0);
      expect(rec.stdout).toMatch(new RegExp(`^Encryption:\\s+SSE-C \\(AES256, customer key MD5 ${keyMd5.replace(/[+/]/g, '\\$&')}\\)$`, 'm'));
      expect(rec.stdout).toContain(`  ${ids.s3}`);
      expect(rec.stdout).toMatch(/SSE-S3\s*$/m);
      const old = await cli(at(mode, 'inspect', 'mixed/doc.txt', '--version-id', ids.plain!));
      expect(old.stdout).toMatch(/^Encryption:\s+none$/m);
      const versions = await cli(at(mode, 'ls', 'mixed', '--versions'));
      expect(versions.stdout).toContain(`doc.txt  ${ids.c}  (latest, SSE-C)`);
      expect(versions.stdout).toContain(`doc.txt  ${ids.s3}  (SSE-S3)`);
      expect(versions.stdout).toMatch(new RegExp(`doc\\.txt  ${ids.plain}\\n`));
      const long = await cli(at(mode, 'find', '-l', '--bucket', 'vault'));
      expect(long.stdout).toMatch(/vault\/auto\.txt  \(SSE-S3\)$/m);
      const table = await cli(at(mode, 'ls'));
      expect(table.stdout).toMatch(/^NAME\s.*\sACCESS\s+ENCRYPTION\s/m);
      expect(table.stdout).toMatch(/^vault\s.*\sprivate\s+SSE-S3\s/m);
      expect(table.stdout).toMatch(/^mixed\s.*\sprivate\s+-\s/m);
    }
  });
});
