import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnServe } from '../helpers/process.js';
import { TEST_ACCESS_KEY, TEST_SECRET, tmpFiles } from '../helpers/server.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET },
  });
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-crash-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('kill -9 with default (fsync) durability', () => {
  it('keeps every acknowledged object and no partial one', async () => {
    const env = {
      CAIRN_DATA_DIR: dataDir,
      CAIRN_PORT: '0',
      CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY,
      CAIRN_SECRET_ACCESS_KEY: TEST_SECRET,
      CAIRN_CHUNK_SIZE: '256KiB',
      CAIRN_DURABILITY: 'fsync',
    };
    const acked = new Map<string, string>();
    const first = await spawnServe(env);
    const s3 = client(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    for (let i = 0; i < 10; i++) {
      const data = randomBytes(300_000 + i * 50_000);
      await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: `obj-${i}`, Body: data }));
      acked.set(`obj-${i}`, md5(data));
    }
    // Overwrite one acknowledged object, then die in the middle of another upload.
    const replaced = randomBytes(500_000);
    await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'obj-3', Body: replaced }));
    acked.set('obj-3', md5(replaced));
    const big = randomBytes(8 * 1024 * 1024);
    const inflight = s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'inflight', Body: big })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    first.child.kill('SIGKILL');
    await first.exited;
    const outcome = await inflight;

    const second = await spawnServe(env);
    try {
      const s3b = client(second.url);
      for (const [key, sum] of acked) {
        const res = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        const body = Buffer.from(await res.Body!.transformToByteArray());
        expect(md5(body), key).toBe(sum);
      }
      // The interrupted upload is either wholly there (acknowledged just before the kill) or absent.
      const head = await s3b.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'inflight' })).catch((e: { name?: string }) => e);
      if ('ETag' in head) {
        expect(head.ETag).toBe(`"${md5(big)}"`);
      } else {
        expect((head as { name?: string }).name).toBe('NotFound');
        expect(outcome).toBeInstanceOf(Error);
      }
      expect(tmpFiles({ dataDir })).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
