import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PiecePool, isPieceStream, readObjectPieces, readObjectRange } from '../../src/storage/chunk-reader.js';
import { ChunkStore, type ChunkRef } from '../../src/storage/chunk-store.js';

let dataDir: string;
let store: ChunkStore;
let data: Buffer;
let chunks: Array<ChunkRef & { offset: number }>;
const SIZES = [1000, 1000, 1000, 500];

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-reader-'));
  store = new ChunkStore({ dataDir, durability: 'relaxed' });
  await store.init();
  data = randomBytes(SIZES.reduce((a, b) => a + b));
  chunks = [];
  let offset = 0;
  for (const size of SIZES) {
    const { created: _created, ...ref } = await store.put(data.subarray(offset, offset + size));
    chunks.push({ ...ref, offset });
    offset += size;
  }
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function collect(stream: Readable): Promise<{ bytes: Buffer; error?: Error }> {
  const parts: Buffer[] = [];
  try {
    for await (const p of stream) parts.push(p as Buffer);
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error: error as Error };
  }
}

describe('readObjectRange', () => {
  it.each([
    ['whole object', 0, 3499],
    ['single first byte', 0, 0],
    ['single last byte', 3499, 3499],
    ['inside one chunk', 1200, 1300],
    ['exactly one chunk', 1000, 1999],
    ['across one boundary', 999, 1000],
    ['across several chunks', 500, 3200],
    ['last chunk only', 3000, 3499],
  ])('%s', async (_name, start, end) => {
    // Pieces smaller than, dividing, not dividing and larger than the 1000-byte chunks.
    for (const pieceSize of [1, 7, 250, 333, 1000, 4096]) {
      const { bytes, error } = await collect(readObjectRange(store, chunks, start, end, { pieceSize }));
      expect(error).toBeUndefined();
      expect(bytes.equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  it('streams nothing for an empty range of an empty object', async () => {
    const { bytes, error } = await collect(readObjectRange(store, [], 0, -1));
    expect(error).toBeUndefined();
    expect(bytes.length).toBe(0);
  });

  it('refuses ranges outside the object', () => {
    expect(() => readObjectRange(store, chunks, 0, 3500)).toThrow(RangeError);
    expect(() => readObjectRange(store, chunks, -1, 10)).toThrow(RangeError);
  });

  it.each([
    ['whole object', 500, 3499, 2000],
    ['a range ending early in the corrupt chunk', 500, 2100, 2000],
    ['a range inside the corrupt chunk', 2100, 2200, 2000],
  ])('never completes %s when a chunk is corrupt: its last piece is held back', async (_name, start, end, corruptFrom) => {
    const file = store.chunkPath(chunks[2].hash);
    const bad = await fs.readFile(file);
    bad[990] ^= 0xff; // in the chunk's last piece: everything before it reads fine
    await fs.writeFile(file, bad);
    for (const pieceSize of [100, 333, 4096]) {
      const { bytes, error } = await collect(readObjectRange(store, chunks, start, end, { pieceSize }));
      expect(error?.message).toBe(`chunk corrupt: ${chunks[2].hash}`);
      // The good chunks before it arrived whole; of the corrupt one, never everything asked for.
      expect(bytes.subarray(0, corruptFrom - Math.min(start, corruptFrom)).equals(data.subarray(start, Math.max(start, corruptFrom)))).toBe(true);
      expect(bytes.length).toBeLessThan(end - start + 1);
    }
  });

  it('a chunk file of the wrong size is corrupt, before any of its bytes', async () => {
    const file = store.chunkPath(chunks[1].hash);
    await fs.appendFile(file, 'x');
    const { bytes, error } = await collect(readObjectRange(store, chunks, 0, 3499));
    expect(error?.message).toBe(`chunk corrupt: ${chunks[1].hash}`);
    expect(bytes.equals(data.subarray(0, 1000))).toBe(true);
  });

  it('errors on a chunk list with a gap', async () => {
    const gappy = [chunks[0], { ...chunks[1], offset: 1001 }, { ...chunks[2], offset: 2001 }];
    const { error } = await collect(readObjectRange(store, gappy, 0, 2500));
    expect(error?.message).toMatch(/inconsistent/);
  });

  it('errors on a missing chunk', async () => {
    await fs.rm(store.chunkPath(chunks[1].hash));
    const { bytes, error } = await collect(readObjectRange(store, chunks, 0, 3499));
    expect(error?.message).toMatch(/chunk missing/);
    expect(bytes.equals(data.subarray(0, 1000))).toBe(true);
  });

  it('holds a few pieces, not whole chunks, while the consumer does not read', async () => {
    const big = randomBytes(4 * 64 * 1024);
    const { created: _c, ...ref } = await store.put(big);
    const pieceSize = 16 * 1024;
    let readBytes = 0;
    const counting = {
      async *readPieces(r: ChunkRef, size: number) {
        for await (const p of store.readPieces(r, size)) {
          readBytes += p.length;
          yield p;
        }
      },
    };
    const stream = readObjectRange(counting, [{ ...ref, offset: 0 }], 0, big.length - 1, { pieceSize });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    await new Promise((r) => setTimeout(r, 50));
    // One piece handed out, one in the stream's buffer, one held back, one being read.
    expect(readBytes).toBeLessThanOrEqual(4 * pieceSize);
    const parts: Buffer[] = [first.value as Buffer];
    for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value as Buffer);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
  });
});

describe('readObjectPieces (recycled piece buffers)', () => {
  /** Copies each piece out, then gives it back at once: reuse must never change bytes already read. */
  async function collectRecycling(stream: ReturnType<typeof readObjectPieces>) {
    const parts: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const p of stream as AsyncIterable<Buffer>) {
      parts.push(Buffer.from(p));
      buffers.add(p.buffer);
      stream.recycle(p);
    }
    return { bytes: Buffer.concat(parts), buffers };
  }

  it.each([
    ['whole object', 0, 3499],
    ['inside one chunk', 1200, 1300],
    ['across several chunks', 500, 3200],
    ['last chunk only', 3000, 3499],
  ])('%s: right bytes, read into a few buffers', async (_name, start, end) => {
    for (const pieceSize of [7, 250, 333, 1000, 4096]) {
      const stream = readObjectPieces(store, chunks, start, end, { pieceSize });
      expect(isPieceStream(stream)).toBe(true);
      const { bytes, buffers } = await collectRecycling(stream);
      expect(bytes.equals(data.subarray(start, end + 1))).toBe(true);
      // One piece out, one buffered, one held back, one being read: never a buffer per piece.
      expect(buffers.size).toBeLessThanOrEqual(4);
    }
  });

  it('without recycling still returns the right bytes (each piece a new buffer)', async () => {
    const stream = readObjectPieces(store, chunks, 0, 3499, { pieceSize: 100 });
    const parts: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const p of stream as AsyncIterable<Buffer>) {
      parts.push(p);
      buffers.add(p.buffer);
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(buffers.size).toBe(35);
  });

  it('a 16 MiB read allocates a handful of buffers when its pieces come back', async () => {
    const big = randomBytes(16 * 1024 * 1024);
    const { created: _c, ...ref } = await store.put(big);
    const { bytes, buffers } = await collectRecycling(readObjectPieces(store, [{ ...ref, offset: 0 }], 0, big.length - 1, { pieceSize: 64 * 1024 }));
    expect(bytes.equals(big)).toBe(true);
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  it('plain readObjectRange is not a piece stream', () => {
    expect(isPieceStream(readObjectRange(store, chunks, 0, 3499))).toBe(false);
  });
});

describe('PiecePool', () => {
  it('hands a returned buffer out again, sized to the request', () => {
    const pool = new PiecePool(1024);
    const a = pool.take(1024);
    pool.give(a);
    const b = pool.take(100);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(100);
    expect(pool.take(1024).buffer).not.toBe(a.buffer);
  });

  it('never takes in a buffer it did not make, nor one twice', () => {
    const pool = new PiecePool(1024);
    const foreign = Buffer.allocUnsafeSlow(1024);
    pool.give(foreign);
    expect(pool.take(1024).buffer).not.toBe(foreign.buffer);
    const a = pool.take(1024);
    pool.give(a);
    pool.give(a.subarray(10));
    const first = pool.take(1024);
    const second = pool.take(1024);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
  });
});

describe('readPieceSize (the GET read budget)', () => {
  it('gives 1 MiB pieces to a few streams and shares the budget beyond, within 64 KiB..1 MiB', async () => {
    const { readPieceSize, READ_BUDGET_BYTES } = await import('../../src/storage/object-service.js');
    const KiB = 1024;
    expect(readPieceSize(0)).toBe(1024 * KiB);
    expect(readPieceSize(1)).toBe(1024 * KiB);
    expect(readPieceSize(8)).toBe(1024 * KiB);
    expect(readPieceSize(32)).toBe(256 * KiB);
    expect(readPieceSize(10_000)).toBe(64 * KiB);
    for (let n = 1; n <= 200; n++) {
      const size = readPieceSize(n);
      expect(size % (64 * KiB)).toBe(0);
      // Four pieces a stream: together within the budget unless the 64 KiB floor is reached.
      if (size > 64 * KiB) expect(4 * n * size).toBeLessThanOrEqual(READ_BUDGET_BYTES);
    }
  });
});
