import { afterAll, beforeAll, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository, type ChunkPlacement } from '../../src/db/repository.js';
import { findObjects, parseObjectQuery, QueryError, type ObjectQuery } from '../../src/db/records/index.js';

// The records query tests' data (test/unit/admin-queries.test.ts, admin-records.test.ts): a real
// SQLite file seeded with a few thousand objects in three buckets, and a plain JS model of the same
// rows (filter + sort by (value, id)) to check every answer against. Chunk files are not needed:
// queries only read rows. The seed is fixed, so every test file gets the same rows.

export interface Model {
  id: number;
  bucket: string;
  key: string;
  size: number;
  lastModified: number;
  contentType: string | null;
  etag: string;
  meta: Record<string, string>;
  checksumAlgorithm: string | null;
  hashes: string[];
}

export const BUCKETS = ['alpha', 'beta', 'gamma'];
export const TYPES = ['text/plain', 'image/png', 'image/jpeg', 'application/json', null];
export const ALGS = [null, 'CRC32', 'CRC32C', 'SHA256', 'CRC64NVME'];
export const COLORS = ['red', 'green', 'blue'];
export const BASE = Date.parse('2024-01-01T00:00:00Z');
export const N = 3000;

let dir: string;
export let opened: OpenedDb;
export let repo: Repository;
export const model: Model[] = [];
export const bucketIds = new Map<string, number>();
export const chunkSizes = new Map<string, number>();

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const rand = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const hashOf = (i: number) => createHash('sha256').update(`chunk-${i}`).digest('hex');

/** Keys shared across buckets (cross-bucket ties on key) and some non-ASCII ones (UTF-8 byte order). */
function keyFor(i: number): string {
  const dirs = ['logs/', 'img/', 'data/2024/', 'data/2025/', 'é/', '日本/', '😀/', ''];
  return `${dirs[i % dirs.length]}file-${String(Math.floor(i / 3)).padStart(5, '0')}${i % 5 === 0 ? '.txt' : '.bin'}`;
}

export function insert(i: number, overrides: Partial<Model> = {}): Model {
  const bucket = overrides.bucket ?? BUCKETS[i % 3]!;
  const nChunks = Math.floor(rand() * 4);
  const hashes = Array.from({ length: nChunks }, () => hashOf(Math.floor(rand() * 400)));
  let offset = 0;
  const placements: ChunkPlacement[] = hashes.map((hash) => {
    if (!chunkSizes.has(hash)) chunkSizes.set(hash, 100 + Math.floor(rand() * 1000));
    const p = { hash, size: chunkSizes.get(hash)!, crc32c: 7, offset };
    offset += p.size;
    return p;
  });
  const m: Omit<Model, 'id'> = {
    bucket,
    key: keyFor(i),
    size: offset,
    // Few distinct times: lots of ties, so the id tie-breaker matters.
    lastModified: BASE + Math.floor(rand() * 500) * 3_600_000,
    contentType: pick(TYPES),
    etag: `"${createHash('md5').update(`etag-${i % 1000}`).digest('hex')}"`,
    meta: rand() < 0.7 ? { color: pick(COLORS), owner: `u${i % 4}` } : {},
    checksumAlgorithm: pick(ALGS),
    hashes,
    ...overrides,
  };
  const { object } = repo.commitObject(
    bucketIds.get(bucket)!,
    m.key,
    {
      size: m.size,
      etag: m.etag,
      lastModified: m.lastModified,
      contentType: m.contentType,
      userMetadata: JSON.stringify(m.meta),
      checksumAlgorithm: m.checksumAlgorithm,
      checksumValue: m.checksumAlgorithm ? 'AAAA' : null,
      checksumType: m.checksumAlgorithm ? 'FULL_OBJECT' : null,
    },
    placements,
  );
  const row = { ...m, id: object.id };
  const old = model.findIndex((x) => x.bucket === bucket && x.key === m.key);
  if (old >= 0) model.splice(old, 1);
  model.push(row);
  return row;
}

/** Seeds a fresh SQLite file before the calling test file's tests, and removes it after. */
export function useSeededRecords(): void {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-admin-q-'));
    opened = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
    repo = new Repository(opened.db);
    for (const name of BUCKETS) {
      repo.createBucket({ name, region: 'us-east-1', publicRead: name === 'beta' });
      bucketIds.set(name, repo.getBucket(name)!.id);
    }
    repo.createBucket({ name: 'empty', region: 'us-east-1', publicRead: false });
    opened.sqlite.transaction(() => {
      for (let i = 0; i < N; i++) insert(i);
    })();
  });

  afterAll(() => {
    opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const sortValue = (m: Model, sort: ObjectQuery['sort']) => (sort === 'key' ? m.key : sort === 'size' ? m.size : m.lastModified);

function compare(a: Model, b: Model, sort: ObjectQuery['sort']): number {
  const va = sortValue(a, sort);
  const vb = sortValue(b, sort);
  const c = typeof va === 'string' ? Buffer.compare(utf8(va), utf8(vb as string)) : va - (vb as number);
  return c !== 0 ? c : a.id - b.id;
}

export function expected(pred: (m: Model) => boolean, sort: ObjectQuery['sort'] = 'key', order: ObjectQuery['order'] = 'asc'): string[] {
  const rows = model.filter(pred).sort((a, b) => compare(a, b, sort) * (order === 'asc' ? 1 : -1));
  return rows.map((m) => `${m.bucket}/${m.key}`);
}

/** Every page of a query, checking each page's size and that nothing repeats. */
export function collect(params: Record<string, string>, limit = 250): string[] {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = findObjects(opened.db, parseObjectQuery({ ...params, limit: String(limit), ...(cursor ? { cursor } : {}) }));
    expect(page.objects.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor) expect(page.objects.length).toBe(limit);
    out.push(...page.objects.map((o) => `${o.bucket}/${o.key}`));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  expect(new Set(out).size).toBe(out.length);
  return out;
}

export const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryError) return e.field;
    throw e;
  }
  throw new Error('expected a QueryError');
};
