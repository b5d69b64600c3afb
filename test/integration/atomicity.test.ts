// Atomicity under concurrent writers and readers of the same keys, after the public s3-tests
// `atomic_*` cases (1, 4 and 8 MiB): a reader gets a whole old or a whole new object, never a mix,
// and a GET that has started keeps serving the object it started with even when an overwrite,
// a delete or a multipart completion retires it halfway through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { chunkFiles, startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf } from '../helpers/sdk.js';
import { openDb } from '../../src/db/client.js';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { BufferPool } from '../../src/storage/pool.js';
import { ChunkStore, defaultFsOps } from '../../src/storage/chunk-store.js';
import { ObjectService } from '../../src/storage/object-service.js';

const MiB = 1024 * 1024;
const SIZES = [1 * MiB, 4 * MiB, 8 * MiB];
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const Bucket = 'atomic';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  // 256 KiB chunks: a 1 MiB object is 4 chunk files, an 8 MiB one 32, so a mix would show.
  server = await startTestServer({ chunkSize: '256KiB', writeBuffers: 32 });
  s3 = server.client({ maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

/** Starts a GET and returns once its first bytes arrived; the rest is read by `rest()`. */
async function startRead(key: string): Promise<{ rest: () => Promise<Buffer> }> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
  const body = res.Body as Readable;
  const it = body[Symbol.asyncIterator]();
  const first = await it.next();
  const parts: Buffer[] = first.done ? [] : [Buffer.from(first.value as Uint8Array)];
  return {
    rest: async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) parts.push(Buffer.from(r.value as Uint8Array));
      return Buffer.concat(parts);
    },
  };
}

describe.each(SIZES)('atomic reads and writes of %i-byte objects', (size) => {
  it('a read in progress returns the old object whole while an overwrite commits (s3-tests atomic_read)', async () => {
    const key = `read-${size}`;
    const a = randomBytes(size);
    const b = randomBytes(size);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: a }));
    const reading = await startRead(key);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: b }));
    expect(md5(await reading.rest())).toBe(md5(a));
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key }))))).toBe(md5(b));
  });

  it('a read in progress returns the object whole while it is deleted', async () => {
    const key = `delete-${size}`;
    const a = randomBytes(size);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: a }));
    const reading = await startRead(key);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
    expect(md5(await reading.rest())).toBe(md5(a));
    // The chunks went once the read let go of them.
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: key }))).rejects.toThrow();
  });

  it('a read in progress returns the old object whole while a multipart upload completes over it (atomic_multipart_upload_write)', async () => {
    const key = `mpu-${size}`;
    const a = randomBytes(size);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: a }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    const part = randomBytes(size);
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: 1, Body: part }));
    const reading = await startRead(key);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
    expect(md5(await reading.rest())).toBe(md5(a));
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key }))))).toBe(md5(part));
  });

  it('concurrent writers and readers on one key: every read is one whole written version (atomic_write, atomic_dual_write)', async () => {
    const key = `dual-${size}`;
    const versions = new Map<string, number>();
    const first = randomBytes(size);
    versions.set(md5(first), 0);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: first }));
    const writesPerWriter = size >= 8 * MiB ? 3 : 5;
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; i < writesPerWriter; i++) {
        // Half the versions share chunks with another (same bytes at the same offsets): a mix of
        // versions that share chunks must still be caught by the whole-body hash.
        const body = i % 2 === 0 ? randomBytes(size) : Buffer.concat([first.subarray(0, size / 2), randomBytes(size / 2)]);
        versions.set(md5(body), w * 100 + i + 1);
        await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body }));
      }
    };
    const reads: string[] = [];
    const reader = async () => {
      while (writing) {
        const body = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key })));
        expect(body.length).toBe(size);
        reads.push(md5(body));
      }
    };
    const writers = Promise.all([writer(1), writer(2)]).finally(() => (writing = false));
    await Promise.all([writers, reader(), reader(), reader()]);
    expect(reads.length).toBeGreaterThan(0);
    for (const sum of reads) expect(versions.has(sum), `read ${sum} is not a version that was written`).toBe(true);
    const final = md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key }))));
    expect(versions.has(final)).toBe(true);
  });
});

it('leaves no chunk file behind once the reads holding retired chunks have ended', async () => {
  const leaked = () => chunkFiles(server).map((f) => f.split('/').pop()!).filter((hash) => !server.repo.isChunkReferenced(hash));
  // A read lets go of its chunks on the stream's 'close', just after the client has the last byte.
  for (let i = 0; i < 50 && leaked().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(leaked()).toEqual([]);
});

// Found by the crash campaign (bench/crash.ts): verify named committed objects and parts whose
// chunk files were gone. A delete frees chunks at its commit and then removes the files one by
// one (unlink + directory fsync each); a PUT of the same bytes that deduplicated onto a file still
// on that list, committed and unpinned in between, had its chunk deleted under it.
it('a chunk a delete freed but another PUT stored again before the delete reached it is kept', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-freed-race-'));
  const db = openDb(path.join(dataDir, 'cairn.db'), { durability: 'fsync' });
  try {
    const meta = SqliteStore.over(db);
    const repo = meta.repo;
    // Hold the directory fsync of the delete's first removal, and learn which chunk that was.
    const paths = new WeakMap<FileHandle, string>();
    let armed = false;
    let blocked: string | undefined;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = new ChunkStore({
      dataDir,
      durability: 'fsync',
      fsOps: {
        open: async (file, flags, mode) => {
          const fh = await defaultFsOps.open(file, flags, mode);
          paths.set(fh, file);
          return fh;
        },
        fsync: async (fh) => {
          if (armed && !blocked) {
            blocked = paths.get(fh);
            await gate;
          }
          return defaultFsOps.fsync(fh);
        },
      },
    });
    await store.init();
    const size = 64 * 1024;
    const objects = new ObjectService({ meta, store, pool: new BufferPool({ bufferSize: size, buffers: 8 }), maxBuffersPerRequest: 4 });
    repo.createBucket({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    const bucket = repo.getBucket('b')!;
    const parts = [randomBytes(size), randomBytes(size)];
    const hashes = parts.map((p) => createHash('sha256').update(p).digest('hex'));
    const put = (key: string, body: Buffer) => objects.putObject({ bucket, key, body: Readable.from([body]), attributes: { userMetadata: {} } });
    await put('a', Buffer.concat(parts));

    armed = true;
    const deleting = objects.deleteObject(bucket, 'a');
    while (!blocked) await new Promise((r) => setTimeout(r, 1));
    // The delete is stuck on its first chunk; the PUT stores the other one's bytes and commits.
    const second = hashes.findIndex((h) => path.dirname(store.chunkPath(h)) !== blocked);
    await put('b', parts[second]);
    release();
    await deleting;
    const obj = await objects.headObject(bucket, 'b');
    const chunks: Buffer[] = [];
    for await (const c of await objects.openRead(obj, 0, obj.size - 1)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(parts[second])).toBe(true);
    expect(await store.exists(hashes[second])).toBe(true);
    expect(await store.exists(hashes[1 - second])).toBe(false);
  } finally {
    db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
