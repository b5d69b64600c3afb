// Disk faults during chunk writes: ENOSPC / EDQUOT / EIO from write, fdatasync, the directory
// fsync, rename. Injected through ChunkStore's test-only `fsOps` seam (and, where this machine lets
// us mount a tmpfs, a real full disk). The request fails with an S3 error (507 InsufficientStorage
// for a full disk, 500 InternalError for EIO), nothing partial appears, a failed fsync is final for
// that write, reads keep being served, and writes work again once the fault is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ChunkStore, defaultFsOps, type ChunkFsOps } from '../../src/storage/chunk-store.js';
import { TEST_ACCESS_KEY, TEST_SECRET, chunkFiles, tmpFiles } from '../helpers/server.js';
import { CHUNK as ENV_CHUNK, chunkHashes, openStorageEnv } from '../helpers/storage-env.js';
import { runGc } from '../../src/storage/gc.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';

const KiB = 1024;
const CHUNK = 64 * KiB;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

type Op = keyof ChunkFsOps;
interface Fault {
  op: Op;
  code: 'ENOSPC' | 'EDQUOT' | 'EIO';
  /** Calls of `op` that pass before the fault fires. */
  skip: number;
  /** How many calls then fail (Infinity: until cleared). */
  times: number;
}

/** fsOps that fail as `faults` say, counting every call. */
function faultyOps(faults: Fault[], calls: Record<Op, number>): ChunkFsOps {
  const wrap = <K extends Op>(op: K): ChunkFsOps[K] =>
    (async (...args: unknown[]) => {
      calls[op]++;
      const f = faults.find((x) => x.op === op && x.times > 0);
      if (f) {
        if (f.skip > 0) f.skip--;
        else {
          f.times--;
          throw Object.assign(new Error(`${f.code}: injected fault, ${op}`), { code: f.code, syscall: op });
        }
      }
      return (defaultFsOps[op] as (...a: unknown[]) => unknown)(...args);
    }) as ChunkFsOps[K];
  return { open: wrap('open'), write: wrap('write'), datasync: wrap('datasync'), fsync: wrap('fsync'), rename: wrap('rename') };
}

const zeroCalls = (): Record<Op, number> => ({ open: 0, write: 0, datasync: 0, fsync: 0, rename: 0 });

describe('ChunkStore: a failed write or fsync is final for that write', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-faults-store-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function open() {
    const faults: Fault[] = [];
    const calls = zeroCalls();
    const store = new ChunkStore({ dataDir, durability: 'fsync', fsOps: faultyOps(faults, calls) });
    await store.init();
    return { store, faults, calls };
  }

  it.each([
    ['write', 'ENOSPC'],
    ['write', 'EIO'],
    ['datasync', 'EIO'],
    ['datasync', 'ENOSPC'],
    ['rename', 'EIO'],
  ] as const)('%s failing with %s: the put rejects, no tmp or chunk file is left, the fsync is not retried', async (op, code) => {
    const { store, faults, calls } = await open();
    const data = randomBytes(10_000);
    faults.push({ op, code, skip: 0, times: 1 });
    await expect(store.put(data)).rejects.toMatchObject({ code });
    expect(calls.datasync).toBe(op === 'write' ? 0 : 1);
    const hash = createHash('sha256').update(data).digest('hex');
    expect(await store.exists(hash)).toBe(false);
    expect(store.isPinned(hash)).toBe(false);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
    // The next put of the same bytes is a whole new write (a fresh file, written and fsynced).
    const before = { ...calls };
    const ref = await store.put(data);
    expect(ref.created).toBe(true);
    expect(calls.write - before.write).toBeGreaterThanOrEqual(1);
    expect(calls.datasync - before.datasync).toBe(1);
    expect((await store.read(ref)).equals(data)).toBe(true);
    store.unpin(ref.hash);
  });

  it('a failed directory fsync after the rename fails the put, and the file is not trusted for dedup', async () => {
    const { store, faults, calls } = await open();
    const data = randomBytes(10_000);
    // A store's first chunk in a shard syncs the two shard directories first (2 fsyncs); the third
    // fsync is the one after the rename.
    faults.push({ op: 'fsync', code: 'EIO', skip: 2, times: 1 });
    await expect(store.put(data)).rejects.toMatchObject({ code: 'EIO' });
    // A put of the same bytes must not take the file on trust: it writes and syncs it again.
    const before = { ...calls };
    const ref = await store.put(data);
    expect(ref.created).toBe(true);
    expect(calls.datasync - before.datasync).toBe(1);
    expect(calls.fsync - before.fsync).toBeGreaterThanOrEqual(1);
    store.unpin(ref.hash);
    // Once written whole, the file is trusted again.
    const again = await store.put(data);
    expect(again.created).toBe(false);
    store.unpin(again.hash);
  });

  it('a put of bytes another put is still writing waits for that write, directory fsync included', async () => {
    const calls = zeroCalls();
    let releaseFsync!: () => void;
    const gate = new Promise<void>((r) => (releaseFsync = r));
    let fsyncs = 0;
    let armed = false;
    const ops = faultyOps([], calls);
    const store = new ChunkStore({
      dataDir,
      durability: 'fsync',
      fsOps: {
        ...ops,
        rename: async (from, to) => {
          await ops.rename(from, to);
          // Hold every directory fsync from here on until the second put has had every chance to finish.
          armed = true;
        },
        fsync: async (fh) => {
          if (armed) {
            fsyncs++;
            await gate;
          }
          return ops.fsync(fh);
        },
      },
    });
    await store.init();
    const data = randomBytes(20_000);
    const first = store.put(data);
    while (!armed) await new Promise((r) => setTimeout(r, 1));
    let secondDone = false;
    const second = store.put(Buffer.from(data)).then((r) => ((secondDone = true), r));
    await new Promise((r) => setTimeout(r, 50));
    // The file is in place but its directory entry is not durable yet: the second put must not
    // answer "already stored" (its row would commit ahead of the chunk's directory fsync).
    expect(fsyncs).toBeGreaterThanOrEqual(1);
    expect(secondDone).toBe(false);
    releaseFsync();
    const [a, b] = await Promise.all([first, second]);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    store.unpin(a.hash);
    store.unpin(b.hash);
  });
});

