// The GET/HEAD read cache (src/db/read-cache.ts) must never answer with rows the database no
// longer holds: a change through the same connection empties it at once, a commit by another
// connection (another process) within a millisecond. Real SQLite file, two
// connections.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository, type ChunkPlacement } from '../../src/db/repository.js';
import { MAX_CACHED_CHUNKS, ReadCache, VERSION_CHECK_MS } from '../../src/db/read-cache.js';
import { VersionChangedError } from '../../src/store/types.js';

let dir: string;
let db: OpenedDb;
let repo: Repository;
let bucketId: number;
const opened: OpenedDb[] = [];

// Past the read cache's check interval for other connections' commits.
const tick = () => new Promise<void>((r) => setTimeout(r, VERSION_CHECK_MS + 1));
const cacheOf = (r: Repository) => (r as unknown as { reads: { cache: ReadCache<unknown, { data: Buffer | null }> } }).reads.cache;

function inline(bytes: Buffer): ChunkPlacement {
  return { hash: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, crc32c: 0, offset: 0, data: bytes };
}

function put(r: Repository, key: string, placements: ChunkPlacement[]) {
  const size = placements.reduce((n, p) => n + p.size, 0);
  return r.commitObject(bucketId, key, { size, etag: `"${randomBytes(16).toString('hex')}"`, lastModified: Date.now() }, placements).object;
}

