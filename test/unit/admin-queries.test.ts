import { describe, expect, it } from 'vitest';
import { findObjects, objectsQuery, parseObjectQuery } from '../../src/db/records/index.js';
import { FILTER_LIST } from '../../src/db/records/filters.js';
import { accountIds, BASE, collect, expected, fieldOf, insert, isLatest, isLocked, label, model, opened, useSeededRecords, type Model } from '../helpers/records-model.js';

// Record queries (filters, sorts, keyset paging, bad filters, query plans) against a real SQLite
// file, every answer checked against a plain JS model of the same rows (../helpers/records-model.ts).
// Object and chunk records and the totals: admin-records.test.ts.

useSeededRecords();

describe('findObjects filters (each one against the model)', () => {
  it('no filter: every current object in key order (no older version, no delete marker)', () => {
    const all = collect({}, 1000);
    const current = model.filter((m) => m.isCurrent);
    expect(current.length).toBeLessThan(model.length);
    expect(all).toHaveLength(current.length);
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
    expect(collect({ modifiedAfter: iso }).length + collect({ modifiedBefore: iso }).length).toBe(expected(() => true).length);
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

  it('encryption: SSE-S3 (or AES256), SSE-C, none, any case; each summary says which', () => {
    const sseS3 = expected((m) => m.encryption === 'AES256');
    expect(sseS3.length).toBeGreaterThan(10);
    expect(collect({ encryption: 'SSE-S3' })).toEqual(sseS3);
    expect(collect({ encryption: 'aes256' })).toEqual(sseS3);
    expect(collect({ encryption: 'sse-c' })).toEqual(expected((m) => m.encryption === 'SSE-C'));
    expect(collect({ encryption: 'none', bucket: 'beta' })).toEqual(expected((m) => m.encryption === null && m.bucket === 'beta'));
    // Every version: delete markers are 'none'.
    expect(collect({ encryption: 'NONE', versions: 'true' }, 1000)).toEqual(expected((m) => m.encryption === null, 'key', 'asc', 'all'));
    expect(fieldOf(() => parseObjectQuery({ encryption: 'aws:kms' }))).toBe('encryption');
    expect(fieldOf(() => parseObjectQuery({ encryption: '' }))).toBe('encryption');
    const page = findObjects(opened.db, parseObjectQuery({ encryption: 'SSE-C', limit: '1000' })).objects;
    expect(page.length).toBeGreaterThan(0);
    for (const o of page) {
      const m = model.find((x) => x.isCurrent && x.bucket === o.bucket && x.key === o.key)!;
      expect(o.encryption).toEqual({ mode: 'SSE-C', algorithm: 'AES256', customerKeyMd5: m.sseCustomerKeyMd5 });
    }
  });

  it('owner, by name or canonical id: the writer, else the bucket owner (an unknown account owns nothing)', () => {
    const alice = accountIds.get('alice')!;
    const bob = accountIds.get('bob')!;
    const byBob = expected((m) => m.owner === bob);
    // Both halves are there: bob's bucket (gamma), and what bob wrote into alice's buckets.
    expect(model.some((m) => m.isCurrent && m.owner === bob && m.bucket !== 'gamma')).toBe(true);
    expect(model.some((m) => m.isCurrent && m.owner === alice && m.bucket === 'gamma')).toBe(true);
    expect(collect({ owner: 'bob' })).toEqual(byBob);
    expect(collect({ owner: bob })).toEqual(byBob);
    expect(collect({ owner: 'alice', bucket: 'gamma' })).toEqual(expected((m) => m.owner === alice && m.bucket === 'gamma'));
    expect(collect({ owner: 'alice', versions: 'true' }, 1000)).toEqual(expected((m) => m.owner === alice, 'key', 'asc', 'all'));
    expect(collect({ owner: 'nobody' })).toEqual([]);
    expect(collect({ owner: 'f'.repeat(64) })).toEqual([]);
    expect(fieldOf(() => parseObjectQuery({ owner: '' }))).toBe('owner');
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
    const m = model.find((x) => x.isCurrent && x.checksumAlgorithm === 'SHA256' && x.meta.color && x.lockMode === 'GOVERNANCE')!;
    const [o] = findObjects(opened.db, parseObjectQuery({ bucket: m.bucket, prefix: m.key, limit: '1' })).objects;
    expect(o).toEqual({
      bucket: m.bucket,
      key: m.key,
      versionId: m.versionId,
      owner: { id: m.owner, name: m.owner === accountIds.get('bob') ? 'bob' : 'alice' },
      isLatest: true,
      deleteMarker: false,
      lock: { mode: 'GOVERNANCE', retainUntil: new Date(m.lockUntil!).toISOString(), legalHold: false },
      encryption: m.encryption === 'AES256' ? { mode: 'SSE-S3', algorithm: 'AES256', customerKeyMd5: null }
        : m.encryption === 'SSE-C' ? { mode: 'SSE-C', algorithm: 'AES256', customerKeyMd5: m.sseCustomerKeyMd5 }
        : { mode: 'none', algorithm: null, customerKeyMd5: null },
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

describe('versions, delete markers and locks', () => {
  it('versions=true: every version and delete marker, for every sort and order, with and without a bucket', () => {
    expect(model.some((m) => m.deleteMarker)).toBe(true);
    for (const sort of ['key', 'size', 'modified'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        expect(collect({ versions: 'true', sort, order }, 1000)).toEqual(expected(() => true, sort, order, 'all'));
        // Pages of 7 end inside one key's versions.
        expect(collect({ versions: 'true', bucket: 'alpha', sort, order }, 7)).toEqual(expected((m) => m.bucket === 'alpha', sort, order, 'all'));
      }
    }
    expect(collect({ versions: 'false' })).toEqual(collect({}));
  });

  it('versions=true with other filters', () => {
    expect(collect({ versions: 'true', prefix: 'logs/' })).toEqual(expected((m) => m.key.startsWith('logs/'), 'key', 'asc', 'all'));
    expect(collect({ versions: 'true', bucket: 'beta', prefix: 'img/', order: 'desc' }, 5)).toEqual(
      expected((m) => m.bucket === 'beta' && m.key.startsWith('img/'), 'key', 'desc', 'all'),
    );
    expect(collect({ versions: 'true', minSize: '1', sort: 'size' })).toEqual(expected((m) => m.size >= 1, 'size', 'asc', 'all'));
  });

  it('each version says its id, whether it is the latest, whether it is a delete marker, and its lock', () => {
    const byLabel = new Map(model.map((m) => [label(m), m]));
    let seen = 0;
    let cursor: string | undefined;
    do {
      const page = findObjects(opened.db, parseObjectQuery({ versions: 'true', bucket: 'gamma', limit: '1000', ...(cursor ? { cursor } : {}) }));
      for (const o of page.objects) {
        const m = byLabel.get(label(o))!;
        expect(o, label(o)).toMatchObject({
          isLatest: isLatest(m),
          deleteMarker: m.deleteMarker,
          size: m.size,
          lock: { mode: m.lockMode, retainUntil: m.lockUntil === null ? null : new Date(m.lockUntil).toISOString(), legalHold: m.legalHold },
        });
        seen++;
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toBe(expected((m) => m.bucket === 'gamma', 'key', 'asc', 'all').length);
    // A delete marker that is the newest version of its key is its latest; its key has no current object.
    const marker = model.find((m) => m.deleteMarker && isLatest(m))!;
    expect(collect({ bucket: marker.bucket, prefix: marker.key })).not.toContain(`${marker.bucket}/${marker.key}`);
  });

  it('locked=true: retention still ahead or a legal hold; locked=false: the others', () => {
    expect(model.some((m) => m.lockMode !== null && !isLocked(m))).toBe(true);
    const locked = collect({ locked: 'true', versions: 'true' });
    expect(locked.length).toBeGreaterThan(0);
    expect(locked).toEqual(expected((m) => isLocked(m), 'key', 'asc', 'all'));
    expect(collect({ locked: 'true' })).toEqual(expected((m) => isLocked(m)));
    expect(collect({ locked: 'false', versions: 'true', sort: 'modified' })).toEqual(expected((m) => !isLocked(m), 'modified', 'asc', 'all'));
    expect(collect({ locked: 'true', bucket: 'beta', versions: 'true', sort: 'size', order: 'desc' }, 3)).toEqual(
      expected((m) => m.bucket === 'beta' && isLocked(m), 'size', 'desc', 'all'),
    );
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
          seen.push(...page.objects.map(label));
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
    [{ versions: 'yes' }, 'versions'],
    [{ locked: '1' }, 'locked'],
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
        for (const versions of ['false', 'true']) {
          it(`sort=${sort} order=${order} bucket=${bucket ?? '*'} versions=${versions}`, () => {
            const p = plan({ sort, order, versions, ...(bucket ? { bucket } : {}) });
            expect(p).toMatch(/SEARCH objects USING INDEX/);
            expect(p).not.toMatch(/TEMP B-TREE|SCAN objects/);
          });
        }
      }
    }
  }
  it('by key, a bucket\'s current objects come from objects_current, its versions from objects_versions', () => {
    expect(plan({ bucket: 'alpha' })).toMatch(/INDEX objects_current \(bucket_id=\? AND key>\?\)/);
    expect(plan({ bucket: 'alpha', order: 'desc' })).toMatch(/INDEX objects_current \(bucket_id=\? AND key<\?\)/);
    expect(plan({ bucket: 'alpha', versions: 'true' })).toMatch(/INDEX objects_versions \(bucket_id=\? AND key>\?\)/);
    expect(plan({ versions: 'true', locked: 'true' })).toMatch(/INDEX objects_key \(key>\?\)/);
  });
  it('prefix, etag and content type use their indexes', () => {
    expect(plan({ prefix: 'logs/' })).toMatch(/INDEX objects_key \(key>\? AND key<\?\)/);
    expect(plan({ bucket: 'beta', prefix: 'logs/' })).toMatch(/INDEX objects_current \(bucket_id=\? AND key>\? AND key<\?\)/);
    expect(plan({ bucket: 'beta', prefix: 'logs/', versions: 'true' })).toMatch(/INDEX objects_versions \(bucket_id=\? AND key>\? AND key<\?\)/);
    expect(plan({ etag: model[0]!.etag })).toMatch(/INDEX objects_etag \(etag=\?\)/);
  });
  it('a next page seeks from the cursor, not from a prefix or size bound (SQLite seeks by the first range term)', () => {
    for (const [params, sort] of [[{ prefix: 'logs/' }, 'key'], [{ bucket: 'beta', prefix: 'logs/', order: 'desc' }, 'key'], [{ minSize: '10', sort: 'size' }, 'size']] as const) {
      const first = findObjects(opened.db, { ...parseObjectQuery(params), limit: 3 });
      const last = first.objects.at(-1)!;
      const { params: args } = objectsQuery(opened.db, parseObjectQuery({ ...params, cursor: first.nextCursor! }))!.toSQL();
      expect(args[0], JSON.stringify(params)).toBe(sort === 'key' ? last.key : last.size);
    }
  });
});
