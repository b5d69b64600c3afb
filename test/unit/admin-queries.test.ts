import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository, type ChunkPlacement } from '../../src/db/repository.js';
import { MultipartRepository } from '../../src/db/multipart-repository.js';
import { objectParts } from '../../src/db/schema.js';
import {
  bucketSummaries,
  chunkRecord,
  findObjects,
  objectRecord,
  objectsQuery,
  parseObjectQuery,
  QueryError,
  storeStats,
  type ObjectQuery,
} from '../../src/db/records/index.js';
import { FILTER_LIST } from '../../src/db/records/filters.js';

// Record queries against a real SQLite file seeded with a few thousand objects in three
// buckets. Chunk files are not needed: queries only read rows. Every answer is checked
// against a plain JS model of the same rows (filter + sort by (value, id)).

interface Model {
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

const BUCKETS = ['alpha', 'beta', 'gamma'];
const TYPES = ['text/plain', 'image/png', 'image/jpeg', 'application/json', null];
const ALGS = [null, 'CRC32', 'CRC32C', 'SHA256', 'CRC64NVME'];
const COLORS = ['red', 'green', 'blue'];
const BASE = Date.parse('2024-01-01T00:00:00Z');
const N = 3000;

let dir: string;
let opened: OpenedDb;
let repo: Repository;
const model: Model[] = [];
const bucketIds = new Map<string, number>();
const chunkSizes = new Map<string, number>();

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const rand = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const hashOf = (i: number) => createHash('sha256').update(`chunk-${i}`).digest('hex');

/** Keys shared across buckets (cross-bucket ties on key) and some non-ASCII ones (UTF-8 byte order). */
function keyFor(i: number): string {
  const dirs = ['logs/', 'img/', 'data/2024/', 'data/2025/', 'é/', '日本/', '😀/', ''];
  return `${dirs[i % dirs.length]}file-${String(Math.floor(i / 3)).padStart(5, '0')}${i % 5 === 0 ? '.txt' : '.bin'}`;
}

function insert(i: number, overrides: Partial<Model> = {}): Model {
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

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const sortValue = (m: Model, sort: ObjectQuery['sort']) => (sort === 'key' ? m.key : sort === 'size' ? m.size : m.lastModified);

function compare(a: Model, b: Model, sort: ObjectQuery['sort']): number {
  const va = sortValue(a, sort);
  const vb = sortValue(b, sort);
  const c = typeof va === 'string' ? Buffer.compare(utf8(va), utf8(vb as string)) : va - (vb as number);
  return c !== 0 ? c : a.id - b.id;
}

function expected(pred: (m: Model) => boolean, sort: ObjectQuery['sort'] = 'key', order: ObjectQuery['order'] = 'asc'): string[] {
  const rows = model.filter(pred).sort((a, b) => compare(a, b, sort) * (order === 'asc' ? 1 : -1));
  return rows.map((m) => `${m.bucket}/${m.key}`);
}

/** Every page of a query, checking each page's size and that nothing repeats. */
function collect(params: Record<string, string>, limit = 250): string[] {
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

const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryError) return e.field;
    throw e;
  }
  throw new Error('expected a QueryError');
};