/** n chunks of `each` bytes, stored as files (no inline data). */
function chunked(n: number, each: number): ChunkPlacement[] {
  return Array.from({ length: n }, (_, i) => ({ hash: randomBytes(32).toString('hex'), size: each, crc32c: i, offset: i * each }));
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-read-cache-'));
  db = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  opened.push(db);
  repo = new Repository(db.db);
  repo.createBucket({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  bucketId = repo.getBucket('b')!.id;
});

afterEach(() => {
  for (const d of opened.splice(0)) d.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('read cache', () => {
  it('answers a repeated lookup from memory', async () => {
    put(repo, 'k', [inline(Buffer.from('hello'))]);
    await tick();
    const first = repo.getObjectForRead(bucketId, 'k')!;
    const chunks = repo.chunksForRead(first, 0, 4);
    await tick();
    const stats = { ...cacheOf(repo).stats };
    expect(repo.getObjectForRead(bucketId, 'k')).toBe(first);
    expect(repo.chunksForRead(first, 0, 4)).toBe(chunks);
    expect(cacheOf(repo).stats.hits - stats.hits).toBe(2);
    expect(chunks.map((c) => c.data?.toString())).toEqual(['hello']);
  });

  it('a write through the same connection is seen by the very next lookup', () => {
    put(repo, 'k', [inline(Buffer.from('one'))]);
    const before = repo.getObjectForRead(bucketId, 'k')!;
    expect(repo.chunksForRead(before, 0, 2)[0]!.data!.toString()).toBe('one');
    // Same synchronous run, no tick in between: an overwrite keeps the row id.
    const after = put(repo, 'k', [inline(Buffer.from('two!'))]);
    expect(after.id).toBe(before.id);
    const seen = repo.getObjectForRead(bucketId, 'k')!;
    expect(seen.size).toBe(4);
    expect(seen.etag).toBe(after.etag);
    expect(repo.chunksForRead(seen, 0, 3)[0]!.data!.toString()).toBe('two!');
    repo.deleteObject(bucketId, 'k');
    expect(repo.getObjectForRead(bucketId, 'k')).toBeUndefined();
  });

  it('a commit by another connection is seen within the check interval', async () => {
    put(repo, 'k', [inline(Buffer.from('one'))]);
    expect(repo.getObjectForRead(bucketId, 'k')!.size).toBe(3);
    await tick();
    const other = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
    opened.push(other);
    const otherRepo = new Repository(other.db);
    put(otherRepo, 'k', [inline(Buffer.from('three'))]);
    put(otherRepo, 'new', [inline(Buffer.from('x'))]);
    await tick();
    const seen = repo.getObjectForRead(bucketId, 'k')!;
    expect(seen.size).toBe(5);
    expect(repo.chunksForRead(seen, 0, 4)[0]!.data!.toString()).toBe('three');
    expect(repo.getObjectForRead(bucketId, 'new')?.size).toBe(1);
    otherRepo.deleteObject(bucketId, 'k');
    await tick();
    expect(repo.getObjectForRead(bucketId, 'k')).toBeUndefined();
  });

  it('a row read before an overwrite in place by another connection never gets the new chunk list', () => {
    put(repo, 'k', [inline(Buffer.from('one'))]);
    put(repo, 'long', chunked(MAX_CACHED_CHUNKS + 2, 10));
    const before = repo.getObjectForRead(bucketId, 'k')!;
    const longBefore = repo.getObjectForRead(bucketId, 'long')!;
    // The commit thread's connection, committing between a GET's two lookups.
    const other = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
    opened.push(other);
    const otherRepo = new Repository(other.db);
    expect(put(otherRepo, 'k', [inline(Buffer.from('two'))]).id).toBe(before.id);
    expect(put(otherRepo, 'long', chunked(MAX_CACHED_CHUNKS + 2, 10)).id).toBe(longBefore.id);
    // Once the cache has let go of the list read with the row (at once here: the other
    // connection's commit is seen), the old row gets no list: VersionChangedError, never 'two'.
    cacheOf(repo).clear();
    expect(() => repo.chunksForRead(before, 0, 2)).toThrow(VersionChangedError);
    expect(() => repo.chunksForRead(longBefore, 0, 9)).toThrow(VersionChangedError);
    const now = repo.getObjectForRead(bucketId, 'k')!;
    expect(repo.chunksForRead(now, 0, 2)[0]!.data!.toString()).toBe('two');
  });

  it('range reads from a kept list return the chunks chunksForRange returns', () => {
    const obj = put(repo, 'multi', chunked(10, 100));
    const ranges: Array<[number, number]> = [[0, 999], [0, 0], [99, 100], [100, 199], [150, 450], [999, 999], [250, 250], [0, 99]];
    for (const [start, end] of ranges) {
      const got = repo.chunksForRead(obj, start, end).map((r) => r.offset);
      expect(got, `${start}-${end}`).toEqual(repo.chunksForRange(obj.id, start, end).map((r) => r.offset));
    }
  });

  it(`lists longer than ${MAX_CACHED_CHUNKS} chunks are read by range, not kept`, () => {
    const n = MAX_CACHED_CHUNKS + 5;
    const obj = put(repo, 'long', chunked(n, 10));
    const whole = repo.chunksForRead(obj, 0, n * 10 - 1);
    expect(whole).toHaveLength(n);
    expect(whole.map((r) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => i * 10));
    expect(repo.chunksForRead(obj, 35, 64).map((r) => r.offset)).toEqual([30, 40, 50, 60]);
    // Remembered as too long: the second whole read is a range query again, not the cached list.
    expect(repo.chunksForRead(obj, 0, n * 10 - 1)).not.toBe(whole);
  });

  it('stays within its byte bound', () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    // Written objects empty the cache: read them all back after the writes.
    for (let i = 0; i < 12; i++) put(repo, `big/${i}`, [inline(Buffer.concat([Buffer.from([i]), big]))]);
    let held = 0;
    for (let i = 0; i < 12; i++) {
      const obj = repo.getObjectForRead(bucketId, `big/${i}`)!;
      const rows = repo.chunksForRead(obj, 0, obj.size - 1);
      expect(rows[0]!.data![0]).toBe(i);
      held = (cacheOf(repo) as unknown as { bytes: number }).bytes;
      expect(held).toBeLessThanOrEqual(32 * 1024 * 1024);
    }
    expect(cacheOf(repo).stats.resets).toBeGreaterThan(0);
  });
});
