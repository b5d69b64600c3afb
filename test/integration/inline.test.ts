// Small objects stored inline (CAIRN_INLINE_MAX): their bytes live in the chunk's SQLite row,
// committed with the object. Everything S3 does with an object must work the same, and the
// records, verify and GC must know the difference.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScrub } from '../../src/storage/scrub.js';
import { runGc } from '../../src/storage/gc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const INLINE_MAX = 16 * 1024;

let server: TestServer;
let s3: S3Client;
beforeAll(async () => {
  server = await startTestServer({ chunkSize: 64 * 1024, inlineMax: INLINE_MAX, durability: 'fsync' });
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'small' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function chunkFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(e.name);
    }
  };
  await walk(path.join(server.dataDir, 'chunks'));
  return out;
}

async function record(key: string) {
  const res = await fetch(`${server.adminUrl}/v1/objects/small/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { etag: string; chunks: Array<{ sha256: string; stored: string; size: number }> };
}

describe('inline small objects', () => {
  it('a small PUT writes no chunk file; GET, Range and HEAD answer its bytes; the record says inline', async () => {
    const before = await chunkFiles();
    const data = randomBytes(4096);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'a.bin', Body: data, ChecksumAlgorithm: 'CRC32C' }));
    expect(put.ETag).toBe(`"${md5(data)}"`);
    expect(await chunkFiles()).toEqual(before);
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'a.bin' })))).equals(data)).toBe(true);
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'a.bin', Range: 'bytes=100-199' }));
    expect(ranged.ContentRange).toBe('bytes 100-199/4096');
    expect((await bodyOf(ranged)).equals(data.subarray(100, 200))).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'small', Key: 'a.bin' }));
    expect(head.ContentLength).toBe(4096);
    const rec = await record('a.bin');
    expect(rec.chunks).toEqual([expect.objectContaining({ sha256: sha256(data), stored: 'inline', size: 4096 })]);
  });

  it('objects above the limit are chunk files as before', async () => {
    const data = randomBytes(INLINE_MAX + 1);
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'b.bin', Body: data }));
    expect(await chunkFiles()).toContain(sha256(data));
    expect((await record('b.bin')).chunks[0]!.stored).toBe('file');
  });

  it('copies share the inline row; UploadPartCopy reads from it; deleting the last user drops it', async () => {
    const data = randomBytes(3000);
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'src', Body: data }));
    await s3.send(new CopyObjectCommand({ Bucket: 'small', Key: 'copy', CopySource: 'small/src' }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'copy' })))).equals(data)).toBe(true);
    expect((await record('copy')).chunks[0]).toMatchObject({ stored: 'inline' });

    const big = randomBytes(5 * 1024 * 1024);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'small', Key: 'mp' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'small', Key: 'mp', UploadId, PartNumber: 1, Body: big }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: 'small', Key: 'mp', UploadId, PartNumber: 2, CopySource: 'small/src', CopySourceRange: 'bytes=10-2009' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'small', Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }));
    const whole = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'mp' })));
    expect(whole.equals(Buffer.concat([big, data.subarray(10, 2010)]))).toBe(true);

    const hash = sha256(data);
    await s3.send(new DeleteObjectCommand({ Bucket: 'small', Key: 'src' }));
    expect(server.repo.isChunkReferenced(hash)).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: 'small', Key: 'copy' }));
    expect(server.repo.isChunkReferenced(hash)).toBe(false);
  });

  it('the same small bytes under two keys are one row (dedup), overwrite keeps the other key whole', async () => {
    const data = randomBytes(500);
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'd1', Body: data }));
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'd2', Body: data }));
    const row = server.db.sqlite.prepare('SELECT refcount FROM chunks WHERE hash = ?').get(sha256(data)) as { refcount: number };
    expect(row.refcount).toBe(2);
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'd1', Body: randomBytes(10) }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'd2' })))).equals(data)).toBe(true);
  });

  it('rot in an inline row: GET refuses with InternalError (no bad byte), verify names the object, GC leaves it', async () => {
    const data = randomBytes(2000);
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'rot', Body: data }));
    // Read once first: the row and its checked bytes are now in the read cache. The rot below
    // must still be caught (the write empties the cache; the bytes read again are checked again).
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'rot' })))).equals(data)).toBe(true);
    const bad = Buffer.from(data);
    bad[1000] ^= 0xff;
    server.db.sqlite.prepare('UPDATE chunks SET data = ? WHERE hash = ?').run(bad, sha256(data));
    const err = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'small', Key: 'rot' })));
    expect(err.name).toBe('InternalError');
    const report = await runScrub({ dataDir: server.dataDir, meta: server.meta, store: server.store }, { quarantine: true });
    const broken = report.broken.find((b) => b.sha256 === sha256(data));
    expect(broken).toMatchObject({ problem: 'corrupt', objects: [{ bucket: 'small', key: 'rot' }] });
    expect(broken).not.toHaveProperty('quarantinedTo');
    const gc = await runGc({ dataDir: server.dataDir, meta: server.meta, store: server.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
    expect(gc.chunkRowsRepaired).toBe(0);
    expect(server.repo.isChunkReferenced(sha256(data))).toBe(true);
  });
});
