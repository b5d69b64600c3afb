// PostObject with encryption fields: a form's x-amz-server-side-encryption(-customer-*) fields go
// through PutObject's own parsing (writeEncryption), so a browser upload is sealed as a PUT is,
// and SSE-C fields over plain HTTP are refused as the headers are.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, chunkFiles, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';
import { errorCode, postForm, signedV4Fields, type Condition, type PostResult } from '../helpers/post-form.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-post-sse-'));
const tls = makeSelfSignedCert(dir);
const keyFile = path.join(dir, 'keys');
fs.writeFileSync(keyFile, `k1 ${randomBytes(32).toString('base64')}\n`);
const MARK = 'CAIRN-POST-PLAINTEXT-';
const body = Buffer.from(MARK.repeat(20_000));
const B = 'postsse';

let srv: TestServer;
let s3: S3Client;

/** The form over https with the server's CA (fetch cannot take a CA of its own). */
async function postHttps(fields: Record<string, string>, data: Buffer): Promise<PostResult> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(data)]), 'upload.bin');
  const encoded = new Response(form);
  const payload = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolve, reject) => {
    const req = https.request(`${srv.url}/${B}`, { method: 'POST', ca: fs.readFileSync(srv.caFile!), headers: { 'Content-Type': encoded.headers.get('content-type')!, 'Content-Length': String(payload.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function signed(key: string, extra: Record<string, string>, server: TestServer = srv): Record<string, string> {
  const conditions: Condition[] = [{ bucket: B }, { key }, ...Object.entries(extra).map(([k, v]) => ({ [k]: v }))];
  return { key, ...extra, ...signedV4Fields(server.credentials, conditions) };
}

function sseC(key: Buffer): Record<string, string> {
  return {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64'),
  };
}

function noPlaintextOnDisk(server: TestServer): void {
  const files = chunkFiles(server);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(fs.readFileSync(path.join(server.dataDir, 'chunks', f)).includes(MARK)).toBe(false);
}

beforeAll(async () => {
  srv = await startTestServer({ chunkSize: 64 * 1024, tlsCert: tls.cert, tlsKey: tls.key, encryptionKeyFile: keyFile });
  s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(async () => {
  s3?.destroy();
  await srv?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('PostObject with encryption fields', () => {
  it('SSE-S3: the form upload is sealed, answers AES256 and reads back', async () => {
    const r = await postHttps(signed('form/s3', { 'x-amz-server-side-encryption': 'AES256' }), body);
    expect(r.status).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'form/s3' }));
    expect(head.ServerSideEncryption).toBe('AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'form/s3' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    noPlaintextOnDisk(srv);
  });

  it('SSE-C: sealed under the form\'s key; a GET needs that key', async () => {
    const key = randomBytes(32);
    const fields = sseC(key);
    const r = await postHttps(signed('form/c', fields), body);
    expect(r.status).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    expect(r.headers.get('x-amz-server-side-encryption-customer-key-md5')).toBe(fields['x-amz-server-side-encryption-customer-key-md5']);
    const withKey = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') };
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'form/c', ...withKey }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    const without = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'form/c' })).catch((e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode);
    expect(without).toBe(400);
    noPlaintextOnDisk(srv);
  });

  it('bad encryption fields are refused with S3\'s codes and store nothing', async () => {
    const key = randomBytes(32);
    const wrongMd5 = { ...sseC(key), 'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(randomBytes(32)).digest('base64') };
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['form/bad-md5', wrongMd5, 400, 'InvalidArgument'],
      ['form/kms', { 'x-amz-server-side-encryption': 'aws:kms' }, 501, 'NotImplemented'],
      ['form/unknown', { 'x-amz-server-side-encryption': 'AES512' }, 400, 'InvalidArgument'],
      ['form/both', { 'x-amz-server-side-encryption': 'AES256', ...sseC(key) }, 400, 'InvalidArgument'],
    ];
    for (const [k, fields, status, code] of cases) {
      const r = await postHttps(signed(k, fields), body);
      expect([k, r.status, errorCode(r)]).toEqual([k, status, code]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: k })).catch((e: { name: string }) => e.name);
      expect(head).toBe('NotFound');
    }
  });

  it('SSE-C fields over plain HTTP are refused (InvalidRequest), as S3 refuses the headers', async () => {
    const plain = await startTestServer({ encryptionKeyFile: keyFile });
    try {
      const client = plain.client();
      await client.send(new CreateBucketCommand({ Bucket: B }));
      const fields = sseC(randomBytes(32));
      const conditions: Condition[] = [{ bucket: B }, { key: 'c' }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))];
      const r = await postForm(`${plain.url}/${B}`, { key: 'c', ...fields, ...signedV4Fields(plain.credentials, conditions) }, { data: body });
      expect([r.status, errorCode(r)]).toEqual([400, 'InvalidRequest']);
      const head = await client.send(new HeadObjectCommand({ Bucket: B, Key: 'c' })).catch((e: { name: string }) => e.name);
      expect(head).toBe('NotFound');
      client.destroy();
    } finally {
      await plain.stop();
    }
  });
});