describe('findObjects filters (each one against the model)', () => {
  it('no filter: every object in key order', () => {
    const all = collect({}, 1000);
    expect(all).toHaveLength(model.length);
    expect(all).toEqual(expected(() => true));
  });

  it('bucket', () => {
    expect(collect({ bucket: 'beta' })).toEqual(expected((m) => m.bucket === 'beta'));
    expect(collect({ bucket: 'empty' })).toEqual([]);
    expect(collect({ bucket: 'no-such-bucket' })).toEqual([]);
  });

  it('prefix, including multi-byte and emoji prefixes', () => {
    for (const prefix of ['logs/', 'data/2024/', 'data/', 'é/', '日本/file-0001', '😀/', 'nothing-here']) {
      const got = collect({ prefix });
      expect(got, prefix).toEqual(expected((m) => m.key.startsWith(prefix)));
    }
    expect(collect({ prefix: 'img/' }).length).toBeGreaterThan(0);
  });

  it('contains (exact, case-sensitive substring; % and _ are not wildcards)', () => {
    expect(collect({ contains: '0012' })).toEqual(expected((m) => m.key.includes('0012')));
    expect(collect({ contains: '.txt' })).toEqual(expected((m) => m.key.includes('.txt')));
    expect(collect({ contains: 'FILE' })).toEqual([]);
    expect(collect({ contains: '%' })).toEqual([]);
    expect(collect({ contains: '_' })).toEqual([]);
  });

  it('minSize and maxSize (inclusive; units accepted)', () => {
    expect(collect({ minSize: '1500' })).toEqual(expected((m) => m.size >= 1500));
    expect(collect({ maxSize: '0' })).toEqual(expected((m) => m.size === 0));
    expect(collect({ minSize: '1KiB', maxSize: '2KiB' })).toEqual(expected((m) => m.size >= 1024 && m.size <= 2048));
  });

  it('modifiedAfter (inclusive) and modifiedBefore (exclusive), dates and date-times with zones', () => {
    const t = BASE + 100 * 3_600_000;
    const iso = new Date(t).toISOString();
    expect(collect({ modifiedAfter: iso })).toEqual(expected((m) => m.lastModified >= t));
    expect(collect({ modifiedBefore: iso })).toEqual(expected((m) => m.lastModified < t));
    expect(collect({ modifiedAfter: '2024-01-05', modifiedBefore: '2024-01-10T02:00:00+02:00' })).toEqual(
      expected((m) => m.lastModified >= Date.parse('2024-01-05T00:00:00Z') && m.lastModified < Date.parse('2024-01-10T00:00:00Z')),
    );
    // after/before tile: the two halves are disjoint and cover everything.
    expect(collect({ modifiedAfter: iso }).length + collect({ modifiedBefore: iso }).length).toBe(model.length);
  });

  it('contentType, exact or type/*', () => {
    expect(collect({ contentType: 'image/png' })).toEqual(expected((m) => m.contentType === 'image/png'));
    expect(collect({ contentType: 'image/*' })).toEqual(expected((m) => m.contentType?.startsWith('image/') ?? false));
    expect(collect({ contentType: 'text/html' })).toEqual([]);
  });

  it('etag, with or without quotes, any case', () => {
    const e = model[17]!.etag;
    const want = expected((m) => m.etag === e);
    expect(want.length).toBeGreaterThan(1);
    expect(collect({ etag: e })).toEqual(want);
    expect(collect({ etag: e.replace(/"/g, '').toUpperCase() })).toEqual(want);
  });

  it('meta.<name>=<value>, one or several (names are case-insensitive like headers)', () => {
    expect(collect({ 'meta.color': 'red' })).toEqual(expected((m) => m.meta.color === 'red'));
    expect(collect({ 'meta.Color': 'red', 'meta.owner': 'u2' })).toEqual(expected((m) => m.meta.color === 'red' && m.meta.owner === 'u2'));
    expect(collect({ 'meta.color': 'RED' })).toEqual([]);
    expect(collect({ 'meta.nobody': 'x' })).toEqual([]);
  });

  it('checksumAlgorithm, any case, and NONE', () => {
    expect(collect({ checksumAlgorithm: 'crc32c' })).toEqual(expected((m) => m.checksumAlgorithm === 'CRC32C'));
    expect(collect({ checksumAlgorithm: 'NONE' })).toEqual(expected((m) => m.checksumAlgorithm === null));
  });
});

describe('findObjects combinations, sorts and orders', () => {
  const combos: Array<[Record<string, string>, (m: Model) => boolean]> = [
    [{ bucket: 'alpha', prefix: 'data/' }, (m) => m.bucket === 'alpha' && m.key.startsWith('data/')],
    [{ bucket: 'gamma', minSize: '500', contentType: 'image/*' }, (m) => m.bucket === 'gamma' && m.size >= 500 && (m.contentType?.startsWith('image/') ?? false)],
    [{ prefix: 'logs/', 'meta.color': 'blue', checksumAlgorithm: 'NONE' }, (m) => m.key.startsWith('logs/') && m.meta.color === 'blue' && m.checksumAlgorithm === null],
    [
      { contains: '.bin', modifiedAfter: '2024-01-10T00:00:00Z', maxSize: '1000' },
      (m) => m.key.includes('.bin') && m.lastModified >= Date.parse('2024-01-10T00:00:00Z') && m.size <= 1000,
    ],
  ];

  it('combinations match the model for every sort and order', () => {
    for (const [params, pred] of combos) {
      for (const sort of ['key', 'size', 'modified'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          expect(collect({ ...params, sort, order }, 97), JSON.stringify({ ...params, sort, order })).toEqual(expected(pred, sort, order));
        }
      }
    }
  });

  it('every sort and order over everything, with and without a bucket, pages of 1000 and of 7', () => {
    for (const sort of ['key', 'size', 'modified'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        expect(collect({ sort, order }, 1000)).toEqual(expected(() => true, sort, order));
        expect(collect({ bucket: 'alpha', sort, order }, 7)).toEqual(expected((m) => m.bucket === 'alpha', sort, order));
      }
    }
  });

  it('returns whole summaries', () => {
    const m = model.find((x) => x.checksumAlgorithm === 'SHA256' && x.meta.color)!;
    const [o] = findObjects(opened.db, parseObjectQuery({ bucket: m.bucket, prefix: m.key, limit: '1' })).objects;
    expect(o).toEqual({
      bucket: m.bucket,
      key: m.key,
      size: m.size,
      etag: m.etag,
      lastModified: new Date(m.lastModified).toISOString(),
      contentType: m.contentType ?? 'binary/octet-stream',
      storageClass: 'STANDARD',
      checksumAlgorithm: 'SHA256',
      checksumValue: 'AAAA',
      checksumType: 'FULL_OBJECT',
      partCount: null,
      metadata: m.meta,
    });
  });

  it('limit defaults to 100 and may be 1000', () => {
    expect(findObjects(opened.db, parseObjectQuery({})).objects).toHaveLength(100);
    expect(findObjects(opened.db, parseObjectQuery({ limit: '1000' })).objects).toHaveLength(1000);
  });
});

describe('keyset paging stability', () => {
  it('sees every row that existed once, even with rows inserted before and after the cursor between pages', () => {
    for (const sort of ['key', 'size', 'modified'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const before = new Set(expected((m) => m.bucket === 'gamma', sort, order));
        const seen: string[] = [];
        let cursor: string | undefined;
        let i = 0;
        do {
          const page = findObjects(opened.db, parseObjectQuery({ bucket: 'gamma', sort, order, limit: '50', ...(cursor ? { cursor } : {}) }));
          seen.push(...page.objects.map((o) => `${o.bucket}/${o.key}`));
          cursor = page.nextCursor;
          // New rows land all over the order: before the cursor, after it, tied with it.
          for (let j = 0; j < 3; j++) insert(1_000_000 + sort.length * 10_000 + (order === 'asc' ? 0 : 5_000) + i++ * 3 + j, { bucket: 'gamma', key: `new/${sort}-${order}-${i}-${j}` });
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length);
        for (const k of before) expect(seen, k).toContain(k);
      }
    }
  });

  it('a row tied on the sort value with the cursor row is neither repeated nor skipped', () => {
    const t = model[0]!.lastModified;
    const ties = expected((m) => m.lastModified === t, 'modified');
    expect(ties.length).toBeGreaterThan(2);
    const got = collect({ modifiedAfter: new Date(t).toISOString(), modifiedBefore: new Date(t + 1).toISOString(), sort: 'modified' }, 1);
    expect(got).toEqual(ties);
  });
});

describe('bad filters name the field', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ minSize: 'abc' }, 'minSize'],
    [{ maxSize: '-1' }, 'maxSize'],
    [{ minSize: '10', maxSize: '5' }, 'maxSize'],
    [{ modifiedAfter: 'yesterday' }, 'modifiedAfter'],
    [{ modifiedBefore: '2024-01-01T00:00:00' }, 'modifiedBefore'],
    [{ modifiedAfter: '2024-02-01', modifiedBefore: '2024-01-01' }, 'modifiedBefore'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '10.5' }, 'limit'],
    [{ sort: 'name' }, 'sort'],
    [{ order: 'up' }, 'order'],
    [{ cursor: 'garbage!' }, 'cursor'],
    [{ cursor: Buffer.from('{"s":"key","o":"asc","v":5,"i":1}').toString('base64url') }, 'cursor'],
    [{ checksumAlgorithm: 'MD5' }, 'checksumAlgorithm'],
    [{ etag: 'not-an-etag' }, 'etag'],
    [{ contentType: '' }, 'contentType'],
    [{ bucket: '' }, 'bucket'],
    [{ 'meta.': 'x' }, 'meta.'],
    [{ 'meta.a b': 'x' }, 'meta.a b'],
    [{ minsize: '1' }, 'minsize'],
  ];
  it.each(cases)('%j -> %s', (params, field) => {
    expect(fieldOf(() => parseObjectQuery(params))).toBe(field);
  });

  it('a cursor only continues the sort and order it was made for', () => {
    const { nextCursor } = findObjects(opened.db, parseObjectQuery({ sort: 'size', limit: '5' }));
    expect(fieldOf(() => parseObjectQuery({ sort: 'key', cursor: nextCursor! }))).toBe('cursor');
    expect(fieldOf(() => parseObjectQuery({ sort: 'size', order: 'desc', cursor: nextCursor! }))).toBe('cursor');
    expect(() => parseObjectQuery({ sort: 'size', cursor: nextCursor!, bucket: 'alpha' })).not.toThrow();
  });
});

