import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import type { Repository } from '../../src/db/repository.js';
import type { BucketRow } from '../../src/store/types.js';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { MultipartRepository } from '../../src/db/multipart-repository.js';
import { ChunkStore } from '../../src/storage/chunk-store.js';
import { BufferPool } from '../../src/storage/pool.js';
import { ObjectService } from '../../src/storage/object-service.js';
import { MultipartService } from '../../src/storage/multipart-service.js';

// A real data dir (SQLite + chunk files) with the storage services and no HTTP: what GC and
// scrub run against. Small chunks so a few KiB make multi-chunk objects.

export const CHUNK = 64 * 1024;

export interface StorageEnv {
  dataDir: string;
  db: OpenedDb;
  meta: SqliteStore;
  repo: Repository;
  mp: MultipartRepository;
  store: ChunkStore;
  objects: ObjectService;
  multipart: MultipartService;
  bucket: BucketRow;
  put(key: string, data: Buffer | AsyncIterable<Buffer>): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Another process on the same data dir: its own SQLite connection and chunk store (no shared pins). */
  otherProcess(): Promise<Pick<StorageEnv, 'db' | 'meta' | 'repo' | 'mp' | 'store'>>;
  close(): Promise<void>;
}

export async function openStorageEnv(): Promise<StorageEnv> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-maint-'));
  const opened: OpenedDb[] = [];
  const open = async () => {
    const db = openDb(path.join(dataDir, 'cairn.db'), { durability: 'relaxed' });
    opened.push(db);
    const meta = SqliteStore.over(db);
    const repo = meta.repo;
    const store = new ChunkStore({ dataDir, durability: 'relaxed' });
    await store.init();
    return { db, meta, repo, mp: new MultipartRepository(db.db, repo), store };
  };
  const { db, meta, repo, mp, store } = await open();
  const pool = new BufferPool({ bufferSize: CHUNK, buffers: 8 });
  const objects = new ObjectService({ meta, store, pool, maxBuffersPerRequest: 4 });
  const multipart = new MultipartService(meta, objects);
  repo.createBucket({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  const bucket = repo.getBucket('bkt')!;
  return {
    dataDir,
    db,
    meta,
    repo,
    mp,
    store,
    objects,
    multipart,
    bucket,
    async put(key, data) {
      const body = Buffer.isBuffer(data) ? Readable.from([data]) : data;
      await objects.putObject({ bucket, key, body, attributes: { userMetadata: {} } });
    },
    async get(key) {
      const obj = await objects.headObject(bucket, key);
      const parts: Buffer[] = [];
      for await (const p of await objects.openRead(obj, 0, obj.size - 1)) parts.push(p as Buffer);
      return Buffer.concat(parts);
    },
    otherProcess: () => open(),
    async close() {
      for (const d of opened) d.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sets a file's mtime (and atime) `ageMs` into the past. */
export async function age(file: string, ageMs: number): Promise<void> {
  const t = new Date(Date.now() - ageMs);
  await fs.utimes(file, t, t);
}

/** Every chunk file name (hash) under chunks/. */
export async function chunkHashes(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'chunks');
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((d) => d.isFile()).map((d) => d.name).sort();
}
