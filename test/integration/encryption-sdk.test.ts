// Encryption at rest through the SDK over https: SSE-S3 per request and as the bucket's default,
// encryptAll, SSE-C (put, get, head, range, multipart), copies between every pair of modes, S3's
// errors for bad input, no plaintext on disk or in cairn.db, scrub and GC, key rotation.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, UploadPartCopyCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, chunkFiles, tmpFiles, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';
import { runScrub } from '../../src/storage/scrub.js';
import { runGc } from '../../src/storage/gc.js';

const CHUNK = 64 * 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sse-'));
const tls = makeSelfSignedCert(dir);
const keyFile = path.join(dir, 'keys');
const b64 = () => randomBytes(32).toString('base64');
fs.writeFileSync(keyFile, `k1 ${b64()}\n`);

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
const customer = (key: Uint8Array = randomBytes(32)) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: Buffer.from(key).toString('base64'), SSECustomerKeyMD5: md5(key).toString('base64') });
const copySource = (key: Uint8Array) => ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: Buffer.from(key).toString('base64'), CopySourceSSECustomerKeyMD5: md5(key).toString('base64') });
/** A recognisable plaintext: searched for in every file of the data dir. */
const MARK = 'CAIRN-PLAINTEXT-MARK-';
const pattern = (n: number) => Buffer.from(MARK.repeat(Math.ceil(n / MARK.length))).subarray(0, n);

let srv: TestServer;
let s3: S3Client;
const B = 'sse';

async function bytes(p: Promise<{ Body?: unknown }>): Promise<Buffer> {
  const r = await p;
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}
async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected an error');
}
/** The SDK fills SSECustomerKeyMD5 in from the key: bad input goes in as headers, before signing. */
function sseHeaders(p: Record<string, string>): Record<string, string> {
  const names: Record<string, string> = {
    SSECustomerAlgorithm: 'x-amz-server-side-encryption-customer-algorithm',
    SSECustomerKey: 'x-amz-server-side-encryption-customer-key',
    SSECustomerKeyMD5: 'x-amz-server-side-encryption-customer-key-md5',
    ServerSideEncryption: 'x-amz-server-side-encryption',
  };
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [names[k]!, v]));
}
function withHeaders<C extends { middlewareStack: { add: (...a: never[]) => void } }>(cmd: C, headers: Record<string, string>): C {
  (cmd.middlewareStack as unknown as { add(mw: unknown, o: unknown): void }).add(
    (next: (a: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', priority: 'low' },
  );
  return cmd;
}
function httpsGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers, ca: fs.readFileSync(srv.caFile!) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), headers: res.headers }));
    });
    req.on('error', reject);
  });
}
function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

beforeAll(async () => {
  srv = await startTestServer({ chunkSize: CHUNK, tlsCert: tls.cert, tlsKey: tls.key, encryptionKeyFile: keyFile });
  s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(async () => {
  s3?.destroy();
  await srv?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SSE-S3', () => {
  it('per request: PUT, GET, HEAD and a range answer AES256; the ETag stays the MD5', async () => {
    const body = randomBytes(3 * CHUNK + 17);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 's3/big', Body: body, ServerSideEncryption: 'AES256' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    expect(put.ETag).toBe(`"${md5(body).toString('hex')}"`);
    const get = s3.send(new GetObjectCommand({ Bucket: B, Key: 's3/big' }));
    expect((await get).ServerSideEncryption).toBe('AES256');
    expect((await bytes(get)).equals(body)).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 's3/big' }))).ServerSideEncryption).toBe('AES256');
    const range = await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 's3/big', Range: `bytes=${CHUNK - 5}-${2 * CHUNK + 9}` })));
    expect(range.equals(body.subarray(CHUNK - 5, 2 * CHUNK + 10))).toBe(true);
    const small = Buffer.from('small and inline');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 's3/small', Body: small, ServerSideEncryption: 'AES256' }));
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 's3/small' })))).equals(small)).toBe(true);
  });

  it('equal content under the server key is stored once (dedup)', async () => {
    const body = randomBytes(4 * CHUNK);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dedup/a', Body: body, ServerSideEncryption: 'AES256' }));
    const before = chunkFiles(srv).length;
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dedup/b', Body: body, ServerSideEncryption: 'AES256' }));
    expect(chunkFiles(srv).length).toBe(before);
    // Under SSE-C nothing is shared.
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dedup/c', Body: body, ...customer() }));
    expect(chunkFiles(srv).length).toBe(before + 4);
  });

  it('as the bucket default: Put/Get/DeleteBucketEncryption; KMS refused; none set is 404', async () => {
    const bucket = 'sse-default';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    expect(await s3Error(s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))).toEqual({ name: 'ServerSideEncryptionConfigurationNotFoundError', status: 404 });
    const kms = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const } }] };
    expect(await s3Error(s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: kms })))).toEqual({ name: 'NotImplemented', status: 501 });
    await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'by default' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    expect((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k2', Body: 'plain' }))).ServerSideEncryption).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');
  });
});