describe('a commit that fails with an SQLite I/O error', () => {
  // SQLite may report a failed WAL write or fsync after the transaction's frames reached the file;
  // recovery at the next start would replay it. Its chunks must not be deleted on the spot.
  it.each([
    ['SQLITE_IOERR_FSYNC', true],
    ['SQLITE_FULL', true],
    ['SQLITE_CONSTRAINT', false],
  ] as const)('%s: the PUT fails; the chunks it wrote are kept: %s (GC removes them once no row appears)', async (code, kept) => {
    const env = await openStorageEnv();
    try {
      const commit = env.repo.commitObject.bind(env.repo);
      env.repo.commitObject = () => {
        throw Object.assign(new Error(`injected ${code}`), { code });
      };
      await expect(env.put('k', randomBytes(3 * ENV_CHUNK + 5))).rejects.toMatchObject({ code });
      env.repo.commitObject = commit;
      expect((await chunkHashes(env.dataDir)).length).toBe(kept ? 4 : 0);
      const gc = await runGc({ dataDir: env.dataDir, meta: env.meta, store: env.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
      expect(gc.orphanChunks).toBe(kept ? 4 : 0);
      expect(await chunkHashes(env.dataDir)).toEqual([]);
    } finally {
      await env.close();
    }
  });
});

describe('the server under disk faults', () => {
  const faults: Fault[] = [];
  const calls = zeroCalls();
  let server: RunningServer;
  let dataDir: string;
  let s3: S3Client;
  const Bucket = 'faults';
  const keep = randomBytes(5 * CHUNK + 123);

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-faults-'));
    const config = loadConfig({
      port: 0,
      host: '127.0.0.1',
      adminPort: 0,
      dataDir,
      accessKeyId: TEST_ACCESS_KEY,
      secretAccessKey: TEST_SECRET,
      durability: 'fsync',
      chunkSize: CHUNK,
      gcInterval: 0,
      scrubInterval: 0,
      logLevel: process.env.CAIRN_TEST_LOG ?? 'silent',
    }, {});
    server = await startServer(config, { log: pino({ level: config.logLevel }), fsOps: faultyOps(faults, calls) });
    s3 = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET },
    });
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep', Body: keep }));
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const referenced = (files: string[]) => files.filter((f) => server.sqlite!.repo.isChunkReferenced(path.basename(f)));
  async function expectReadable() {
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'keep' })));
    expect(md5(got)).toBe(md5(keep));
  }
  async function gcNow() {
    const res = await fetch(`${server.adminUrl}/v1/gc`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(res.status).toBe(200);
  }

  it.each([
    ['write', 'ENOSPC', 507, 'InsufficientStorage'],
    ['write', 'EDQUOT', 507, 'InsufficientStorage'],
    ['write', 'EIO', 500, 'InternalError'],
    ['datasync', 'EIO', 500, 'InternalError'],
    ['datasync', 'ENOSPC', 507, 'InsufficientStorage'],
    ['fsync', 'EIO', 500, 'InternalError'],
    ['rename', 'EIO', 500, 'InternalError'],
  ] as const)('PUT with %s failing %s after two calls passed: %i %s, no object, reads still served, the next PUT works', async (op, code, status, name) => {
    const key = `put-${op}-${code}`;
    const body = randomBytes(5 * CHUNK + 7);
    const filesBefore = new Set(chunkFiles(server));
    faults.length = 0;
    // fsync: every chunk costs one directory fsync after its rename (shard directories add more).
    faults.push({ op, code, skip: 2, times: 1 });
    const e = await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body })));
    expect(e.name).toBe(name);
    expect(e.$metadata.httpStatusCode).toBe(status);
    faults.length = 0;
    // Nothing partial: no object, no tmp file, and no new chunk file any row references.
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: key })))).$metadata.httpStatusCode).toBe(404);
    expect(tmpFiles(server)).toEqual([]);
    const added = chunkFiles(server).filter((f) => !filesBefore.has(f));
    expect(referenced(added)).toEqual([]);
    // A chunk renamed into place whose directory fsync failed stays (unreferenced) for GC.
    if (op !== 'fsync') expect(added).toEqual([]);
    await expectReadable();
    // Healed: the same PUT now succeeds and reads back.
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body }));
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key }))))).toBe(md5(body));
  });

  it('a GC collects what failed writes left, and verify stays clean', async () => {
    await gcNow();
    const orphans = chunkFiles(server).filter((f) => !server.sqlite!.repo.isChunkReferenced(path.basename(f)));
    // The in-process GC keeps files younger than its grace period (1 h by default): they are
    // orphans, but none is referenced and none is visible through S3.
    expect(referenced(orphans)).toEqual([]);
    const res = await fetch(`${server.adminUrl}/v1/verify`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect((await res.json()).broken).toEqual([]);
  });

  it('UploadPart under ENOSPC fails with 507; the upload survives, the part is re-sent and the upload completes', async () => {
    const key = 'mpu';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    const part1 = randomBytes(5 * 1024 * KiB);
    const part2 = randomBytes(3 * CHUNK);
    faults.length = 0;
    faults.push({ op: 'write', code: 'ENOSPC', skip: 5, times: 1 });
    const e = await s3Error(s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: 1, Body: part1 })));
    expect(e.$metadata.httpStatusCode).toBe(507);
    faults.length = 0;
    await expectReadable();
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: 2, Body: part2 }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: key })));
    expect(md5(got)).toBe(md5(Buffer.concat([part1, part2])));
  });

  it('a disk that stays full refuses every write with 507 and keeps serving reads; writes resume when space returns', async () => {
    faults.length = 0;
    faults.push({ op: 'write', code: 'ENOSPC', skip: 0, times: Infinity });
    for (let i = 0; i < 5; i++) {
      const e = await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: `full-${i}`, Body: randomBytes(2 * CHUNK + i) })));
      expect(e.$metadata.httpStatusCode).toBe(507);
      expect(e.message).toMatch(/not enough free space/);
      await expectReadable();
    }
    // A PUT whose body dedups onto stored chunks writes nothing and still succeeds.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dedup-while-full', Body: keep }));
    expect(tmpFiles(server)).toEqual([]);
    faults.length = 0;
    const body = randomBytes(3 * CHUNK);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'after-full', Body: body }));
    expect(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'after-full' }))))).toBe(md5(body));
  });
});

