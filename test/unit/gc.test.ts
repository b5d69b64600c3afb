import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runGc, type GcDeps, type GcResult } from '../../src/storage/gc.js';
import { runScrub } from '../../src/storage/scrub.js';
import { startBackgroundJobs } from '../../src/storage/jobs.js';
import { age, CHUNK, chunkHashes, openStorageEnv, type StorageEnv } from '../helpers/storage-env.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let env: StorageEnv;
beforeEach(async () => {
  env = await openStorageEnv();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await env.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const deps = (): GcDeps => ({ dataDir: env.dataDir, meta: env.meta, store: env.store });
const gc = (opts: Partial<Parameters<typeof runGc>[1]> = {}, d: GcDeps = deps()) => runGc(d, { graceMs: HOUR, multipartExpiryMs: 7 * DAY, ...opts });
const scrub = () => runScrub({ dataDir: env.dataDir, meta: env.meta, store: env.store });

/** A chunk file with no row, `ageMs` old. */
async function writeOrphan(data: Buffer, ageMs: number): Promise<string> {
  const hash = sha256(data);
  const file = env.store.chunkPath(hash);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
  await age(file, ageMs);
  return hash;
}

async function ageAllChunks(ageMs: number): Promise<void> {
  for (const h of await chunkHashes(env.dataDir)) await age(env.store.chunkPath(h), ageMs);
}

const noCounts = { orphanChunks: 0, orphanBytes: 0, youngOrphans: 0, expiredUploads: 0, tmpFiles: 0, tmpBytes: 0, chunkRowsRepaired: 0, freedBytes: 0 };

/** A PUT body that sends `first`, then waits for release() before sending `rest`. */
function gatedBody(first: Buffer, rest: Buffer) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* body() {
    yield first;
    await gate;
    yield rest;
  }
  return { body: body(), release };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('gc', () => {
  it('frees orphans older than the grace period, keeps young orphans and referenced chunks', async () => {
    const live = randomBytes(2 * CHUNK + 7);
    await env.put('live', live);
    await ageAllChunks(2 * DAY); // old, but referenced
    const oldOrphan = randomBytes(5000);
    const old = await writeOrphan(oldOrphan, 2 * HOUR);
    const young = await writeOrphan(randomBytes(300), 10 * 60_000);
    const before = await chunkHashes(env.dataDir);

    const progress: Array<[number, number]> = [];
    const r = await gc({ onProgress: (d, t) => progress.push([d, t]) });
    expect(r).toMatchObject({ ...noCounts, dryRun: false, orphanChunks: 1, orphanBytes: 5000, youngOrphans: 1, freedBytes: 5000 });
    expect(await chunkHashes(env.dataDir)).toEqual(before.filter((h) => h !== old));
    expect(await env.store.exists(young)).toBe(true);
    expect((await env.get('live')).equals(live)).toBe(true);
    expect(progress[0][0]).toBe(0);
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);

    // Once the young one is past the grace period it goes too.
    await age(env.store.chunkPath(young), 2 * HOUR);
    expect((await gc()).orphanChunks).toBe(1);
    expect(await env.store.exists(young)).toBe(false);
    expect((await scrub()).broken).toEqual([]);
  });

  it('removes temp files older than the grace period only', async () => {
    const tmp = env.store.tmpDir;
    await fs.writeFile(path.join(tmp, 'dead-write'), randomBytes(1234));
    await age(path.join(tmp, 'dead-write'), 2 * HOUR);
    await fs.writeFile(path.join(tmp, 'recent'), randomBytes(10));
    const r = await gc();
    expect(r).toMatchObject({ ...noCounts, tmpFiles: 1, tmpBytes: 1234, freedBytes: 1234 });
    expect(await fs.readdir(tmp)).toEqual(['recent']);
  });

  it('removes expired multipart uploads and their chunk files, keeps current uploads', async () => {
    const expired = await env.multipart.create(env.bucket, 'old-upload', { userMetadata: {} });
    await env.multipart.uploadPart(env.bucket, 'old-upload', expired, 1, { body: Readable.from([randomBytes(2 * CHUNK)]) });
    const current = await env.multipart.create(env.bucket, 'new-upload', { userMetadata: {} });
    const currentPart = randomBytes(CHUNK);
    await env.multipart.uploadPart(env.bucket, 'new-upload', current, 1, { body: Readable.from([currentPart]) });
    env.db.sqlite.prepare('UPDATE multipart_uploads SET initiated = ? WHERE id = ?').run(Date.now() - 8 * DAY, expired);
    await ageAllChunks(8 * DAY);
    expect(await chunkHashes(env.dataDir)).toHaveLength(3);

    const r = await gc();
    expect(r).toMatchObject({ ...noCounts, expiredUploads: 1, orphanChunks: 2, orphanBytes: 2 * CHUNK, freedBytes: 2 * CHUNK });
    expect(env.mp.getUpload(expired)).toBeUndefined();
    expect(env.mp.getUpload(current)).toBeDefined();
    expect(await chunkHashes(env.dataDir)).toEqual([sha256(currentPart)]);
    const obj = await env.multipart.complete(env.bucket, 'new-upload', current, [{ partNumber: 1, etag: env.mp.allParts(current)[0].etag.replace(/"/g, ''), checksums: {} }]);
    expect(obj.size).toBe(CHUNK);
    expect((await env.get('new-upload')).equals(currentPart)).toBe(true);
  });

  it('repairs chunk rows with refcount <= 0: recounts used ones, drops unused ones (and their files)', async () => {
    const used = randomBytes(CHUNK);
    await env.put('used', used);
    env.db.sqlite.prepare('UPDATE chunks SET refcount = 0 WHERE hash = ?').run(sha256(used));
    const unusedData = randomBytes(999);
    const unused = await writeOrphan(unusedData, 2 * HOUR);
    env.db.sqlite.prepare('INSERT INTO chunks (hash, size, crc32c, refcount, created_at) VALUES (?, ?, 0, -1, 0)').run(unused, 999);

    const r = await gc();
    expect(r).toMatchObject({ ...noCounts, chunkRowsRepaired: 2, orphanChunks: 1, orphanBytes: 999, freedBytes: 999 });
    expect(env.db.sqlite.prepare('SELECT hash, refcount FROM chunks').all()).toEqual([{ hash: sha256(used), refcount: 1 }]);
    expect(await env.store.exists(unused)).toBe(false);
    expect((await env.get('used')).equals(used)).toBe(true);
  });

  it('dry run reports what a run frees and changes nothing', async () => {
    await env.put('keep', randomBytes(CHUNK));
    await writeOrphan(randomBytes(4000), 2 * HOUR);
    await writeOrphan(randomBytes(10), 0);
    await fs.writeFile(path.join(env.store.tmpDir, 'dead'), randomBytes(50));
    await age(path.join(env.store.tmpDir, 'dead'), 2 * HOUR);
    const expired = await env.multipart.create(env.bucket, 'x', { userMetadata: {} });
    env.db.sqlite.prepare('UPDATE multipart_uploads SET initiated = 0 WHERE id = ?').run(expired);
    env.db.sqlite.prepare('INSERT INTO chunks (hash, size, crc32c, refcount, created_at) VALUES (?, 1, 0, 0, 0)').run('f'.repeat(64));
    const files = await chunkHashes(env.dataDir);
    const rows = env.db.sqlite.prepare('SELECT * FROM chunks ORDER BY hash').all();

    const dry = await gc({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, orphanChunks: 1, orphanBytes: 4000, youngOrphans: 1, expiredUploads: 1, tmpFiles: 1, tmpBytes: 50, chunkRowsRepaired: 1, freedBytes: 4050 });
    expect(await chunkHashes(env.dataDir)).toEqual(files);
    expect(env.db.sqlite.prepare('SELECT * FROM chunks ORDER BY hash').all()).toEqual(rows);
    expect(env.mp.getUpload(expired)).toBeDefined();
    expect(await fs.readdir(env.store.tmpDir)).toEqual(['dead']);

    const real = await gc();
    expect(real).toMatchObject({ dryRun: false, orphanChunks: 1, orphanBytes: 4000, youngOrphans: 1, expiredUploads: 1, tmpFiles: 1, tmpBytes: 50, chunkRowsRepaired: 1, freedBytes: 4050 });
    expect(await gc({ dryRun: true })).toMatchObject({ ...noCounts, youngOrphans: 1 });
  });

  it('puts back a file a crashed GC left moved aside', async () => {
    const data = randomBytes(100);
    await env.put('obj', data);
    const hash = sha256(data);
    const target = env.store.chunkPath(hash);
    const aside = `${target}.gc-${Date.now() - HOUR}-0badf00d`;
    await fs.rename(target, aside);
    await gc();
    expect(await fs.readdir(path.dirname(target))).toEqual([hash]);
    expect((await env.get('obj')).equals(data)).toBe(true);
  });
});

describe('gc and an upload in flight', () => {
  it('in-process: keeps an old orphan that an upload in flight has just deduplicated onto (pinned)', async () => {
    const shared = randomBytes(CHUNK);
    const hash = await writeOrphan(shared, 2 * HOUR);
    const other = await writeOrphan(randomBytes(777), 2 * HOUR);
    const tail = randomBytes(1000);
    const { body, release } = gatedBody(shared, tail);
    const put = env.put('inflight', body);
    // The writer pins the chunk before it looks for the file; from then on GC must keep it.
    await until(() => env.store.isPinned(hash), 'the first chunk to be pinned');
    // Its put found the file and bumped its mtime (for a GC in another process).
    await until(async () => (await fs.stat(env.store.chunkPath(hash))).mtimeMs > Date.now() - 60_000, 'the mtime bump');
    await age(env.store.chunkPath(hash), 2 * HOUR); // worst case for this process: pins alone must hold

    const r = await gc();
    expect(r.orphanChunks).toBe(1); // `other` went; the pinned one stayed
    expect(await env.store.exists(other)).toBe(false);
    expect(await env.store.exists(hash)).toBe(true);

    release();
    await put;
    expect((await env.get('inflight')).equals(Buffer.concat([shared, tail]))).toBe(true);
    expect((await gc()).orphanChunks).toBe(0);
    expect((await scrub()).broken).toEqual([]);
  });

  it('in-process: a put arriving while GC removes the same chunk waits and writes a fresh copy', async () => {
    const data = randomBytes(CHUNK);
    const hash = await writeOrphan(data, 2 * HOUR);
    const removal = env.store.collectOrphan(hash, { graceMs: HOUR, isReferenced: async (h) => env.repo.isChunkReferenced(h) });
    const put = env.store.put(data);
    expect(await removal).toEqual({ removed: true, size: CHUNK });
    const ref = await put;
    expect(ref.created).toBe(true);
    expect((await env.store.read(ref, { verifyHash: true })).equals(data)).toBe(true);
    env.store.unpin(hash);
  });

  it('another process (CLI gc beside a running server): the mtime bump keeps a deduplicated orphan', async () => {
    const cli = await env.otherProcess();
    const cliDeps: GcDeps = { dataDir: env.dataDir, meta: cli.meta, store: cli.store };
    const shared = randomBytes(CHUNK);
    const hash = await writeOrphan(shared, 2 * HOUR);
    const tail = randomBytes(10);
    const { body, release } = gatedBody(shared, tail);
    const put = env.put('inflight', body);
    await until(() => env.store.isPinned(hash), 'the first chunk to be pinned');
    await until(async () => (await fs.stat(env.store.chunkPath(hash))).mtimeMs > Date.now() - 60_000, 'the mtime bump');

    expect(cli.store.isPinned(hash)).toBe(false); // the CLI cannot see the server's pins
    const r: GcResult = await gc({}, cliDeps);
    expect(r).toMatchObject({ orphanChunks: 0, youngOrphans: 1 });
    expect(await env.store.exists(hash)).toBe(true);

    release();
    await put;
    expect((await env.get('inflight')).equals(Buffer.concat([shared, tail]))).toBe(true);
    expect((await gc({}, cliDeps)).orphanChunks).toBe(0);
    expect((await scrub()).broken).toEqual([]);
  });

  it('another process: an upload slower than the grace period keeps its chunks fresh with touchPinned()', async () => {
    const cli = await env.otherProcess();
    const cliDeps: GcDeps = { dataDir: env.dataDir, meta: cli.meta, store: cli.store };
    const first = randomBytes(CHUNK);
    const hash = sha256(first);
    const { body, release } = gatedBody(first, randomBytes(5));
    const put = env.put('slow', body);
    await until(async () => env.store.isPinned(hash) && (await env.store.exists(hash)), 'the first chunk to be written');
    // Two hours pass mid-upload; the server's heartbeat has run meanwhile.
    await age(env.store.chunkPath(hash), 2 * HOUR);
    expect(await env.store.touchPinned()).toBeGreaterThanOrEqual(1);

    expect((await gc({}, cliDeps)).orphanChunks).toBe(0);
    release();
    await put;
    expect((await scrub()).broken).toEqual([]);
  });

  it('another process: a file touched between the first look and the move aside is put back', async () => {
    const data = randomBytes(100);
    const hash = await writeOrphan(data, 2 * HOUR);
    // First check: unreferenced; the check after the move: the other process committed a row meanwhile.
    let calls = 0;
    const r = await env.store.collectOrphan(hash, { graceMs: HOUR, isReferenced: async () => calls++ > 0 });
    expect(r).toEqual({ removed: false, size: 0 });
    expect(calls).toBe(2);
    expect(await fs.readdir(path.dirname(env.store.chunkPath(hash)))).toEqual([hash]);
  });

  it('a put whose file vanishes between its look and its mtime bump writes a fresh copy', async () => {
    const data = randomBytes(100);
    const hash = await writeOrphan(data, 2 * HOUR);
    const real = fs.utimes;
    // Another process's GC moves the file away right then.
    vi.spyOn(fs, 'utimes').mockImplementationOnce(async (p, a, m) => {
      await fs.rm(p as string);
      return real(p, a, m);
    });
    const ref = await env.store.put(data);
    expect(ref.created).toBe(true);
    expect((await env.store.read(ref, { verifyHash: true })).equals(data)).toBe(true);
    env.store.unpin(hash);
  });
});

describe('background jobs', () => {
  it('run GC and scrub on their schedules, report through the callbacks, and stop cleanly', async () => {
    const data = randomBytes(CHUNK + 1);
    await env.put('obj', data);
    const orphan = await writeOrphan(randomBytes(10), 2 * HOUR);
    const gcs: GcResult[] = [];
    const scrubs: Array<{ checked: number }> = [];
    const stop = startBackgroundJobs(
      { ...deps(), multipart: env.multipart },
      { gcIntervalMs: 50, gcGraceMs: HOUR, scrubIntervalMs: 50, scrubPauseMs: 1, multipartExpiryMs: 7 * DAY, log: pino({ level: 'silent' }), onGc: (r) => gcs.push(r), onScrub: (r) => scrubs.push(r) },
    );
    try {
      await until(() => gcs.length >= 2 && scrubs.length >= 2, 'two GC and two scrub runs');
    } finally {
      await stop();
    }
    expect(gcs[0]).toMatchObject({ dryRun: false, orphanChunks: 1, orphanBytes: 10 });
    expect(gcs[1].orphanChunks).toBe(0);
    expect(await env.store.exists(orphan)).toBe(false);
    expect(scrubs.at(-1)).toMatchObject({ checked: 2, broken: [] });
    // Nothing runs after stop().
    const n = gcs.length;
    await sleep(150);
    expect(gcs.length).toBe(n);
  });

  it('0 turns GC and scrub off', async () => {
    let runs = 0;
    const stop = startBackgroundJobs(
      { ...deps(), multipart: env.multipart },
      { gcIntervalMs: 0, gcGraceMs: HOUR, scrubIntervalMs: 0, multipartExpiryMs: 7 * DAY, log: pino({ level: 'silent' }), onGc: () => runs++, onScrub: () => runs++ },
    );
    await sleep(100);
    await stop();
    expect(runs).toBe(0);
  });
});