describe('SSE-C', () => {
  const key = randomBytes(32);
  it('put, get, head and range with the key; without it 400, with another 403', async () => {
    const body = randomBytes(2 * CHUNK + 100);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'c/obj', Body: body, ...customer(key) }));
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    expect(put.SSECustomerKeyMD5).toBe(md5(key).toString('base64'));
    expect(put.ETag).not.toBe(`"${md5(body).toString('hex')}"`);
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/obj', ...customer(key) })))).equals(body)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c/obj', ...customer(key) }));
    expect([head.SSECustomerAlgorithm, head.SSECustomerKeyMD5, head.ContentLength]).toEqual(['AES256', md5(key).toString('base64'), body.length]);
    const range = await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/obj', Range: 'bytes=100-70000', ...customer(key) })));
    expect(range.equals(body.subarray(100, 70001))).toBe(true);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/obj' })))).toEqual({ name: 'InvalidRequest', status: 400 });
    // A HEAD answer has no body: the SDK names the error by its status alone.
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c/obj' })))).status).toBe(400);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c/obj', ...customer() })))).status).toBe(403);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/obj', ...customer() })))).toEqual({ name: 'AccessDenied', status: 403 });
    // A key given for an object that is not SSE-C.
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: 's3/big', ...customer(key) })))).toEqual({ name: 'InvalidRequest', status: 400 });
    const small = Buffer.from('tiny secret');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'c/small', Body: small, ...customer(key) }));
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/small', ...customer(key) })))).equals(small)).toBe(true);
  });

  it('bad input: S3 code and status, nothing stored, no temp files or buffers left', async () => {
    const good = customer(key);
    const cases: Array<[Record<string, string>, string, number]> = [
      [{ ...good, SSECustomerKeyMD5: md5(randomBytes(32)).toString('base64') }, 'InvalidArgument', 400],
      [{ ...good, SSECustomerKey: randomBytes(16).toString('base64'), SSECustomerKeyMD5: md5(randomBytes(16)).toString('base64') }, 'InvalidArgument', 400],
      [{ ...good, SSECustomerAlgorithm: 'AES128' }, 'InvalidEncryptionAlgorithmError', 400],
      [{ SSECustomerAlgorithm: 'AES256' }, 'InvalidArgument', 400],
      [{ ...good, ServerSideEncryption: 'AES256' }, 'InvalidArgument', 400],
    ];
    for (const [extra, name, status] of cases) {
      expect(await s3Error(s3.send(withHeaders(new PutObjectCommand({ Bucket: B, Key: 'c/bad', Body: 'x' }), sseHeaders(extra)))), JSON.stringify(extra)).toEqual({ name, status });
    }
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'c/bad' })))).toEqual({ name: 'NotFound', status: 404 });
    // A body whose digest is wrong, after its chunks were sealed and written: nothing stays.
    const files = chunkFiles(srv).length;
    for (const extra of [{ ServerSideEncryption: 'AES256' as const }, customer(key)]) {
      const body = randomBytes(3 * CHUNK);
      const bad = withHeaders(new PutObjectCommand({ Bucket: B, Key: 'c/bad', Body: body, ...extra }), { 'content-md5': md5(randomBytes(4)).toString('base64') });
      expect(await s3Error(s3.send(bad))).toEqual({ name: 'BadDigest', status: 400 });
    }
    expect(chunkFiles(srv).length).toBe(files);
    expect(tmpFiles(srv)).toEqual([]);
    expect(srv.pool.stats().inUse).toBe(0);
    expect(srv.store.sealBuffers!.stats().inUse).toBe(0);
  });

  it('SSE-C over plain HTTP is refused, and SSE-S3 on a server without keys is NotImplemented', async () => {
    const plain = await startTestServer();
    const c = plain.client();
    try {
      await c.send(new CreateBucketCommand({ Bucket: B }));
      expect(await s3Error(c.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x', ...customer() })))).toEqual({ name: 'InvalidRequest', status: 400 });
      expect(await s3Error(c.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })))).toEqual({ name: 'NotImplemented', status: 501 });
      const aes = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] };
      expect(await s3Error(c.send(new PutBucketEncryptionCommand({ Bucket: B, ServerSideEncryptionConfiguration: aes })))).toEqual({ name: 'NotImplemented', status: 501 });
      expect(await s3Error(c.send(new GetBucketEncryptionCommand({ Bucket: B })))).toEqual({ name: 'ServerSideEncryptionConfigurationNotFoundError', status: 404 });
      expect(await s3Error(c.send(new HeadObjectCommand({ Bucket: B, Key: 'k' })))).toEqual({ name: 'NotFound', status: 404 });
    } finally {
      c.destroy();
      await plain.stop();
    }
  });

  it('multipart: every part carries the key (a part without it is refused), the object reads back with it', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'c/mp', ...customer(key) }));
    expect(await s3Error(s3.send(new UploadPartCommand({ Bucket: B, Key: 'c/mp', UploadId, PartNumber: 1, Body: parts[0] })))).toEqual({ name: 'InvalidRequest', status: 400 });
    expect(await s3Error(s3.send(new UploadPartCommand({ Bucket: B, Key: 'c/mp', UploadId, PartNumber: 1, Body: parts[0], ...customer() })))).toEqual({ name: 'InvalidArgument', status: 400 });
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'c/mp', UploadId, PartNumber: i + 1, Body: p, ...customer(key) }));
      expect(r.SSECustomerKeyMD5).toBe(md5(key).toString('base64'));
      etags.push(r.ETag!);
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'c/mp', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'c/mp', ...customer(key) })))).equals(Buffer.concat(parts))).toBe(true);
  });

  it('SSE-S3 multipart: parts follow the upload, the object answers AES256', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(10)];
    const { UploadId, ServerSideEncryption } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 's3/mp', ServerSideEncryption: 'AES256' }));
    expect(ServerSideEncryption).toBe('AES256');
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key: 's3/mp', UploadId, PartNumber: i + 1, Body: p }))).ETag!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 's3/mp', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const get = s3.send(new GetObjectCommand({ Bucket: B, Key: 's3/mp' }));
    expect((await get).ServerSideEncryption).toBe('AES256');
    expect((await bytes(get)).equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('copies between modes', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  type Mode = 'plain' | 'sse-s3' | 'sse-c';
  const modes: Mode[] = ['plain', 'sse-s3', 'sse-c'];
  const writeHeaders = (m: Mode, key: Uint8Array) => (m === 'sse-s3' ? { ServerSideEncryption: 'AES256' as const } : m === 'sse-c' ? customer(key) : {});
  const readHeaders = (m: Mode, key: Uint8Array) => (m === 'sse-c' ? customer(key) : {});
  it('every pair, large and small, reads back in the destination mode', async () => {
    for (const size of [2 * CHUNK + 3, 100]) {
      for (const from of modes) {
        const body = randomBytes(size);
        const src = `copy/${size}/${from}`;
        await s3.send(new PutObjectCommand({ Bucket: B, Key: src, Body: body, ...writeHeaders(from, keyA) }));
        for (const to of modes) {
          const dst = `${src}-to-${to}`;
          const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, ...(from === 'sse-c' ? copySource(keyA) : {}), ...writeHeaders(to, keyB) }));
          expect(r.ServerSideEncryption, `${from} -> ${to}`).toBe(to === 'sse-s3' ? 'AES256' : undefined);
          const got = s3.send(new GetObjectCommand({ Bucket: B, Key: dst, ...readHeaders(to, keyB) }));
          expect((await bytes(got)).equals(body), `${from} -> ${to}`).toBe(true);
        }
      }
    }
  });
  it('UploadPartCopy from and into encrypted objects re-encrypts the part under the upload\'s mode', async () => {
    const plainSrc = randomBytes(2 * CHUNK + 7);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'upc/plain', Body: plainSrc }));
    const cSrc = randomBytes(CHUNK + 99);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'upc/c', Body: cSrc, ...customer(keyA) }));
    // Into an SSE-C upload: a plain source range, then the SSE-C source whole (with both keys).
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'upc/dst-c', ...customer(keyB) }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'upc/dst-c', UploadId, PartNumber: 1, CopySource: `${B}/upc/plain`, CopySourceRange: `bytes=5-${plainSrc.length - 1}`, ...customer(keyB) }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'upc/dst-c', UploadId, PartNumber: 2, CopySource: `${B}/upc/c`, ...copySource(keyA), ...customer(keyB) }));
    expect(await s3Error(s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'upc/dst-c', UploadId, PartNumber: 3, CopySource: `${B}/upc/c`, ...customer(keyB) })))).toEqual({ name: 'InvalidRequest', status: 400 });
    // Every part but the last must be 5 MiB: the object is made of part 2 alone.
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'upc/dst-c', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }));
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'upc/dst-c', ...customer(keyB) })))).equals(cSrc)).toBe(true);
    expect(p1.CopyPartResult?.ETag).toBeDefined();
    // Into an SSE-S3 upload from the SSE-C source.
    const up2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'upc/dst-s3', ServerSideEncryption: 'AES256' }));
    const q = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'upc/dst-s3', UploadId: up2.UploadId, PartNumber: 1, CopySource: `${B}/upc/c`, CopySourceRange: 'bytes=10-65000', ...copySource(keyA) }));
    expect(q.ServerSideEncryption).toBe('AES256');
    expect(q.CopyPartResult!.ETag).toBe(`"${md5(cSrc.subarray(10, 65001)).toString('hex')}"`);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'upc/dst-s3', UploadId: up2.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: q.CopyPartResult!.ETag }] } }));
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'upc/dst-s3' })))).equals(cSrc.subarray(10, 65001))).toBe(true);
  });

  it('an SSE-C source without its key, or with another, is refused', async () => {
    expect(await s3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy/x', CopySource: `${B}/copy/100/sse-c` })))).toEqual({ name: 'InvalidRequest', status: 400 });
    expect(await s3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy/x', CopySource: `${B}/copy/100/sse-c`, ...copySource(keyB) })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
});

describe('at rest', () => {
  it('no chunk file, cairn.db nor its WAL holds the plaintext; scrub verifies every chunk without a key; GC keeps them', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mark/big-s3', Body: pattern(3 * CHUNK), ServerSideEncryption: 'AES256' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mark/small-s3', Body: pattern(1000), ServerSideEncryption: 'AES256' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mark/big-c', Body: pattern(3 * CHUNK + 1), ...customer() }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mark/small-c', Body: pattern(999), ...customer() }));
    // The control: a plain object's mark is found, so the search works.
    const needle = Buffer.from(MARK.repeat(3));
    const holders = () => filesUnder(srv.dataDir).filter((f) => fs.readFileSync(f).includes(needle));
    expect(holders()).toEqual([]);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'mark/plain', Body: pattern(1000) }));
    expect(holders().length).toBeGreaterThan(0);
    const scrub = await runScrub({ dataDir: srv.dataDir, meta: srv.meta, store: srv.store });
    expect(scrub.broken).toEqual([]);
    const gc = await runGc({ dataDir: srv.dataDir, meta: srv.meta, store: srv.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
    expect(gc.orphanChunks).toBe(0);
    expect((await bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mark/big-s3' })))).equals(pattern(3 * CHUNK))).toBe(true);
  });

  it('a flipped byte in an encrypted chunk file cuts the GET short', async () => {
    const body = randomBytes(2 * CHUNK);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'flip', Body: body, ServerSideEncryption: 'AES256' }));
    const rows = await srv.meta.objects.chunksForRead((await srv.meta.objects.getForRead((await srv.meta.buckets.get(B))!.id, 'flip'))!, 0, body.length - 1);
    const file = srv.store.chunkPath(rows[1]!.chunkHash);
    const stored = fs.readFileSync(file);
    stored[100] ^= 1;
    fs.writeFileSync(file, stored);
    await expect(bytes(s3.send(new GetObjectCommand({ Bucket: B, Key: 'flip' })))).rejects.toThrow();
  });
});