// A real full file system: a small tmpfs (needs root and permission to mount; skipped otherwise).
// Here SQLite fills up too (SQLITE_FULL on a commit), not only chunk writes.
const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

describe.skipIf(!canMount)('a real full disk (tmpfs)', () => {
  let mnt: string;
  let server: RunningServer | undefined;
  beforeAll(() => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
  });
  afterAll(async () => {
    await server?.close();
    execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });

  it('answers 507 while full, serves reads, leaves nothing behind, and heals when space returns', async () => {
    const dataDir = path.join(mnt, 'data');
    const config = loadConfig({
      port: 0, host: '127.0.0.1', adminPort: 0, dataDir, accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET,
      durability: 'fsync', chunkSize: CHUNK, gcInterval: 0, scrubInterval: 0, logLevel: process.env.CAIRN_TEST_LOG ?? 'silent',
    }, {});
    server = await startServer(config, { log: pino({ level: config.logLevel }) });
    const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
    try {
      const Bucket = 'full';
      await s3.send(new CreateBucketCommand({ Bucket }));
      const keep = randomBytes(4 * CHUNK);
      await s3.send(new PutObjectCommand({ Bucket, Key: 'keep', Body: keep }));
      // Fill the file system, leaving less room than the next object needs.
      const filler = path.join(mnt, 'filler');
      const free = () => fs.statfsSync(mnt).bavail * fs.statfsSync(mnt).bsize;
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 3 * CHUNK)));
      const files = new Set(chunkFiles(server));
      let refused = 0;
      for (let i = 0; i < 4; i++) {
        const e = await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: `big-${i}`, Body: randomBytes(8 * CHUNK) })));
        expect(e.$metadata.httpStatusCode).toBe(507);
        refused++;
        const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'keep' })));
        expect(got.equals(keep)).toBe(true);
      }
      expect(refused).toBe(4);
      expect(tmpFiles(server)).toEqual([]);
      expect(chunkFiles(server).filter((f) => !files.has(f))).toEqual([]);
      fs.rmSync(filler);
      const body = randomBytes(8 * CHUNK);
      await s3.send(new PutObjectCommand({ Bucket, Key: 'big-0', Body: body }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'big-0' })))).equals(body)).toBe(true);
    } finally {
      s3.destroy();
    }
  });
});
