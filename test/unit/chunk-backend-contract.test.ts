// The chunk backend contract, run against the local-disk backend on a real temp dir (both
// durabilities), plus what only the local disk has: tmp/, fault injection, the shard layout.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFsOps, LocalDiskBackend } from '../../src/storage/local-disk.js';
import { chunkBackendContract } from '../helpers/chunk-backend-contract.js';

for (const durability of ['fsync', 'relaxed'] as const) {
  chunkBackendContract(`local disk (${durability})`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-backend-'));
    const backend = new LocalDiskBackend({ dataDir: dir, durability });
    await backend.init();
    return {
      backend,
      leftovers: () => fs.readdir(backend.tmpDir),
      quarantineDir: path.join(dir, 'quarantine'),
      cleanup: () => fs.rm(dir, { recursive: true, force: true }),
    };
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('LocalDiskBackend', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-backend-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('stores a chunk at chunks/ab/cd/<hash>', async () => {
    const backend = new LocalDiskBackend({ dataDir: dir, durability: 'fsync' });
    await backend.init();
    const data = randomBytes(1000);
    const hash = sha256(data);
    await backend.put(hash, data);
    expect(backend.chunkPath(hash)).toBe(path.join(dir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash));
    expect((await fs.readFile(backend.chunkPath(hash))).equals(data)).toBe(true);
  });

  it('init sweeps tmp/ (writes that never reached their rename)', async () => {
    await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
    await fs.writeFile(path.join(dir, 'tmp', 'dead'), 'x');
    const backend = new LocalDiskBackend({ dataDir: dir, durability: 'fsync' });
    expect(await backend.init()).toEqual({ sweptTmpFiles: 1 });
    expect(await fs.readdir(backend.tmpDir)).toEqual([]);
  });

  it('a failed write leaves no tmp file and no chunk', async () => {
    const backend = new LocalDiskBackend({
      dataDir: dir,
      durability: 'fsync',
      fsOps: { datasync: async () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) },
    });
    await backend.init();
    const data = randomBytes(1000);
    await expect(backend.put(sha256(data), data)).rejects.toThrow(/EIO/);
    expect(await fs.readdir(backend.tmpDir)).toEqual([]);
    expect(await backend.stat(sha256(data))).toBeUndefined();
  });

  it('a chunk whose directory fsync failed is not reused until a put of it succeeds', async () => {
    const data = randomBytes(1000);
    const hash = sha256(data);
    let failShard: string | undefined;
    const opened = new WeakMap<object, string>();
    const backend = new LocalDiskBackend({
      dataDir: dir,
      durability: 'fsync',
      fsOps: {
        open: async (file, flags, mode) => {
          const fh = await defaultFsOps.open(file, flags, mode);
          opened.set(fh, file);
          return fh;
        },
        // Only the sync after the rename (of the chunk's own shard directory) fails.
        fsync: async (fh) => (opened.get(fh) === failShard ? Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) : defaultFsOps.fsync(fh)),
      },
    });
    await backend.init();
    failShard = path.dirname(backend.chunkPath(hash));
    await expect(backend.put(hash, data)).rejects.toThrow(/EIO/);
    expect(await backend.stat(hash)).toMatchObject({ size: data.length });
    expect(await backend.reuse(hash, data.length)).toBe(false);
    failShard = undefined;
    await backend.put(hash, data);
    expect(await backend.reuse(hash, data.length)).toBe(true);
  });

  it('list skips GC asides and stray names', async () => {
    const backend = new LocalDiskBackend({ dataDir: dir, durability: 'relaxed' });
    await backend.init();
    const data = randomBytes(100);
    const hash = sha256(data);
    await backend.put(hash, data);
    const shard = path.dirname(backend.chunkPath(hash));
    await fs.writeFile(`${backend.chunkPath(hash)}.gc-1-0badf00d`, 'x');
    await fs.writeFile(path.join(shard, 'README'), 'x');
    const seen: string[] = [];
    for await (const h of backend.list()) seen.push(h);
    expect(seen).toEqual([hash]);
  });
});
