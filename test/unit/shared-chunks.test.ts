// Several gateways on one chunk folder and one database (shared mode): each gateway's temp
// folder is its own, and GC across gateways never deletes a chunk a committed row references
// while writers dedup onto chunks that overwrites and deletes keep freeing.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { ChunkStore } from '../../src/storage/chunk-store.js';
import { LocalDiskBackend } from '../../src/storage/local-disk.js';
import { BufferPool } from '../../src/storage/pool.js';
import { ObjectService } from '../../src/storage/object-service.js';
import { runGc } from '../../src/storage/gc.js';
import type { BucketRow } from '../../src/store/types.js';
import { age, chunkHashes } from '../helpers/storage-env.js';

const CHUNK = 64 * 1024;
const GRACE = 300;
let dir: string;
const opened: OpenedDb[] = [];

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-shared-'));
});
afterEach(async () => {
  for (const d of opened.splice(0)) d.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('temp folders on a shared chunk folder', () => {
  it('each gateway writes in tmp/<id>; start-up sweeps its own and dead gateways\' folders, never a live one\'s', async () => {
    const a = new LocalDiskBackend({ dataDir: dir, durability: 'fsync', gatewayId: 'gw-a', deadGatewayMs: 60_000 });
    const b = new LocalDiskBackend({ dataDir: dir, durability: 'fsync', gatewayId: 'gw-b', deadGatewayMs: 60_000 });
    await a.init();
    await b.init();
    expect(a.tmpDir).toBe(path.join(dir, 'tmp', 'gw-a'));
    // A write of b in progress, a dead gateway's leftovers, and a leftover of a's earlier run.
    await fs.writeFile(path.join(b.tmpDir, 'in-flight'), 'x');
    await fs.mkdir(path.join(dir, 'tmp', 'gw-dead'));
    await fs.writeFile(path.join(dir, 'tmp', 'gw-dead', 'leftover'), 'y');
    await age(path.join(dir, 'tmp', 'gw-dead', 'leftover'), 120_000);
    await age(path.join(dir, 'tmp', 'gw-dead'), 120_000);
    await fs.writeFile(path.join(a.tmpDir, 'mine'), 'z');
    const again = new LocalDiskBackend({ dataDir: dir, durability: 'fsync', gatewayId: 'gw-a', deadGatewayMs: 60_000 });
    expect(await again.init()).toEqual({ sweptTmpFiles: 2 });
    expect((await fs.readdir(path.join(dir, 'tmp'))).sort()).toEqual(['gw-a', 'gw-b']);
    expect(await fs.readdir(b.tmpDir)).toEqual(['in-flight']);
    // b is idle but alive: its heartbeat keeps its folder fresh; a folder swept away comes back.
    await age(b.tmpDir, 120_000);
    await b.heartbeat();
    await new LocalDiskBackend({ dataDir: dir, durability: 'fsync', gatewayId: 'gw-c', deadGatewayMs: 60_000 }).init();
    expect(await fs.readdir(b.tmpDir)).toEqual(['in-flight']);
    await fs.rm(b.tmpDir, { recursive: true });
    const data = randomBytes(100);
    await b.put(createHash('sha256').update(data).digest('hex'), data);
  });

  it('ids are checked (they name a folder)', () => {
    expect(() => new LocalDiskBackend({ dataDir: dir, durability: 'fsync', gatewayId: '../x' })).toThrow(/invalid gateway id/);
  });
});

interface Gateway {
  meta: SqliteStore;
  store: ChunkStore;
  objects: ObjectService;
  bucket: BucketRow;
}

/**
 * The local folder without its atomic move aside: age, row check, delete, as a backend that
 * cannot rename (S3) does it. Here only the claims keep a chunk being reused from going.
 */
class NoAsideBackend extends LocalDiskBackend {
  /** Set by a test: the removal waits for it between its decision and the delete. */
  gate?: Promise<void>;
  decided?: () => void;
  override async deleteIfStale(hash: string, opts: { graceMs: number; stillOrphan: () => Promise<boolean> }) {
    const st = await this.stat(hash);
    if (!st || st.mtimeMs > Date.now() - opts.graceMs || !(await opts.stillOrphan())) return { removed: false, size: 0 };
    this.decided?.();
    await this.gate;
    // S3's round trips: a reuse and a commit elsewhere fit in here.
    await sleep(15);
    return { removed: await this.delete(hash), size: st.size };
  }
}

async function gateway(id: string, freedTtlMs = GRACE, noAside = false): Promise<Gateway> {
  const db = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  opened.push(db);
  const meta = SqliteStore.over(db);
  const shared = { claims: meta.claims, gatewayId: id, claimTtlMs: 30_000, freedTtlMs };
  const store = noAside
    ? new ChunkStore({ backend: new NoAsideBackend({ dataDir: dir, durability: 'relaxed', gatewayId: id }), shared })
    : new ChunkStore({ dataDir: dir, durability: 'relaxed', gatewayId: id, shared });
  await store.init();
  const objects = new ObjectService({ meta, store, pool: new BufferPool({ bufferSize: CHUNK, buffers: 8 }), maxBuffersPerRequest: 4 });
  if (!(await meta.buckets.get('bkt'))) await meta.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  return { meta, store, objects, bucket: (await meta.buckets.get('bkt'))! };
}

async function readAll(g: Gateway, key: string): Promise<Buffer | undefined> {
  const obj = await g.objects.headObject(g.bucket, key).catch(() => undefined);
  if (!obj) return undefined;
  const parts: Buffer[] = [];
  for await (const p of await g.objects.openRead(obj, 0, obj.size - 1)) parts.push(Buffer.from(p as Buffer));
  return Buffer.concat(parts);
}

describe('GC across two gateways (one folder, one database, shared mode)', () => {
  it.each([['the local folder', false], ['a backend that cannot move aside (as S3)', true]])('%s: never deletes a chunk a committed row references, freed chunks collectable at once', async (_name, noAside) => {
    // Freed chunks claimed for 1 ms and GC without grace: collectors race writers that dedup onto them.
    const [a, b] = [await gateway('gw-a', 1, noAside), await gateway('gw-b', 1, noAside)];
    // Few distinct payloads sharing chunks: every PUT dedups onto chunks other writes keep freeing.
    const blocks = Array.from({ length: 4 }, () => randomBytes(CHUNK));
    const payload = (i: number) => Buffer.concat([blocks[i % 4]!, blocks[(i + 1) % 4]!]);
    const expected = new Map<string, number>();
    const gcs = { busy: 0, removed: 0 };
    const gc = async (g: Gateway) => {
      const r = await runGc({ dataDir: dir, meta: g.meta, store: g.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
      if (r.busy) gcs.busy++;
      gcs.removed += r.orphanChunks;
    };
    for (let round = 0; round < 25; round++) {
      const ops: Array<Promise<unknown>> = [];
      for (let i = 0; i < 6; i++) {
        const g = i % 2 === 0 ? a : b;
        const key = `k${i % 3}`;
        const n = (round + i) % 4;
        if ((round + i) % 5 === 4) ops.push(g.objects.deleteObject(g.bucket, key).then(() => expected.delete(key)));
        else ops.push(g.objects.putObject({ bucket: g.bucket, key, body: Readable.from([payload(n)]), attributes: { userMetadata: {} } }).then(() => expected.set(key, n)));
      }
      // Collectors on both gateways with no grace at all: only the claims keep chunks in use.
      ops.push(gc(a), gc(b), gc(a));
      await Promise.all(ops);
      // Every chunk a row references is stored, and every object reads back whole from both sides.
      const rows = (await a.meta.maintenance.knownChunks(await chunkHashes(dir))).size;
      const referenced = a.meta.opened.sqlite.prepare('select hash from chunks').all() as Array<{ hash: string }>;
      for (const { hash } of referenced) expect(await a.store.exists(hash), `chunk ${hash} of a row`).toBe(true);
      expect(rows).toBe(referenced.length);
      for (const key of ['k0', 'k1', 'k2']) {
        const [fromA, fromB] = [await readAll(a, key), await readAll(b, key)];
        expect(fromA?.equals(fromB ?? Buffer.alloc(0)) ?? fromB === undefined).toBe(true);
      }
    }
    expect(gcs.removed).toBeGreaterThan(0);
  });

  it('a PUT that dedups onto a chunk while another gateway removes it waits, then stores it afresh', async () => {
    const [a, b] = [await gateway('gw-a', 1, true), await gateway('gw-b', 1, true)];
    const data = randomBytes(CHUNK + 10);
    await a.objects.putObject({ bucket: a.bucket, key: 'first', body: Readable.from([data]), attributes: { userMetadata: {} } });
    await a.objects.deleteObject(a.bucket, 'first');
    await sleep(5);
    const backend = b.store.backend as NoAsideBackend;
    let open!: () => void;
    backend.gate = new Promise((r) => (open = r));
    const decided = new Promise<void>((r) => (backend.decided = r));
    const collecting = runGc({ dataDir: dir, meta: b.meta, store: b.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
    await decided;
    // b's collector has decided to remove the chunks; a writes the same bytes now.
    const put = a.objects.putObject({ bucket: a.bucket, key: 'second', body: Readable.from([data]), attributes: { userMetadata: {} } });
    await sleep(50);
    open();
    await Promise.all([collecting, put]);
    expect((await readAll(b, 'second'))?.equals(data)).toBe(true);
  });

  it('chunks freed by a commit stay until the grace period is over, then the collector takes them', async () => {
    const [a, b] = [await gateway('gw-a'), await gateway('gw-b')];
    for (const key of ['k0', 'k1', 'k2']) await a.objects.putObject({ bucket: a.bucket, key, body: Readable.from([randomBytes(CHUNK + 10)]), attributes: { userMetadata: {} } });
    expect((await readAll(b, 'k1'))?.length).toBe(CHUNK + 10);
    // Everything deleted: the chunks are orphans, claimed as freed for the grace period.
    for (const key of ['k0', 'k1', 'k2']) await a.objects.deleteObject(a.bucket, key);
    expect(await chunkHashes(dir)).not.toEqual([]);
    await runGc({ dataDir: dir, meta: b.meta, store: b.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
    expect(await chunkHashes(dir)).not.toEqual([]);
    await sleep(GRACE + 50);
    const last = await runGc({ dataDir: dir, meta: b.meta, store: b.store }, { graceMs: 0, multipartExpiryMs: 86_400_000 });
    expect(last.busy).toBeUndefined();
    expect(await chunkHashes(dir)).toEqual([]);
    expect(last.orphanChunks).toBe(6);
  });
});
