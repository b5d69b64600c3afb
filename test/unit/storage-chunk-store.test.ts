import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/s3/checksums.js';
import { ChunkStore, verifiedInline, type Durability } from '../../src/storage/chunk-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-store-'));
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function openStore(durability: Durability = 'fsync'): Promise<ChunkStore> {
  const store = new ChunkStore({ dataDir, durability });
  await store.init();
  return store;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ChunkStore', () => {
  it.each(['fsync', 'relaxed'] as const)('round-trips a chunk (%s) at chunks/ab/cd/<hash>', async (durability) => {
    const store = await openStore(durability);
    const data = randomBytes(100_000);
    const ref = await store.put(data);
    expect(ref).toEqual({ hash: sha256(data), size: data.length, crc32c: crc32c(data), created: true });
    const file = path.join(dataDir, 'chunks', ref.hash.slice(0, 2), ref.hash.slice(2, 4), ref.hash);
    expect((await fs.readFile(file)).equals(data)).toBe(true);
    expect((await store.read(ref)).equals(data)).toBe(true);
    expect(await store.exists(ref.hash)).toBe(true);
    expect(store.isPinned(ref.hash)).toBe(true);
    store.unpin(ref.hash);
    expect(store.isPinned(ref.hash)).toBe(false);
    expect(await fs.readdir(store.tmpDir)).toEqual([]);
  });

  it('dedups identical chunks', async () => {
    const store = await openStore();
    const data = Buffer.from('same bytes twice');
    const a = await store.put(data);
    const b = await store.put(Buffer.from(data));
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.hash).toBe(a.hash);
    store.unpin(a.hash);
    store.unpin(b.hash);
    expect(() => store.unpin(a.hash)).toThrow(/not pinned/);
  });

  it('sweeps tmp/ at init', async () => {
    await openStore();
    await fs.writeFile(path.join(dataDir, 'tmp', 'leftover-1'), 'x');
    await fs.writeFile(path.join(dataDir, 'tmp', 'leftover-2'), 'y');
    const store = new ChunkStore({ dataDir, durability: 'fsync' });
    expect(await store.init()).toEqual({ sweptTmpFiles: 2 });
    // Files of the old single-gateway layout go; the other store's (live) folder stays.
    expect((await fs.readdir(path.join(dataDir, 'tmp'))).filter((n) => n.startsWith('leftover'))).toEqual([]);
    expect(await fs.readdir(store.tmpDir)).toEqual([]);
  });

  it('detects a flipped byte, a truncated file and a missing file', async () => {
    const store = await openStore();
    const data = randomBytes(4096);
    const ref = await store.put(data);
    const file = store.chunkPath(ref.hash);
    const bad = Buffer.from(data);
    bad[1234] ^= 0x01;
    await fs.writeFile(file, bad);
    await expect(store.read(ref)).rejects.toThrow(`chunk corrupt: ${ref.hash}`);
    await fs.writeFile(file, data.subarray(0, 4000));
    await expect(store.read(ref)).rejects.toThrow(`chunk corrupt: ${ref.hash}`);
    await fs.rm(file);
    await expect(store.read(ref)).rejects.toThrow(`chunk missing: ${ref.hash}`);
  });

  it('can verify the SHA-256 as well (scrub)', async () => {
    const store = await openStore();
    const data = randomBytes(4096);
    const ref = await store.put(data);
    await expect(store.read(ref, { verifyHash: true })).resolves.toHaveLength(4096);
    await expect(store.read({ ...ref, hash: sha256(Buffer.from('other')) }, { verifyHash: true })).rejects.toThrow(
      /chunk (corrupt|missing)/,
    );
  });

  it('rejects hashes that are not sha256 hex (no path tricks)', async () => {
    const store = await openStore();
    await expect(store.exists('../../etc/passwd')).rejects.toThrow(/invalid chunk hash/);
  });

  it('removeIfUnpinned keeps pinned chunks and deletes unpinned ones', async () => {
    const store = await openStore();
    const ref = await store.put(Buffer.from('gc me'));
    expect(await store.removeIfUnpinned(ref.hash)).toBe(false);
    store.unpin(ref.hash);
    expect(await store.removeIfUnpinned(ref.hash)).toBe(true);
    expect(await store.exists(ref.hash)).toBe(false);
    expect(await store.removeIfUnpinned(ref.hash)).toBe(false);
  });

  it('a put racing a remove of the same hash never loses the file', async () => {
    const store = await openStore();
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`chunk ${i}`);
      const first = await store.put(data);
      store.unpin(first.hash);
      // Start the remove, then the put, at every possible interleaving point.
      const removal = store.removeIfUnpinned(first.hash);
      for (let t = 0; t < i % 7; t++) await Promise.resolve();
      const again = await store.put(data);
      await removal;
      expect(await store.exists(again.hash)).toBe(true);
      expect((await store.read(again)).equals(data)).toBe(true);
      // And a remove issued while it is pinned is refused.
      expect(await store.removeIfUnpinned(again.hash)).toBe(false);
      expect(await store.exists(again.hash)).toBe(true);
      store.unpin(again.hash);
    }
  });

  it('a put that dedups onto a file never sees it removed afterwards (any interleaving)', async () => {
    const store = await openStore();
    const data = Buffer.from('existing');
    for (let delay = 0; delay < 30; delay++) {
      const first = await store.put(data);
      store.unpin(first.hash);
      const put = store.put(data);
      for (let t = 0; t < delay; t++) await new Promise((r) => setImmediate(r));
      const removed = await store.removeIfUnpinned(first.hash);
      const ref = await put;
      // Either the remove ran first and the put wrote the file anew, or the put's pin stopped it.
      if (ref.created === false) expect(removed).toBe(false);
      expect(await store.exists(ref.hash)).toBe(true);
      expect(await store.removeIfUnpinned(ref.hash)).toBe(false);
      store.unpin(ref.hash);
    }
  });

  it('discard removes created, unreferenced, unpinned chunks only', async () => {
    const store = await openStore();
    const a = await store.put(Buffer.from('a'));
    const b = await store.put(Buffer.from('b'));
    const c = await store.put(Buffer.from('c'));
    const shared = await store.put(Buffer.from('shared'));
    const sharedAgain = await store.put(Buffer.from('shared')); // another upload's pin
    const old = await store.put(Buffer.from('old'));
    store.unpin(old.hash);
    const oldAgain = await store.put(Buffer.from('old'));
    expect(oldAgain.created).toBe(false);
    const mine = [a, b, c, shared, oldAgain];
    for (const r of mine) store.unpin(r.hash);
    await store.discard(mine, async (h) => h === b.hash);
    expect(await store.exists(a.hash)).toBe(false); // created, unreferenced
    expect(await store.exists(b.hash)).toBe(true); // referenced by a row
    expect(await store.exists(c.hash)).toBe(false);
    expect(await store.exists(shared.hash)).toBe(true); // still pinned by the other upload
    expect(await store.exists(old.hash)).toBe(true); // this upload did not create it
    store.unpin(sharedAgain.hash);
  });

  it('leaves nothing in tmp/ when a write fails', async () => {
    const store = await openStore();
    const data = randomBytes(1000);
    const hash = sha256(data);
    // A regular file where the shard directory should be makes mkdir fail.
    await fs.writeFile(path.join(dataDir, 'chunks', hash.slice(0, 2)), 'blocker');
    await expect(store.put(data)).rejects.toThrow();
    expect(store.isPinned(hash)).toBe(false);
    expect(await fs.readdir(store.tmpDir)).toEqual([]);
  });
});

describe('verifiedInline', () => {
  it('checks size and CRC32C on every call', () => {
    const data = randomBytes(4096);
    const ref = { hash: 'h', size: data.length, crc32c: crc32c(data), data };
    expect(verifiedInline(ref)).toBe(data);
    expect(verifiedInline(ref)).toBe(data);
    expect(() => verifiedInline({ ...ref, crc32c: (ref.crc32c + 1) >>> 0 })).toThrow(/chunk corrupt/);
    expect(() => verifiedInline({ ...ref, size: data.length - 1 })).toThrow(/chunk corrupt/);
    const rotten = Buffer.from(data);
    rotten[100]! ^= 1;
    expect(() => verifiedInline({ ...ref, data: rotten })).toThrow(/chunk corrupt/);
    expect(() => verifiedInline({ ...ref, data: null })).toThrow(/chunk corrupt/);
  });
});
