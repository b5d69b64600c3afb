import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readObjectRange } from '../../src/storage/chunk-reader.js';
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
    for (const readAhead of [0, 1, 3]) {
      const { bytes, error } = await collect(readObjectRange(store, chunks, start, end, { readAhead }));
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

  it('errors before sending any byte of a corrupt chunk', async () => {
    const file = store.chunkPath(chunks[2].hash);
    const bad = await fs.readFile(file);
    bad[10] ^= 0xff;
    await fs.writeFile(file, bad);
    const { bytes, error } = await collect(readObjectRange(store, chunks, 500, 3499));
    expect(error?.message).toBe(`chunk corrupt: ${chunks[2].hash}`);
    // Everything before chunk 2 arrived, nothing of chunk 2 or after.
    expect(bytes.equals(data.subarray(500, 2000))).toBe(true);
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

  it('reads at most readAhead chunks beyond the one being sent', async () => {
    // Chunks bigger than the stream's high-water mark, as real 8 MiB chunks are, so the
    // stream's own buffer holds one chunk at most.
    const big = randomBytes(20_000 * 10);
    const many: typeof chunks = [];
    for (let i = 0; i < 10; i++) {
      const { created: _c, ...ref } = await store.put(big.subarray(i * 20_000, (i + 1) * 20_000));
      many.push({ ...ref, offset: i * 20_000 });
    }
    let reading = 0;
    let started = 0;
    let peak = 0;
    const counting = Object.create(store) as ChunkStore;
    counting.read = async (ref) => {
      started++;
      reading++;
      peak = Math.max(peak, reading);
      try {
        return await store.read(ref);
      } finally {
        reading--;
      }
    };
    const stream = readObjectRange(counting, many, 0, big.length - 1, { readAhead: 2 });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setTimeout(r, 20));
    // One chunk handed out, one in the stream's buffer, at most readAhead more fetched.
    expect(started).toBeGreaterThanOrEqual(2);
    expect(started).toBeLessThanOrEqual(1 + 1 + 2);
    const rest: Buffer[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value as Buffer);
    expect(rest.reduce((n, b) => n + b.length, 0)).toBe(big.length - 20_000);
    expect(started).toBe(10);
    expect(peak).toBeLessThanOrEqual(3);
  });
});
