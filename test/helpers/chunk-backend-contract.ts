// The ChunkBackend contract (src/storage/backend.ts) as a suite any backend runs: call
// chunkBackendContract with a factory for a fresh, empty, initialised backend.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkBackend } from '../../src/storage/backend.js';

export interface BackendUnderTest {
  backend: ChunkBackend;
  /** Names of half-written chunks (tmp files, multipart leftovers) still lying around. */
  leftovers(): Promise<string[]>;
  /** A place quarantine() may move chunks to. */
  quarantineDir: string;
  cleanup(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stored(backend: ChunkBackend, size = 10_000): Promise<{ hash: string; data: Buffer }> {
  const data = randomBytes(size);
  const hash = sha256(data);
  await backend.put(hash, data);
  return { hash, data };
}

async function listed(backend: ChunkBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const h of backend.list()) out.push(h);
  return out.sort();
}

export function chunkBackendContract(name: string, factory: () => Promise<BackendUnderTest>): void {
  describe(`ChunkBackend contract: ${name}`, () => {
    let t: BackendUnderTest;
    let backend: ChunkBackend;
    beforeEach(async () => {
      t = await factory();
      backend = t.backend;
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('put then get returns the same bytes, and stat their size', async () => {
      const { hash, data } = await stored(backend, 200_000);
      expect((await backend.get(hash)).equals(data)).toBe(true);
      expect(await backend.stat(hash)).toMatchObject({ size: data.length });
      expect(await t.leftovers()).toEqual([]);
    });

    it('get of a range: inside, at either end, past the end, empty', async () => {
      const { hash, data } = await stored(backend, 100_000);
      expect((await backend.get(hash, { offset: 1000, length: 5000 })).equals(data.subarray(1000, 6000))).toBe(true);
      expect((await backend.get(hash, { offset: 0, length: 1 })).equals(data.subarray(0, 1))).toBe(true);
      expect((await backend.get(hash, { offset: 99_999, length: 1 })).equals(data.subarray(99_999))).toBe(true);
      expect((await backend.get(hash, { offset: 90_000, length: 50_000 })).equals(data.subarray(90_000))).toBe(true);
      expect((await backend.get(hash, { offset: 500, length: 0 })).length).toBe(0);
      expect((await backend.get(hash, { offset: 100_000, length: 10 })).length).toBe(0);
    });

    it('open reads into the caller\'s buffers at any position', async () => {
      const { hash, data } = await stored(backend, 70_000);
      const f = await backend.open(hash);
      try {
        expect(f.size).toBe(data.length);
        const into = Buffer.alloc(30_000);
        let got = 0;
        while (got < 20_000) got += (await f.read(into, 10 + got, 20_000 - got, 50_000 + got)).bytesRead;
        expect(into.subarray(10, 20_010).equals(data.subarray(50_000))).toBe(true);
        expect((await f.read(into, 0, 10, data.length)).bytesRead).toBe(0);
      } finally {
        await f.close();
      }
    });

    it('stores an empty chunk', async () => {
      const { hash } = await stored(backend, 0);
      expect((await backend.get(hash)).length).toBe(0);
      expect(await backend.stat(hash)).toMatchObject({ size: 0 });
    });

    it('put of a hash already stored is idempotent', async () => {
      const { hash, data } = await stored(backend);
      await backend.put(hash, data);
      await backend.put(hash, data);
      expect((await backend.get(hash)).equals(data)).toBe(true);
      expect(await listed(backend)).toEqual([hash]);
      expect(await t.leftovers()).toEqual([]);
    });

    it('concurrent puts of the same hash all resolve, leaving one whole copy', async () => {
      const data = randomBytes(300_000);
      const hash = sha256(data);
      await Promise.all(Array.from({ length: 8 }, () => backend.put(hash, data)));
      expect((await backend.get(hash)).equals(data)).toBe(true);
      expect(await listed(backend)).toEqual([hash]);
      expect(await t.leftovers()).toEqual([]);
    });

    it('concurrent puts of different hashes are all stored', async () => {
      const chunks = await Promise.all(Array.from({ length: 12 }, (_, i) => stored(backend, 1000 + i)));
      expect(await listed(backend)).toEqual(chunks.map((c) => c.hash).sort());
      for (const c of chunks) expect((await backend.get(c.hash)).equals(c.data)).toBe(true);
      expect(await t.leftovers()).toEqual([]);
    });

    it('reuse: true only for a stored chunk of that size, and marks it just used', async () => {
      const { hash, data } = await stored(backend);
      const missing = sha256(randomBytes(10));
      expect(await backend.reuse(missing, 10)).toBe(false);
      expect(await backend.reuse(hash, data.length + 1)).toBe(false);
      const before = (await backend.stat(hash))!.mtimeMs;
      await delay(20);
      expect(await backend.reuse(hash, data.length)).toBe(true);
      expect((await backend.stat(hash))!.mtimeMs).toBeGreaterThan(before);
    });

    it('touch marks a chunk just used; false for a missing one', async () => {
      const { hash } = await stored(backend);
      const before = (await backend.stat(hash))!.mtimeMs;
      await delay(20);
      expect(await backend.touch(hash)).toBe(true);
      expect((await backend.stat(hash))!.mtimeMs).toBeGreaterThan(before);
      expect(await backend.touch(sha256(randomBytes(10)))).toBe(false);
    });

    it('delete removes a chunk; deleting a missing chunk resolves false', async () => {
      const { hash } = await stored(backend);
      expect(await backend.delete(hash)).toBe(true);
      expect(await backend.stat(hash)).toBeUndefined();
      await expect(backend.get(hash)).rejects.toThrow(/^chunk missing:/);
      expect(await backend.delete(hash)).toBe(false);
      expect(await backend.delete(sha256(randomBytes(10)))).toBe(false);
      expect(await listed(backend)).toEqual([]);
    });

    it('a missing chunk: get and open reject with "chunk missing", stat is undefined', async () => {
      const hash = sha256(randomBytes(10));
      await expect(backend.get(hash)).rejects.toThrow(/^chunk missing:/);
      await expect(backend.get(hash, { offset: 0, length: 1 })).rejects.toThrow(/^chunk missing:/);
      await expect(backend.open(hash)).rejects.toThrow(/^chunk missing:/);
      expect(await backend.stat(hash)).toBeUndefined();
    });

    it('refuses a name that is not a SHA-256 hex digest', async () => {
      for (const bad of ['../../etc/passwd', 'ABC', sha256(Buffer.alloc(1)).toUpperCase(), '']) {
        await expect(backend.put(bad, Buffer.alloc(1))).rejects.toThrow(/invalid chunk hash/);
        await expect(backend.get(bad)).rejects.toThrow(/invalid chunk hash/);
        await expect(backend.stat(bad)).rejects.toThrow(/invalid chunk hash/);
        await expect(backend.delete(bad)).rejects.toThrow(/invalid chunk hash/);
      }
    });

    it('list: empty at first, then every stored chunk once', async () => {
      expect(await listed(backend)).toEqual([]);
      const chunks = [await stored(backend, 10), await stored(backend, 20), await stored(backend, 30)];
      expect(await listed(backend)).toEqual(chunks.map((c) => c.hash).sort());
    });

    it('list while puts run: every chunk stored before it began is listed', async () => {
      const before = await Promise.all(Array.from({ length: 6 }, (_, i) => stored(backend, 100 + i)));
      const during = Promise.all(Array.from({ length: 6 }, (_, i) => stored(backend, 200 + i)));
      const seen = await listed(backend);
      const later = await during;
      for (const c of before) expect(seen).toContain(c.hash);
      const known = new Set([...before, ...later].map((c) => c.hash));
      for (const h of seen) expect(known.has(h)).toBe(true);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('deleteIfStale: keeps a fresh chunk, removes a stale one, keeps one that is no orphan after all', async () => {
      const fresh = await stored(backend);
      expect(await backend.deleteIfStale(fresh.hash, { graceMs: 3_600_000, stillOrphan: async () => true })).toEqual({ removed: false, size: 0 });
      expect((await backend.get(fresh.hash)).equals(fresh.data)).toBe(true);

      await delay(20);
      let asked = 0;
      const kept = await backend.deleteIfStale(fresh.hash, { graceMs: 0, stillOrphan: async () => (asked++, false) });
      expect(kept).toEqual({ removed: false, size: 0 });
      expect(asked).toBe(1);
      expect((await backend.get(fresh.hash)).equals(fresh.data)).toBe(true);
      expect(await listed(backend)).toEqual([fresh.hash]);

      expect(await backend.deleteIfStale(fresh.hash, { graceMs: 0, stillOrphan: async () => true })).toEqual({ removed: true, size: fresh.data.length });
      expect(await backend.stat(fresh.hash)).toBeUndefined();
      expect(await listed(backend)).toEqual([]);
      expect(await backend.deleteIfStale(fresh.hash, { graceMs: 0, stillOrphan: async () => true })).toEqual({ removed: false, size: 0 });
    });

    it('quarantine moves a chunk out of its name; a later put stores it afresh', async () => {
      const { hash, data } = await stored(backend);
      const where = await backend.quarantine(hash, t.quarantineDir);
      expect(typeof where).toBe('string');
      await expect(backend.get(hash)).rejects.toThrow(/^chunk missing:/);
      expect(await listed(backend)).toEqual([]);
      await backend.put(hash, data);
      expect((await backend.get(hash)).equals(data)).toBe(true);
      // A second quarantine of the same hash does not overwrite the first.
      expect(await backend.quarantine(hash, t.quarantineDir)).not.toBe(where);
    });

    it('init on a store that is already set up finds nothing to sweep', async () => {
      await stored(backend);
      expect(await backend.init()).toEqual({ sweptTmpFiles: 0 });
      expect(await listed(backend)).toHaveLength(1);
    });
  });
}
