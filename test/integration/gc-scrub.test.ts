import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGc, type GcDeps } from '../../src/storage/gc.js';
import { runScrub } from '../../src/storage/scrub.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf } from '../helpers/sdk.js';

// GC and verify against the real server, driven by the SDK: an upload in flight whose first
// chunk equals an old orphan survives a GC run, and verify names the objects a damaged chunk breaks.

const CHUNK = 64 * 1024;
const HOUR = 3_600_000;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: TestServer;
let s3: S3Client;
let gcDeps: GcDeps;
beforeAll(async () => {
  server = await startTestServer({ chunkSize: CHUNK });
  s3 = server.client();
  gcDeps = { dataDir: server.dataDir, meta: server.meta, store: server.store };
  await s3.send(new CreateBucketCommand({ Bucket: 'maint' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const scrub = () => runScrub({ dataDir: server.dataDir, meta: server.meta, store: server.store });

async function writeOrphan(data: Buffer, ageMs: number): Promise<string> {
  const hash = sha256(data);
  const file = server.store.chunkPath(hash);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
  const t = new Date(Date.now() - ageMs);
  await fs.utimes(file, t, t);
  return hash;
}

describe('gc and verify on a running server', () => {
  it('a PUT in flight whose chunk equals an old orphan keeps it through a GC; the object reads back and verifies', async () => {
    const first = randomBytes(CHUNK);
    const rest = randomBytes(CHUNK + 123);
    const hash = await writeOrphan(first, 2 * HOUR);
    const unrelated = await writeOrphan(randomBytes(500), 2 * HOUR);

    // A slow client: the first chunk goes out, then the body stalls until GC has run.
    const body = new PassThrough();
    const put = s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'inflight', Body: body, ContentLength: first.length + rest.length }));
    body.write(first);
    for (let i = 0; !server.store.isPinned(hash); i++) {
      if (i > 500) throw new Error('the first chunk never reached the store');
      await sleep(10);
    }

    const r = await runGc(gcDeps, { graceMs: HOUR, multipartExpiryMs: 7 * 24 * HOUR });
    expect(r.orphanChunks).toBe(1);
    expect(await server.store.exists(unrelated)).toBe(false);
    expect(await server.store.exists(hash)).toBe(true);

    body.end(rest);
    await put;
    const got = await s3.send(new GetObjectCommand({ Bucket: 'maint', Key: 'inflight' }));
    expect((await bodyOf(got)).equals(Buffer.concat([first, rest]))).toBe(true);
    expect((await scrub()).broken).toEqual([]);
  });

  it('verify names the objects of a flipped byte and of a deleted chunk file; their GETs fail instead of serving bad bytes', async () => {
    const a = randomBytes(2 * CHUNK);
    const b = randomBytes(CHUNK + 1);
    await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'dir/a', Body: a }));
    await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'dir/b', Body: b }));
    await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'fine', Body: randomBytes(100) }));
    const flipped = sha256(a.subarray(CHUNK));
    const deleted = sha256(b.subarray(0, CHUNK));
    const file = server.store.chunkPath(flipped);
    const bytes = await fs.readFile(file);
    bytes[42] ^= 0xff;
    await fs.writeFile(file, bytes);
    await fs.rm(server.store.chunkPath(deleted));

    const r = await scrub();
    const byHash = new Map(r.broken.map((x) => [x.sha256, x]));
    expect(r.broken).toHaveLength(2);
    expect(byHash.get(flipped)).toMatchObject({ problem: 'corrupt', quarantinedTo: path.join(server.dataDir, 'quarantine', flipped), objects: [{ bucket: 'maint', key: 'dir/a' }] });
    expect(byHash.get(deleted)).toMatchObject({ problem: 'missing', objects: [{ bucket: 'maint', key: 'dir/b' }] });

    for (const key of ['dir/a', 'dir/b']) {
      const res = s3.send(new GetObjectCommand({ Bucket: 'maint', Key: key })).then(bodyOf);
      await expect(res).rejects.toThrow();
    }
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'maint', Key: 'fine' }));
    expect((await bodyOf(ok)).length).toBe(100);

    // Re-uploading the damaged object restores both chunks; verify is clean again.
    await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'dir/a-again', Body: a }));
    await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'dir/b-again', Body: b }));
    expect((await scrub()).broken).toEqual([]);
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'maint', Key: 'dir/a' })))).equals(a)).toBe(true);
  });
});