describe('the filter definitions (src/db/records/filters.ts) drive the parser', () => {
  it('every defined filter is a parameter the parser knows (pairs filters as <name>.<key>)', () => {
    for (const { name, def } of FILTER_LIST) {
      const param = def.kind === 'pairs' ? `${name}.x` : name;
      let message = '';
      try {
        parseObjectQuery({ [param]: '' });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, name).not.toMatch(/unknown parameter/);
    }
    expect(fieldOf(() => parseObjectQuery({ meta: 'x' }))).toBe('meta');
  });
});

describe('query plans: index seeks, no full scan, no sort of the result set', () => {
  const plan = (params: Record<string, string>) => {
    let q = parseObjectQuery(params);
    const first = findObjects(opened.db, { ...q, limit: 3 });
    q = parseObjectQuery({ ...params, cursor: first.nextCursor! });
    const { sql, params: args } = objectsQuery(opened.db, q)!.toSQL();
    return (opened.sqlite.prepare(`explain query plan ${sql}`).all(...(args as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  };
  for (const sort of ['key', 'size', 'modified'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      for (const bucket of [undefined, 'alpha']) {
        it(`sort=${sort} order=${order} bucket=${bucket ?? '*'}`, () => {
          const p = plan({ sort, order, ...(bucket ? { bucket } : {}) });
          expect(p).toMatch(/SEARCH objects USING INDEX/);
          expect(p).not.toMatch(/TEMP B-TREE|SCAN objects/);
        });
      }
    }
  }
  it('prefix, etag and content type use their indexes', () => {
    expect(plan({ prefix: 'logs/' })).toMatch(/INDEX objects_key \(key>\? AND key<\?\)/);
    expect(plan({ bucket: 'beta', prefix: 'logs/' })).toMatch(/INDEX objects_bucket_key \(bucket_id=\? AND key>\? AND key<\?\)/);
    expect(plan({ etag: model[0]!.etag })).toMatch(/INDEX objects_etag \(etag=\?\)/);
  });
});

describe('ListObjects source query (Repository.listKeys)', () => {
  const plan = (prefix: string, after: string | undefined) => {
    const { sql, params: args } = repo.listKeysQuery(bucketIds.get('alpha')!, prefix, after, 65).toSQL();
    return (opened.sqlite.prepare(`explain query plan ${sql}`).all(...(args as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  };
  it('seeks from the larger of the prefix and the resume key: one lower bound, so a deep page is no walk from the prefix', () => {
    // Both bounds given to SQLite made it seek by one and filter by the other (20 s per page at 1M keys).
    expect(plan('logs/', 'logs/m')).toMatch(/INDEX objects_bucket_key \(bucket_id=\? AND key>\? AND key<\?\)/);
    const { params } = repo.listKeysQuery(1, 'logs/', 'logs/m', 65).toSQL();
    expect(params).toContain('logs/m');
    expect(params).not.toContain('logs/');
    // A resume key before the prefix: the prefix is the bound.
    expect(repo.listKeysQuery(1, 'logs/', 'a', 65).toSQL().params).not.toContain('a');
    expect(plan('', 'x')).toMatch(/INDEX objects_bucket_key \(bucket_id=\? AND key>\?\)/);
    expect(repo.listKeys(bucketIds.get('alpha')!, 'logs/', 'a', 5).every((r) => r.key.startsWith('logs/'))).toBe(true);
  });
});

describe('object and chunk records', () => {
  it('objectRecord lists chunks in order with CRC32C, refcount and whether each is shared', () => {
    const h1 = hashOf(9001);
    const h2 = hashOf(9002);
    const placements = [
      { hash: h1, size: 10, crc32c: 11, offset: 0 },
      { hash: h2, size: 10, crc32c: 22, offset: 10 },
      { hash: h1, size: 10, crc32c: 11, offset: 20 },
    ];
    repo.commitObject(bucketIds.get('alpha')!, 'rec/one', { size: 30, etag: '"' + 'a'.repeat(32) + '-2"', lastModified: BASE, partCount: 2, contentType: 'text/plain', cacheControl: 'no-cache' }, placements);
    let rec = objectRecord(opened.db, 'alpha', 'rec/one')!;
    expect(rec.chunks).toEqual([
      { seq: 0, offset: 0, size: 10, sha256: h1, crc32c: 11, refcount: 2, stored: 'file', shared: false },
      { seq: 1, offset: 10, size: 10, sha256: h2, crc32c: 22, refcount: 1, stored: 'file', shared: false },
      { seq: 2, offset: 20, size: 10, sha256: h1, crc32c: 11, refcount: 2, stored: 'file', shared: false },
    ]);
    expect(rec).toMatchObject({ bucket: 'alpha', key: 'rec/one', size: 30, partCount: 2, cacheControl: 'no-cache', contentEncoding: null, parts: [] });
    // A copy shares h2.
    repo.commitObject(bucketIds.get('beta')!, 'rec/copy', { size: 10, etag: '"' + 'b'.repeat(32) + '"', lastModified: BASE }, [{ hash: h2, size: 10, crc32c: 22, offset: 0 }]);
    rec = objectRecord(opened.db, 'alpha', 'rec/one')!;
    expect(rec.chunks.map((c) => c.shared)).toEqual([false, true, false]);
    // A chunk whose bytes live in its row says so, here and in its own record.
    const h3 = hashOf(9003);
    repo.commitObject(bucketIds.get('beta')!, 'rec/tiny', { size: 3, etag: '"' + 'c'.repeat(32) + '"', lastModified: BASE }, [{ hash: h3, size: 3, crc32c: 33, offset: 0, data: Buffer.from('abc') }]);
    expect(objectRecord(opened.db, 'beta', 'rec/tiny')!.chunks).toEqual([{ seq: 0, offset: 0, size: 3, sha256: h3, crc32c: 33, refcount: 1, stored: 'inline', shared: false }]);
    expect(chunkRecord(opened.db, h3)).toMatchObject({ stored: 'inline', refcount: 1 });
    expect(chunkRecord(opened.db, h2)).toMatchObject({ stored: 'file' });
    const { id } = repo.getObject(bucketIds.get('alpha')!, 'rec/one')!;
    opened.db.insert(objectParts).values([
      { objectId: id, partNumber: 1, offset: 0, size: 20, checksumValue: 'x' },
      { objectId: id, partNumber: 2, offset: 20, size: 10, checksumValue: null },
    ]).run();
    expect(objectRecord(opened.db, 'alpha', 'rec/one')!.parts).toEqual([
      { partNumber: 1, offset: 0, size: 20, checksum: 'x' },
      { partNumber: 2, offset: 20, size: 10, checksum: null },
    ]);
    expect(objectRecord(opened.db, 'alpha', 'rec/none')).toBeUndefined();
    expect(objectRecord(opened.db, 'nope', 'rec/one')).toBeUndefined();
  });

  it('chunkRecord lists the objects and upload parts that reference a chunk', () => {
    const h = hashOf(9100);
    repo.commitObject(bucketIds.get('alpha')!, 'chunk/a', { size: 5, etag: '"' + 'c'.repeat(32) + '"', lastModified: BASE }, [{ hash: h, size: 5, crc32c: 3, offset: 0 }]);
    repo.commitObject(bucketIds.get('gamma')!, 'chunk/b', { size: 10, etag: '"' + 'd'.repeat(32) + '"', lastModified: BASE }, [
      { hash: hashOf(9101), size: 5, crc32c: 4, offset: 0 },
      { hash: h, size: 5, crc32c: 3, offset: 5 },
    ]);
    const mp = new MultipartRepository(opened.db, repo);
    mp.createUpload({ id: 'upload-1', bucketId: bucketIds.get('beta')!, key: 'big', initiated: Date.now() });
    mp.commitPart('upload-1', { partNumber: 3, size: 5, etag: '"e"', checksumValue: null, lastModified: Date.now() }, [{ hash: h, size: 5, crc32c: 3, offset: 0 }]);
    const rec = chunkRecord(opened.db, h)!;
    expect(rec).toMatchObject({ sha256: h, size: 5, crc32c: 3, refcount: 3 });
    expect(rec.objects).toEqual(
      expect.arrayContaining([
        { bucket: 'alpha', key: 'chunk/a', seq: 0, offset: 0 },
        { bucket: 'gamma', key: 'chunk/b', seq: 1, offset: 5 },
      ]),
    );
    expect(rec.objects).toHaveLength(2);
    expect(rec.uploads).toEqual([{ uploadId: 'upload-1', bucket: 'beta', key: 'big', partNumber: 3 }]);
    expect(rec.truncated).toBeUndefined();
    expect(chunkRecord(opened.db, hashOf(123456))).toBeUndefined();
    mp.abort('upload-1');
  });
});

describe('bucket summaries and store stats', () => {
  it('count objects, logical bytes and distinct chunk bytes per bucket', () => {
    const rows = opened.sqlite
      .prepare(
        `select b.name, o.size, oc.chunk_hash as hash, c.size as csize from objects o join buckets b on b.id = o.bucket_id
         left join object_chunks oc on oc.object_id = o.id left join chunks c on c.hash = oc.chunk_hash`,
      )
      .all() as Array<{ name: string; size: number; hash: string | null; csize: number | null }>;
    const summaries = bucketSummaries(opened.db);
    expect(summaries.map((s) => s.name)).toEqual(['alpha', 'beta', 'empty', 'gamma']);
    for (const s of summaries) {
      const objectsIn = opened.sqlite.prepare('select count(*) n, coalesce(sum(size),0) bytes from objects where bucket_id = (select id from buckets where name = ?)').get(s.name) as { n: number; bytes: number };
      const distinct = new Map(rows.filter((r) => r.name === s.name && r.hash).map((r) => [r.hash!, r.csize!]));
      expect(s).toMatchObject({ objects: objectsIn.n, logicalBytes: objectsIn.bytes, physicalBytes: [...distinct.values()].reduce((a, b) => a + b, 0), region: 'us-east-1' });
    }
    expect(summaries.find((s) => s.name === 'beta')!.public).toBe(true);
    expect(summaries.find((s) => s.name === 'empty')).toMatchObject({ objects: 0, logicalBytes: 0, physicalBytes: 0 });
  });

  it('storeStats totals and dedup ratio', () => {
    const s = storeStats(opened.db);
    const o = opened.sqlite.prepare('select count(*) n, sum(size) bytes from objects').get() as { n: number; bytes: number };
    const c = opened.sqlite.prepare('select count(*) n, sum(size) bytes from chunks').get() as { n: number; bytes: number };
    expect(s).toMatchObject({ buckets: 4, objects: o.n, logicalBytes: o.bytes, chunks: c.n, physicalBytes: c.bytes, multipartUploads: 0, multipartParts: 0 });
    expect(s.dedupRatio).toBeCloseTo(o.bytes / c.bytes, 3);
    expect(s.dedupRatio).toBeGreaterThan(1);
  });

  it('an empty store has a dedup ratio of 1', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-admin-e-'));
    const e = openDb(path.join(d, 'cairn.db'), { durability: 'relaxed' });
    try {
      expect(storeStats(e.db)).toEqual({ buckets: 0, objects: 0, logicalBytes: 0, physicalBytes: 0, chunks: 0, dedupRatio: 1, multipartUploads: 0, multipartParts: 0 });
      expect(bucketSummaries(e.db)).toEqual([]);
    } finally {
      e.close();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