describe('presigned URLs and policies', () => {
  it('a presigned GET of an SSE-C object is signed with the key headers, which the fetch must send', async () => {
    const key = randomBytes(32);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'pre/c', Body: 'presigned secret', ...customer(key) }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'pre/c', ...customer(key) }), { expiresIn: 300 });
    const headers = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': Buffer.from(key).toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': md5(key).toString('base64'),
    };
    const get = (h: Record<string, string>) => httpsGet(url, h);
    const ok = await get(headers);
    expect([ok.status, ok.body]).toEqual([200, 'presigned secret']);
    expect(ok.headers['x-amz-server-side-encryption-customer-algorithm']).toBe('AES256');
    // The same URL without the signed key headers: the signature no longer matches.
    expect((await get({})).status).toBe(403);
  });

  it('a bucket policy can deny uploads without x-amz-server-side-encryption: AES256', async () => {
    const bucket = 'sse-policy';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } } }],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy }));
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sealed', Body: 'x', ServerSideEncryption: 'AES256' }))).ServerSideEncryption).toBe('AES256');
    const kmsKey = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/*`, Condition: { Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } } }] });
    expect((await s3Error(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: kmsKey })))).name).toBe('MalformedPolicy');
  });
});

describe('server settings', () => {
  it('encryptAll: a plain PUT is SSE-S3; a second key in the file (rotation) keeps old data readable', async () => {
    const file = path.join(dir, 'keys-rotate');
    fs.writeFileSync(file, `old ${b64()}\n`);
    const first = await startTestServer({ encryptionKeyFile: file, encryptAll: true, chunkSize: CHUNK });
    const c1 = first.client();
    const body = randomBytes(2 * CHUNK + 1);
    await c1.send(new CreateBucketCommand({ Bucket: B }));
    expect((await c1.send(new PutObjectCommand({ Bucket: B, Key: 'old', Body: body }))).ServerSideEncryption).toBe('AES256');
    c1.destroy();
    await first.close();
    fs.appendFileSync(file, `new ${b64()}\n`);
    const second = await startTestServer({ encryptionKeyFile: file, encryptAll: true, chunkSize: CHUNK }, { existingDataDir: first.dataDir });
    const c2 = second.client();
    try {
      expect((await bytes(c2.send(new GetObjectCommand({ Bucket: B, Key: 'old' })))).equals(body)).toBe(true);
      await c2.send(new PutObjectCommand({ Bucket: B, Key: 'new', Body: body }));
      expect((await bytes(c2.send(new GetObjectCommand({ Bucket: B, Key: 'new' })))).equals(body)).toBe(true);
      // Sealed under the new key: other stored bytes (the header names the key), no dedup across keys.
      const hashes = async (k: string) => (await second.meta.objects.chunksForRead((await second.meta.objects.getForRead((await second.meta.buckets.get(B))!.id, k))!, 0, body.length - 1)).map((r) => r.chunkHash);
      const old = await hashes('old');
      expect((await hashes('new')).some((h) => old.includes(h))).toBe(false);
    } finally {
      c2.destroy();
      await second.close();
    }
    // The old key dropped from the file: its data answers 500 InternalError (logged), the rest reads.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('new ')).join('\n') + '\n');
    const third = await startTestServer({ encryptionKeyFile: file, chunkSize: CHUNK }, { existingDataDir: first.dataDir });
    const c3 = third.client({ maxAttempts: 1 });
    try {
      expect(await s3Error(c3.send(new GetObjectCommand({ Bucket: B, Key: 'old' })))).toEqual({ name: 'InternalError', status: 500 });
      expect((await bytes(c3.send(new GetObjectCommand({ Bucket: B, Key: 'new' })))).equals(body)).toBe(true);
    } finally {
      c3.destroy();
      await third.stop();
    }
  });
});
