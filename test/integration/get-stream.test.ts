// A GET body is read into a few buffers that are reused once the socket has sent them
// (src/http/send-pieces.ts). These tests make the socket back up, where a buffer reused too
// early would show as wrong bytes, and cut a GET halfway, which must let go of its chunks.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { chunkFiles, startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf } from '../helpers/sdk.js';

const MiB = 1024 * 1024;
const Bucket = 'stream';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestServer;
let s3: S3Client;
// Several chunks, many pieces each.
const data = randomBytes(20 * MiB + 12345);

beforeAll(async () => {
  server = await startTestServer({ chunkSize: '4MiB' });
  s3 = server.client({ maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'big', Body: data }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

it('a slow reader gets every byte right while the socket is backed up', async () => {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key: 'big' }));
  const body = res.Body as Readable;
  body.pause();
  // Nothing read for a while: the kernel's buffers fill and the server's writes wait.
  await sleep(300);
  const parts: Buffer[] = [];
  let sinceNap = 0;
  for await (const piece of body) {
    parts.push(Buffer.from(piece as Uint8Array));
    sinceNap += (piece as Uint8Array).length;
    if (sinceNap >= MiB) {
      sinceNap = 0;
      await sleep(10);
    }
  }
  const got = Buffer.concat(parts);
  expect(got.length).toBe(data.length);
  expect(sha(got)).toBe(sha(data));
});

it('ranges across chunk boundaries come back right', async () => {
  for (const [start, end] of [
    [0, 0],
    [4 * MiB - 10, 4 * MiB + 10],
    [3 * MiB + 1, 17 * MiB + 3],
    [data.length - 5, data.length - 1],
  ] as const) {
    const res = await s3.send(new GetObjectCommand({ Bucket, Key: 'big', Range: `bytes=${start}-${end}` }));
    expect((await bodyOf(res)).equals(data.subarray(start, end + 1))).toBe(true);
  }
});

it('a client that leaves halfway: the server serves the next GET and lets go of the chunks', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'left', Body: randomBytes(12 * MiB) }));
  const res = await s3.send(new GetObjectCommand({ Bucket, Key: 'left' }));
  const body = res.Body as Readable;
  const it = body[Symbol.asyncIterator]();
  await it.next();
  body.destroy();

  const again = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'big' })));
  expect(sha(again)).toBe(sha(data));

  // The abandoned read held pins on its chunks; once it has closed, a delete removes the files.
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'left' }));
  const leaked = () => chunkFiles(server).map((f) => f.split('/').pop()!).filter((hash) => !server.repo.isChunkReferenced(hash));
  for (let i = 0; i < 100 && leaked().length > 0; i++) await sleep(20);
  expect(leaked()).toEqual([]);
});
