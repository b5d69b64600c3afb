import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.js';
import { ChunkStore } from '../../src/storage/chunk-store.js';
import { YIELD_BYTES, writeChunks } from '../../src/storage/chunk-writer.js';
import { BufferPool } from '../../src/storage/pool.js';

const MiB = 1024 * 1024;
let dataDir: string;
let store: ChunkStore;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-writer-'));
  store = new ChunkStore({ dataDir, durability: 'relaxed' });
  await store.init();
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function* pieces(data: Buffer, sizes = [1, 65_536, 100_003, 7, 1_500_000]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function chunkFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(path.join(dataDir, 'chunks'));
  return out;
}

/** A per-request view of the global pool that records how many buffers this request holds. */
function countingPool(pool: BufferPool) {
  const view = {
    held: 0,
    peak: 0,
    bufferSize: pool.bufferSize,
    async acquire(signal?: AbortSignal) {
      const b = await pool.acquire(signal);
      view.held++;
      view.peak = Math.max(view.peak, view.held);
      return b;
    },
    release(b: Buffer) {
      view.held--;
      pool.release(b);
    },
    stats: () => pool.stats(),
  };
  return view;
}

function slowStore(delayMs: number, onPut?: (n: number) => void) {
  const slow = Object.create(store) as ChunkStore;
  let calls = 0;
  slow.put = async (data: Buffer) => {
    onPut?.(++calls);
    await sleep(delayMs);
    return store.put(data);
  };
  return slow;
}

