import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/s3/checksums.js';
import { runScrub } from '../../src/storage/scrub.js';
import { CHUNK, openStorageEnv, type StorageEnv } from '../helpers/storage-env.js';

let env: StorageEnv;
beforeEach(async () => {
  env = await openStorageEnv();
});
afterEach(async () => {
  await env.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const scrub = (opts: Parameters<typeof runScrub>[1] = {}) => runScrub({ dataDir: env.dataDir, meta: env.meta, store: env.store }, opts);

describe('scrub (verify)', () => {
  it('a clean store has nothing broken; every chunk is read and counted', async () => {
    await env.put('a', randomBytes(3 * CHUNK + 100));
    await env.put('b', randomBytes(10));
    await env.put('empty', Buffer.alloc(0));
    const progress: Array<[number, number]> = [];
    const r = await scrub({ onProgress: (d, t) => progress.push([d, t]) });
    expect(r.broken).toEqual([]);
    expect(r.checked).toBe(5);
    expect(r.bytes).toBe(3 * CHUNK + 110);
    expect(progress[0]).toEqual([0, 5]);
    expect(progress.at(-1)).toEqual([5, 5]);
  });

  it('finds a flipped byte, names the objects sharing the chunk, quarantines the file, and the object then reads as missing', async () => {
    const data = randomBytes(2 * CHUNK);
    await env.put('one', data);
    await env.objects.copyObject({ src: env.bucket, srcKey: 'one', dst: env.bucket, dstKey: 'copy', check: () => {} });
    await env.put('other', randomBytes(CHUNK));
    const bad = sha256(data.subarray(CHUNK));
    const file = env.store.chunkPath(bad);
    const bytes = await fs.readFile(file);
    bytes[777] ^= 0x40;
    await fs.writeFile(file, bytes);

    const r = await scrub();
    expect(r.checked).toBe(3);
    expect(r.broken).toEqual([
      {
        sha256: bad,
        problem: 'corrupt',
        quarantinedTo: path.join(env.dataDir, 'quarantine', bad),
        objects: [
          { bucket: 'bkt', key: 'copy' },
          { bucket: 'bkt', key: 'one' },
        ],
        objectCount: 2,
        uploads: [],
      },
    ]);
    expect((await fs.readFile(path.join(env.dataDir, 'quarantine', bad))).equals(bytes)).toBe(true);
    expect(await env.store.exists(bad)).toBe(false);
    // A GET fails cleanly (missing) instead of serving the flipped byte; others are untouched.
    await expect(env.get('one')).rejects.toThrow(`chunk missing: ${bad}`);
    expect((await env.get('other')).length).toBe(CHUNK);

    // The next scrub reports it as missing; nothing is quarantined twice.
    const again = await scrub();
    expect(again.broken.map((b) => [b.sha256, b.problem, b.quarantinedTo])).toEqual([[bad, 'missing', undefined]]);

    // Uploading the same bytes again writes a good copy: every object sharing the chunk is repaired.
    await env.put('reupload', data.subarray(CHUNK));
    expect((await env.get('one')).equals(data)).toBe(true);
    expect((await env.get('copy')).equals(data)).toBe(true);
    expect((await scrub()).broken).toEqual([]);
  });

  it('finds a deleted chunk file and names the object and the upload part using it', async () => {
    const data = randomBytes(CHUNK + 5);
    await env.put('victim', data);
    const gone = sha256(data.subarray(0, CHUNK));
    const uploadId = await env.multipart.create(env.bucket, 'mp-key', { userMetadata: {} });
    await env.multipart.uploadPart(env.bucket, 'mp-key', uploadId, 3, { body: Readable.from([data.subarray(0, CHUNK)]) });
    await fs.rm(env.store.chunkPath(gone));

    const r = await scrub();
    expect(r.broken).toEqual([
      {
        sha256: gone,
        problem: 'missing',
        objects: [{ bucket: 'bkt', key: 'victim' }],
        objectCount: 1,
        uploads: [{ uploadId, bucket: 'bkt', key: 'mp-key', partNumber: 3 }],
      },
    ]);
    await expect(env.get('victim')).rejects.toThrow(`chunk missing: ${gone}`);
  });

  it('reports a truncated file and a file whose SHA-256 differs with a matching CRC as corrupt', async () => {
    const a = randomBytes(CHUNK);
    const b = randomBytes(CHUNK);
    await env.put('a', a);
    await env.put('b', b);
    await fs.writeFile(env.store.chunkPath(sha256(a)), a.subarray(0, 1000));
    // Same size and the CRC32C the row records, other bytes: only the SHA-256 can tell.
    const row = env.repo.chunkCrcs([sha256(b)]).get(sha256(b))!;
    const tampered = Buffer.from(b);
    tampered[100] ^= 0x01;
    const forged = forgeCrc32c(tampered, row);
    expect(forged.equals(b)).toBe(false);
    await fs.writeFile(env.store.chunkPath(sha256(b)), forged);

    const r = await scrub({ quarantine: false });
    expect(r.broken.map((x) => [x.sha256, x.problem, x.quarantinedTo]).sort()).toEqual(
      [
        [sha256(a), 'corrupt', undefined],
        [sha256(b), 'corrupt', undefined],
      ].sort(),
    );
    // quarantine: false leaves the files where they are.
    expect(await env.store.exists(sha256(a))).toBe(true);
    await expect(fs.stat(path.join(env.dataDir, 'quarantine'))).rejects.toThrow(/ENOENT/);
  });

  it('walks the table in pages and skips rows deleted while it runs', async () => {
    for (let i = 0; i < 7; i++) await env.put(`k${i}`, randomBytes(100));
    const r = await scrub({ pageSize: 2 });
    expect(r.checked).toBe(7);
    expect(r.broken).toEqual([]);

    // Objects deleted mid-scrub (rows and files gone while their page is being walked) are
    // not reported as missing: a failed read is confirmed against the row first.
    const r2 = await scrub({
      pageSize: 100,
      onProgress: (done) => {
        if (done === 1) for (let i = 0; i < 7; i++) void env.objects.deleteObject(env.bucket, `k${i}`);
      },
    });
    expect(r2.checked).toBe(7);
    expect(r2.broken).toEqual([]);
  });

  it('stops when aborted and pauses between chunks', async () => {
    for (let i = 0; i < 4; i++) await env.put(`k${i}`, randomBytes(100));
    const started = Date.now();
    const r = await scrub({ pauseMs: 30 });
    expect(r.checked).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const ac = new AbortController();
    const p = scrub({ pauseMs: 1000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toThrow(/abort/i);
  });
});

/**
 * Rewrites the last 4 bytes of `buf` so its CRC32C becomes `target`. CRC is linear over
 * GF(2): flipping bit i changes the CRC by a fixed vector, so solve a 32x32 system.
 */
function forgeCrc32c(buf: Buffer, target: number): Buffer {
  const n = buf.length;
  buf.writeUInt32LE(0, n - 4);
  const base = crc32c(buf) >>> 0;
  const cols: number[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const t = Buffer.from(buf);
    t[n - 4 + (bit >> 3)] ^= 1 << (bit & 7);
    cols.push(((crc32c(t) >>> 0) ^ base) >>> 0);
  }
  // Gaussian elimination: find x with XOR of cols[i] for set bits = base ^ target.
  const want = (base ^ target) >>> 0;
  const rows = cols.map((c, i) => ({ v: c, x: 1n << BigInt(i) }));
  const basis: Array<{ v: number; x: bigint } | undefined> = new Array(32);
  for (const r of rows) {
    let { v, x } = r;
    for (let b = 31; b >= 0; b--) {
      if (!((v >>> b) & 1)) continue;
      if (!basis[b]) {
        basis[b] = { v, x };
        break;
      }
      v = (v ^ basis[b]!.v) >>> 0;
      x ^= basis[b]!.x;
    }
  }
  let v = want;
  let x = 0n;
  for (let b = 31; b >= 0; b--) {
    if (!((v >>> b) & 1)) continue;
    v = (v ^ basis[b]!.v) >>> 0;
    x ^= basis[b]!.x;
  }
  for (let bit = 0; bit < 32; bit++) if ((x >> BigInt(bit)) & 1n) buf[n - 4 + (bit >> 3)] ^= 1 << (bit & 7);
  if (crc32c(buf) >>> 0 !== target >>> 0) throw new Error('forge failed');
  return buf;
}
