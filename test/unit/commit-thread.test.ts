import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { COMMIT_BATCH_SEND, CommitError, CommitThread, TurnBatch } from '../../src/db/commit-thread.js';
import { Repository, type NewObject } from '../../src/db/repository.js';
import { openStorageEnv, type StorageEnv } from '../helpers/storage-env.js';

// The commit thread (db/commit-thread.ts) runs PUT commits on a connection of its own. What the
// server relies on: a commit is in the database when its promise resolves, errors come back with
// their SQLite code, close() finishes what was queued, and a read right after a commit sees it.

let dir: string;
let opened: OpenedDb;
let repo: Repository;
let thread: CommitThread;
let bucketId: number;

const row = (etag: string): NewObject => ({ size: 4, etag: `"${etag}"`, contentType: 'application/octet-stream', lastModified: Date.now() }) as NewObject;
const inline = (text: string) => {
  const data = Buffer.from(text);
  return { hash: createHash('sha256').update(data).digest('hex'), size: data.length, crc32c: 0, offset: 0, data };
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ct-'));
  const file = path.join(dir, 'cairn.db');
  opened = openDb(file, { durability: 'fsync' });
  thread = new CommitThread({ file, durability: 'fsync' });
  repo = new Repository(opened.db, undefined, thread);
  repo.createBucket({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  bucketId = repo.getBucket('b')!.id;
});
afterEach(async () => {
  vi.restoreAllMocks();
  await thread.close();
  opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('CommitThread', () => {
  it('commits concurrent PUTs on its own connection; each is in the database when it resolves', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => repo.commitObjectGrouped(bucketId, `k${i}`, row(`e${i}`), [inline(`data-${i}`)])));
    expect(results.map((r) => r.object.key)).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`));
    for (let i = 0; i < 40; i++) {
      expect(repo.getObject(bucketId, `k${i}`)?.etag).toBe(`"e${i}"`);
      expect(repo.chunkList(results[i]!.object.id).map((c) => c.chunkHash)).toEqual([inline(`data-${i}`).hash]);
    }
  });

  it('the commits of one turn travel to the thread in messages of COMMIT_BATCH_SEND, the rest at the end of the turn', async () => {
    const worker = (thread as unknown as { worker: { postMessage(m: unknown): void } }).worker;
    const posted = vi.spyOn(worker, 'postMessage');
    const n = 3 * COMMIT_BATCH_SEND + 1;
    await Promise.all(Array.from({ length: n }, (_, i) => repo.commitObjectGrouped(bucketId, `t${i}`, row(`t${i}`), [inline(`t-${i}`)])));
    const sizes = posted.mock.calls.map((c) => (c[0] as { items: unknown[] }).items.length);
    expect(sizes).toEqual([COMMIT_BATCH_SEND, COMMIT_BATCH_SEND, COMMIT_BATCH_SEND, 1]);
    for (let i = 0; i < n; i++) expect(repo.getObject(bucketId, `t${i}`)?.etag).toBe(`"t${i}"`);
  });

  it('TurnBatch sends as soon as max items wait, and what gathers after at the end of the turn', async () => {
    const sent: number[][] = [];
    const batch = new TurnBatch<number>((items) => sent.push(items), 3);
    batch.add(1);
    batch.add(2);
    expect(sent).toEqual([]);
    batch.add(3);
    expect(sent).toEqual([[1, 2, 3]]);
    batch.add(4);
    batch.add(5);
    await Promise.resolve();
    expect(sent).toEqual([[1, 2, 3]]);
    await new Promise<void>((r) => setImmediate(r));
    expect(sent).toEqual([[1, 2, 3], [4, 5]]);
    // Without a max: one message per turn.
    const whole: number[][] = [];
    const turn = new TurnBatch<number>((items) => whole.push(items));
    for (let i = 0; i < 50; i++) turn.add(i);
    expect(whole).toEqual([]);
    await new Promise<void>((r) => setImmediate(r));
    expect(whole).toEqual([Array.from({ length: 50 }, (_, i) => i)]);
  });

  it('an overwrite reports the chunk file it freed', async () => {
    const file = { ...inline('first'), data: null }; // a chunk kept as a file
    await repo.commitObjectGrouped(bucketId, 'k', row('one'), [file]);
    const second = await repo.commitObjectGrouped(bucketId, 'k', row('two'), [inline('second')]);
    expect(second.freed).toEqual([file.hash]);
    expect(repo.isChunkReferenced(file.hash)).toBe(false);
  });

  it('a failing commit rejects with its SQLite code and leaves the others of its batch alone', async () => {
    const settled = await Promise.allSettled([
      repo.commitObjectGrouped(bucketId, 'good', row('g'), [inline('good')]),
      repo.commitObjectGrouped(bucketId + 1000, 'orphan', row('o'), [inline('orphan')]), // no such bucket
    ]);
    expect(settled[0]!.status).toBe('fulfilled');
    expect(settled[1]!.status).toBe('rejected');
    const err = (settled[1] as PromiseRejectedResult).reason as CommitError;
    expect(err).toBeInstanceOf(CommitError);
    expect(err.code).toMatch(/^SQLITE_CONSTRAINT/);
    expect(repo.getObject(bucketId, 'good')).toBeDefined();
    expect(repo.isChunkReferenced(inline('orphan').hash)).toBe(false);
  });

  it('a read right after a commit sees it, even before data_version is asked again', async () => {
    await repo.commitObjectGrouped(bucketId, 'k', row('old'), [inline('old')]);
    // Freeze the clock the read cache uses to space its data_version checks (before the read
    // that caches the row, which asks it last): only the commit's own invalidation can make the
    // next read see the new row.
    vi.spyOn(performance, 'now').mockReturnValue(performance.now());
    expect(repo.getObjectForRead(bucketId, 'k')?.etag).toBe('"old"'); // now cached
    await repo.commitObjectGrouped(bucketId, 'k', row('new'), [inline('new')]);
    expect(repo.getObjectForRead(bucketId, 'k')?.etag).toBe('"new"');
  });

  it('deletes run there too: a read right after sees the object gone, a missing key says so', async () => {
    const file = { ...inline('kept as a file'), data: null };
    await repo.commitObjectGrouped(bucketId, 'd', row('d'), [file]);
    vi.spyOn(performance, 'now').mockReturnValue(performance.now()); // as in the test above
    expect(repo.getObjectForRead(bucketId, 'd')).toBeDefined(); // now cached
    const [gone, missing] = await Promise.all([repo.deleteObjectGrouped(bucketId, 'd'), repo.deleteObjectGrouped(bucketId, 'never')]);
    expect(gone).toEqual({ deleted: true, freed: [file.hash], versionId: 'null', deleteMarker: false });
    expect(missing).toEqual({ deleted: false, freed: [] });
    expect(repo.getObjectForRead(bucketId, 'd')).toBeUndefined();
    expect(repo.isChunkReferenced(file.hash)).toBe(false);
  });

  it('close() lets queued commits finish; later ones are refused', async () => {
    const queued = Array.from({ length: 10 }, (_, i) => repo.commitObjectGrouped(bucketId, `q${i}`, row(`q${i}`), [inline(`q${i}`)]));
    await thread.close();
    await expect(Promise.all(queued)).resolves.toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(repo.getObject(bucketId, `q${i}`)).toBeDefined();
    await expect(repo.commitObjectGrouped(bucketId, 'late', row('l'), [inline('late')])).rejects.toThrow(/commit thread stopped/);
  });

  it('a thread that stops while the server runs is reported once, and commits fail from then on', async () => {
    await thread.close();
    const stopped: Error[] = [];
    thread = new CommitThread({ file: path.join(dir, 'cairn.db'), durability: 'fsync' }, { onStopped: (err) => stopped.push(err) });
    await thread.ready;
    const r = new Repository(opened.db, undefined, thread);
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(r.commitObjectGrouped(bucketId, 'after', row('a'), [inline('after')])).rejects.toThrow(/commit thread stopped/);
    expect(stopped.map((e) => e.message)).toEqual(['the commit thread stopped']);
  });
});

describe('write transactions begin IMMEDIATE', () => {
  let env: StorageEnv;
  beforeEach(async () => {
    env = await openStorageEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  // With two writing connections (the server's and the commit thread's), a DEFERRED transaction
  // that read and then writes after the other committed fails with SQLITE_BUSY_SNAPSHOT.
  // IMMEDIATE holds the write lock from the start: the other connection waits instead.
  it('a copy (read, then write) holds the write lock from its first read', async () => {
    await env.put('src', Buffer.from('source bytes'));
    const other = await env.otherProcess();
    other.db.sqlite.pragma('busy_timeout = 0');
    let otherWrite: unknown;
    await env.objects.copyObject({
      src: env.bucket,
      srcKey: 'src',
      dst: env.bucket,
      dstKey: 'dst',
      check: () => {
        // Inside the copy's transaction, after it read the source.
        try {
          other.repo.createBucket({ name: 'meanwhile', region: 'us-east-1', ownerId: 'a'.repeat(64) });
          otherWrite = 'committed';
        } catch (err) {
          otherWrite = (err as { code?: string }).code;
        }
      },
    });
    expect(otherWrite).toBe('SQLITE_BUSY');
    expect((await env.get('dst')).toString()).toBe('source bytes');
  });
});