describe('writeChunks', () => {
  it('writes a 50 MiB stream into 1 MiB chunks with correct digests', async () => {
    const data = randomBytes(50 * MiB + 12_345);
    const pool = new BufferPool({ bufferSize: MiB, buffers: 4 });
    const result = await writeChunks(pieces(data), {
      pool,
      store,
      maxBuffers: 3,
      checksums: ['CRC32', 'SHA256', 'CRC64NVME'],
      expectedSize: data.length,
    });
    expect(result.size).toBe(data.length);
    expect(result.md5.toString('hex')).toBe(createHash('md5').update(data).digest('hex'));
    expect(result.checksums.SHA256!.toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(result.checksums.CRC32!.readUInt32BE(0)).toBe(zlib.crc32(data));
    expect(result.checksums.CRC64NVME).toHaveLength(8);
    expect(result.chunks).toHaveLength(51);
    let offset = 0;
    const parts: Buffer[] = [];
    for (const c of result.chunks) {
      expect(c.offset).toBe(offset);
      expect(c.size).toBe(Math.min(MiB, data.length - offset));
      offset += c.size;
      parts.push(await fs.readFile(store.chunkPath(c.hash)));
      expect(store.isPinned(c.hash)).toBe(true);
      store.unpin(c.hash);
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
  });

  it('lets the event loop turn after every YIELD_BYTES of a body that is always ready', async () => {
    // A body whose pieces are always there (a fast client) must not hold one turn of the event
    // loop: other connections' requests are answered between its pieces.
    const data = randomBytes(2 * MiB);
    let turns = 0;
    let turning = true;
    const tick = () => {
      if (!turning) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    let turnsWhenRead = -1;
    async function* ready(): AsyncGenerator<Buffer> {
      for (let at = 0; at < data.length; at += 16 * 1024) yield data.subarray(at, at + 16 * 1024);
      turnsWhenRead = turns;
    }
    const pool = new BufferPool({ bufferSize: MiB, buffers: 4 });
    const result = await writeChunks(ready(), { pool, store, maxBuffers: 3, expectedSize: data.length });
    turning = false;
    expect(result.size).toBe(data.length);
    expect(turnsWhenRead).toBeGreaterThanOrEqual(data.length / YIELD_BYTES - 1);
    for (const c of result.chunks) store.unpin(c.hash);
  });

  it('dedups repeated chunks and reports created correctly', async () => {
    const block = randomBytes(1024);
    const data = Buffer.concat([block, block, block]);
    const pool = new BufferPool({ bufferSize: 1024, buffers: 4 });
    const r = await writeChunks(pieces(data), { pool, store, maxBuffers: 1 });
    expect(r.chunks.map((c) => c.created)).toEqual([true, false, false]);
    expect(new Set(r.chunks.map((c) => c.hash)).size).toBe(1);
    for (const c of r.chunks) store.unpin(c.hash);
    expect(store.isPinned(r.chunks[0].hash)).toBe(false);
  });

  it('handles an empty body', async () => {
    const pool = new BufferPool({ bufferSize: 1024, buffers: 1 });
    const r = await writeChunks(Readable.from([]), { pool, store, maxBuffers: 1, checksums: ['CRC32'], expectedSize: 0 });
    expect(r).toEqual({
      size: 0,
      md5: createHash('md5').digest(),
      checksums: { CRC32: Buffer.alloc(4) },
      chunks: [],
    });
    expect(await chunkFiles()).toEqual([]);
  });

  it('an exact multiple of the buffer size leaves no empty trailing chunk', async () => {
    const data = randomBytes(4096);
    const pool = new BufferPool({ bufferSize: 1024, buffers: 2 });
    const r = await writeChunks(Readable.from([data]), { pool, store, maxBuffers: 2 });
    expect(r.chunks.map((c) => c.size)).toEqual([1024, 1024, 1024, 1024]);
    for (const c of r.chunks) store.unpin(c.hash);
    expect(pool.stats().inUse).toBe(0);
  });

  it('8 concurrent uploads never hold more than the pool, nor more than maxBuffers each', async () => {
    const pool = new BufferPool({ bufferSize: 256 * 1024, buffers: 4 });
    let globalPeak = 0;
    const sampler = setInterval(() => (globalPeak = Math.max(globalPeak, pool.stats().inUse)), 1);
    const slow = slowStore(5, () => (globalPeak = Math.max(globalPeak, pool.stats().inUse)));
    const views = Array.from({ length: 8 }, () => countingPool(pool));
    const inputs = views.map(() => randomBytes(3 * MiB + 777));
    try {
      const results = await Promise.all(
        views.map((view, i) =>
          writeChunks(pieces(inputs[i], [40_000, 333_333]), {
            pool: view as unknown as BufferPool,
            store: slow,
            maxBuffers: 2,
          }),
        ),
      );
      for (const [i, r] of results.entries()) {
        expect(r.md5.equals(createHash('md5').update(inputs[i]).digest())).toBe(true);
        for (const c of r.chunks) store.unpin(c.hash);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(globalPeak).toBeGreaterThan(0);
    expect(globalPeak).toBeLessThanOrEqual(4);
    for (const v of views) {
      expect(v.peak).toBeLessThanOrEqual(2);
      expect(v.held).toBe(0);
    }
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
  });

  it('stops pulling the body while the store is slow (back-pressure)', async () => {
    const bufferSize = 256 * 1024;
    const maxBuffers = 2;
    const hwm = 16 * 1024;
    const total = 6 * MiB;
    const pool = new BufferPool({ bufferSize, buffers: 8 });
    let pulled = 0;
    let stored = 0;
    let worstLead = 0;
    const body = new Readable({
      highWaterMark: hwm,
      read() {
        const n = Math.min(hwm, total - pulled);
        if (n === 0) return this.push(null);
        pulled += n;
        this.push(randomBytes(n));
      },
    });
    const slow = Object.create(store) as ChunkStore;
    slow.put = async (data: Buffer) => {
      worstLead = Math.max(worstLead, pulled - stored);
      await sleep(20);
      worstLead = Math.max(worstLead, pulled - stored);
      const ref = await store.put(data);
      stored += data.length;
      return ref;
    };
    const r = await writeChunks(body, { pool, store: slow, maxBuffers });
    expect(r.size).toBe(total);
    expect(worstLead).toBeGreaterThan(bufferSize);
    expect(worstLead).toBeLessThanOrEqual((maxBuffers + 1) * bufferSize + hwm);
    for (const c of r.chunks) store.unpin(c.hash);
  });

  it('a body error midway undoes everything', async () => {
    const pool = new BufferPool({ bufferSize: 256 * 1024, buffers: 4 });
    async function* broken() {
      for (let i = 0; i < 20; i++) yield randomBytes(100_000);
      throw new Error('connection reset');
    }
    await expect(writeChunks(broken(), { pool, store, maxBuffers: 3 })).rejects.toThrow('connection reset');
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
    expect(await chunkFiles()).toEqual([]);
    expect(await fs.readdir(store.tmpDir)).toEqual([]);
  });

  it('a store error aborts, keeps chunks that rows reference or it did not create, removes the rest', async () => {
    const pool = new BufferPool({ bufferSize: 1024, buffers: 4 });
    const data = randomBytes(10 * 1024);
    const keptByRow = createHash('sha256').update(data.subarray(0, 1024)).digest('hex');
    const other = await store.put(Buffer.from(data.subarray(1024, 2048))); // another upload, not yet committed
    const failing = Object.create(store) as ChunkStore;
    let calls = 0;
    failing.put = async (d: Buffer) => {
      if (++calls === 6) throw new Error('ENOSPC: no space left on device');
      return store.put(d);
    };
    await expect(
      writeChunks(pieces(data, [700]), { pool, store: failing, maxBuffers: 2, isReferenced: async (h) => h === keptByRow }),
    ).rejects.toThrow('ENOSPC');
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
    const left = (await chunkFiles()).map((f) => path.basename(f)).sort();
    expect(left).toEqual([keptByRow, other.hash].sort());
    expect(store.isPinned(keptByRow)).toBe(false);
    expect(store.isPinned(other.hash)).toBe(true);
    store.unpin(other.hash);
  });

  it('aborts when the signal fires while waiting for a buffer', async () => {
    const pool = new BufferPool({ bufferSize: 1024, buffers: 1 });
    const hog = await pool.acquire();
    const ac = new AbortController();
    const p = writeChunks(Readable.from([randomBytes(5000)]), { pool, store, maxBuffers: 2, signal: ac.signal });
    await sleep(10);
    expect(pool.stats().waiters).toBe(1);
    ac.abort(new Error('client disconnected'));
    await expect(p).rejects.toThrow('client disconnected');
    pool.release(hog);
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
    expect(await chunkFiles()).toEqual([]);
  });

  it('enforces size limits without destroying the body', async () => {
    const pool = new BufferPool({ bufferSize: 1024, buffers: 2 });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e) => (e instanceof S3Error ? e.code : String(e)),
      );
    const body = new Readable({ read() {} });
    body.push(randomBytes(3000));
    const tooLarge = code(writeChunks(body, { pool, store, maxBuffers: 2, maxSize: 2048 }));
    expect(await tooLarge).toBe('EntityTooLarge');
    expect(body.destroyed).toBe(false);
    expect(await code(writeChunks(Readable.from([randomBytes(100)]), { pool, store, maxBuffers: 1, expectedSize: 101 }))).toBe(
      'IncompleteBody',
    );
    expect(await code(writeChunks(Readable.from([randomBytes(102)]), { pool, store, maxBuffers: 1, expectedSize: 101 }))).toBe(
      'IncompleteBody',
    );
    expect(await code(writeChunks(Readable.from([]), { pool, store, maxBuffers: 1, expectedSize: 5000, maxSize: 4096 }))).toBe(
      'EntityTooLarge',
    );
    expect(pool.stats()).toMatchObject({ inUse: 0, waiters: 0 });
    expect(await chunkFiles()).toEqual([]);
  });
});

describe('writeChunks: inline small bodies', () => {
  it('a body up to inlineMax becomes one inline chunk: no file, bytes returned, pool buffer back', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 2 });
    for (const size of [1, 4096, 32 * 1024]) {
      const data = randomBytes(size);
      const res = await writeChunks(pieces(data, [1000, 7]), { pool, store, maxBuffers: 2, inlineMax: 32 * 1024, checksums: ['CRC32'] });
      expect(res.chunks).toHaveLength(1);
      const c = res.chunks[0]!;
      expect(c.data?.equals(data)).toBe(true);
      expect(c.hash).toBe(createHash('sha256').update(data).digest('hex'));
      expect(res.md5.equals(createHash('md5').update(data).digest())).toBe(true);
      expect(res.checksums.CRC32!.readUInt32BE(0)).toBe(zlib.crc32(data));
      // The copy does not alias the pool buffer, which went back and may be reused at once.
      const again = await pool.acquire();
      expect(c.data!.buffer).not.toBe(again.buffer);
      pool.release(again);
      expect(store.isPinned(c.hash)).toBe(true);
      store.unpin(c.hash);
    }
    expect(await chunkFiles()).toEqual([]);
    expect(pool.stats().inUse).toBe(0);
  });

  it('a body above inlineMax, or one spanning buffers, is written as files', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 4 });
    const above = await writeChunks(pieces(randomBytes(32 * 1024 + 1)), { pool, store, maxBuffers: 2, inlineMax: 32 * 1024 });
    expect(above.chunks.map((c) => c.data)).toEqual([undefined]);
    const spanning = await writeChunks(pieces(randomBytes(64 * 1024 + 10)), { pool, store, maxBuffers: 2, inlineMax: 64 * 1024 });
    expect(spanning.chunks.every((c) => c.data === undefined)).toBe(true);
    expect(await chunkFiles()).toHaveLength(3);
  });

  it('a body declared small is read without a pool buffer: it does not wait for one when all are taken', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 1 });
    const taken = await pool.acquire(); // every buffer held by another upload
    const data = randomBytes(4096);
    const res = await writeChunks(pieces(data, [1000, 7]), { pool, store, maxBuffers: 1, inlineMax: 32 * 1024, expectedSize: 4096, checksums: ['SHA256', 'CRC32C'] });
    const c = res.chunks[0]!;
    expect(res.chunks).toHaveLength(1);
    expect(c.data?.equals(data)).toBe(true);
    expect(c.hash).toBe(createHash('sha256').update(data).digest('hex'));
    expect(res.md5.equals(createHash('md5').update(data).digest())).toBe(true);
    expect(res.checksums.SHA256!.toString('hex')).toBe(c.hash);
    expect(store.isPinned(c.hash)).toBe(true);
    store.unpin(c.hash);
    pool.release(taken);
    expect(await chunkFiles()).toEqual([]);
  });

  it('a body declared small that is shorter or longer than declared fails with IncompleteBody, pinning nothing', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 1 });
    const data = randomBytes(4096);
    for (const expectedSize of [4097, 4095]) {
      const err = await writeChunks(pieces(data, [1000]), { pool, store, maxBuffers: 1, inlineMax: 32 * 1024, expectedSize }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(S3Error);
      expect((err as S3Error).code).toBe('IncompleteBody');
      expect(store.isPinned(createHash('sha256').update(data).digest('hex'))).toBe(false);
    }
  });

  it('a body declared small ends its wait when the request is aborted', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 1 });
    const abort = new AbortController();
    let returned = false;
    const stalled = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          setTimeout(() => abort.abort(new S3Error('IncompleteBody')), 10);
          return new Promise<IteratorResult<Buffer>>(() => {}); // the client stops sending
        },
        return: async () => {
          returned = true;
          return { done: true as const, value: undefined };
        },
      }),
    };
    const err = await writeChunks(stalled, { pool, store, maxBuffers: 1, inlineMax: 32 * 1024, expectedSize: 100, signal: abort.signal }).catch((e: unknown) => e);
    expect((err as S3Error).code).toBe('IncompleteBody');
    expect(returned).toBe(true);
  });

  it('an empty body stores no chunk at all', async () => {
    const pool = new BufferPool({ bufferSize: 64 * 1024, buffers: 1 });
    const res = await writeChunks(pieces(Buffer.alloc(0)), { pool, store, maxBuffers: 1, inlineMax: 1024 });
    expect(res.chunks).toEqual([]);
    expect(pool.stats().inUse).toBe(0);
  });
});

describe('writeChunks: memory', () => {
  it('does not keep body pieces alive once they are copied into pool buffers', async () => {
    // A leak here made a 1 GiB PUT hold ~1 GiB: each wait raced against a long-pending promise.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pool = new BufferPool({ bufferSize: 1 * MiB, buffers: 2 });
    const refs: Array<WeakRef<Buffer>> = [];
    let aliveMidway = -1;
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 64; i++) {
        const piece = randomBytes(256 * 1024);
        refs.push(new WeakRef(piece));
        yield piece;
        if (i === 48) {
          // Let the writer finish with what it holds, then see what is still reachable.
          await sleep(20);
          gc();
          aliveMidway = refs.slice(0, 40).filter((r) => r.deref() !== undefined).length;
        }
      }
    }
    await writeChunks(body(), { pool, store, maxBuffers: 2 });
    expect(aliveMidway).toBeGreaterThanOrEqual(0);
    expect(aliveMidway).toBeLessThanOrEqual(2);
  });
});
