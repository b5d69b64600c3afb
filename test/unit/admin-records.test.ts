import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../../src/db/client.js';
import { MultipartRepository } from '../../src/db/multipart-repository.js';
import { objectParts } from '../../src/db/schema.js';
import { bucketSummaries, bucketSummary, chunkRecord, objectRecord, storeStats } from '../../src/db/records/index.js';
import { BASE, bucketIds, bucketOwner, hashOf, keyFor, model, opened, repo, useSeededRecords } from '../helpers/records-model.js';

// Object and chunk records, bucket summaries and store stats, and the ListObjects source query,
// over the same seeded SQLite file as admin-queries.test.ts (../helpers/records-model.ts).

useSeededRecords();

describe('ListObjects source query (Repository.listKeys)', () => {
  const plan = (prefix: string, after: string | undefined) => {
    const { sql, params: args } = repo.listKeysQuery(bucketIds.get('alpha')!, prefix, after, 65).toSQL();
    return (opened.sqlite.prepare(`explain query plan ${sql}`).all(...(args as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  };
  it('seeks from the larger of the prefix and the resume key: one lower bound, so a deep page is no walk from the prefix', () => {
    // Both bounds given to SQLite made it seek by one and filter by the other (20 s per page at 1M keys).
    expect(plan('logs/', 'logs/m')).toMatch(/INDEX objects_current \(bucket_id=\? AND key>\? AND key<\?\)/);
    const { params } = repo.listKeysQuery(1, 'logs/', 'logs/m', 65).toSQL();
    expect(params).toContain('logs/m');
    expect(params).not.toContain('logs/');
    // A resume key before the prefix: the prefix is the bound.
    expect(repo.listKeysQuery(1, 'logs/', 'a', 65).toSQL().params).not.toContain('a');
    expect(plan('', 'x')).toMatch(/INDEX objects_current \(bucket_id=\? AND key>\?\)/);
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

  it('objectRecord: the current version or the one asked for, its lock, and the key\'s versions newest first', () => {
    // keyFor(0) in alpha: null, v0-a (COMPLIANCE, expired), v0-b, the marker m0, then v0-c (legal hold).
    const key = keyFor(0);
    const rec = objectRecord(opened.db, 'alpha', key)!;
    expect(rec).toMatchObject({ versionId: 'v0-c', isLatest: true, deleteMarker: false, lock: { mode: null, retainUntil: null, legalHold: true } });
    expect(rec.versions.map((v) => [v.versionId, v.isLatest, v.deleteMarker])).toEqual([
      ['v0-c', true, false],
      ['m0', false, true],
      ['v0-b', false, false],
      ['v0-a', false, false],
      ['null', false, false],
    ]);
    expect(rec.versionsTruncated).toBeUndefined();
    const a = model.find((m) => m.bucket === 'alpha' && m.key === key && m.versionId === 'v0-a')!;
    const old = objectRecord(opened.db, 'alpha', key, 'v0-a')!;
    expect(old).toMatchObject({ versionId: 'v0-a', isLatest: false, size: a.size, etag: a.etag, lock: { mode: 'COMPLIANCE', retainUntil: new Date(a.lockUntil!).toISOString(), legalHold: false } });
    expect(old.chunks.map((c) => c.sha256)).toEqual(a.hashes);
    expect(rec.versions[3]).toEqual({ versionId: 'v0-a', isLatest: false, deleteMarker: false, size: a.size, etag: a.etag, lastModified: old.lastModified, lock: old.lock, encryption: old.encryption });
    expect(objectRecord(opened.db, 'alpha', key, 'm0')).toMatchObject({ deleteMarker: true, isLatest: false, size: 0, chunks: [] });
    expect(objectRecord(opened.db, 'alpha', key, 'no-such-version')).toBeUndefined();
    // Each version says its encryption: SSE-C with the key's MD5, SSE-S3, none.
    const sseC = model.find((m) => m.isCurrent && m.encryption === 'SSE-C')!;
    expect(objectRecord(opened.db, sseC.bucket, sseC.key)!.encryption).toEqual({ mode: 'SSE-C', algorithm: 'AES256', customerKeyMd5: sseC.sseCustomerKeyMd5 });
    const sseS3 = model.find((m) => m.isCurrent && m.encryption === 'AES256' && m.versionId !== 'null')!;
    const rec3 = objectRecord(opened.db, sseS3.bucket, sseS3.key, sseS3.versionId)!;
    expect(rec3.encryption).toEqual({ mode: 'SSE-S3', algorithm: 'AES256', customerKeyMd5: null });
    expect(rec3.versions.find((v) => v.versionId === sseS3.versionId)!.encryption.mode).toBe('SSE-S3');
    expect(old.encryption).toEqual({ mode: 'none', algorithm: null, customerKeyMd5: null });
    // Each version names its owner: its writer's account, else the bucket owner's.
    for (const m of model.filter((x) => x.bucket === 'alpha' && x.key === keyFor(3))) {
      expect(objectRecord(opened.db, 'alpha', m.key, m.versionId)!.owner, m.versionId).toEqual({ id: m.owner, name: m.owner === bucketOwner('gamma') ? 'bob' : 'alice' });
    }
    expect(model.some((m) => m.bucket === 'alpha' && m.key === keyFor(3) && m.owner !== bucketOwner('alpha'))).toBe(true);
    // keyFor(12): the marker m12 is its newest version, so it has no current object.
    expect(objectRecord(opened.db, 'alpha', keyFor(12))).toBeUndefined();
    expect(objectRecord(opened.db, 'alpha', keyFor(12), 'm12')).toMatchObject({ deleteMarker: true, isLatest: true });
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
        { bucket: 'alpha', key: 'chunk/a', versionId: 'null', seq: 0, offset: 0 },
        { bucket: 'gamma', key: 'chunk/b', versionId: 'null', seq: 1, offset: 5 },
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
      const count = (where: string) =>
        opened.sqlite.prepare(`select count(*) n, coalesce(sum(size),0) bytes from objects where bucket_id = (select id from buckets where name = ?) and ${where}`).get(s.name) as { n: number; bytes: number };
      const current = count('is_current = 1');
      const versions = count('delete_marker = 0');
      const distinct = new Map(rows.filter((r) => r.name === s.name && r.hash).map((r) => [r.hash!, r.csize!]));
      expect(s).toEqual({
        name: s.name,
        region: 'us-east-1',
        owner: { id: bucketOwner(s.name), name: s.name === 'gamma' ? 'bob' : 'alice' },
        ownership: 'ObjectWriter',
        hasPolicy: false,
        public: s.name === 'beta',
        defaultEncryption: s.name === 'gamma' ? 'SSE-S3' : 'none',
        createdAt: s.createdAt,
        objects: current.n,
        logicalBytes: current.bytes,
        versions: versions.n,
        deleteMarkers: count('delete_marker = 1').n,
        versionBytes: versions.bytes,
        physicalBytes: [...distinct.values()].reduce((a, b) => a + b, 0),
      });
      expect(bucketSummary(opened.db, s.name)).toEqual(s);
      if (s.name !== 'empty') expect(s.versions).toBeGreaterThan(s.objects);
    }
    expect(summaries.find((s) => s.name === 'alpha')!.deleteMarkers).toBeGreaterThan(0);
    expect(summaries.find((s) => s.name === 'empty')).toMatchObject({ objects: 0, logicalBytes: 0, versions: 0, deleteMarkers: 0, versionBytes: 0, physicalBytes: 0 });
  });

  it('lists one account\'s buckets: by name or canonical id; an unknown account owns none', () => {
    const names = (owner: string) => bucketSummaries(opened.db, { owner }).map((s) => s.name);
    expect(names('alice')).toEqual(['alpha', 'beta', 'empty']);
    expect(names(bucketOwner('gamma'))).toEqual(['gamma']);
    expect(names('nobody')).toEqual([]);
    expect(names('0'.repeat(64))).toEqual([]);
  });

  it('storeStats totals and dedup ratio', () => {
    const s = storeStats(opened.db);
    const count = (where: string) => opened.sqlite.prepare(`select count(*) n, sum(size) bytes from objects where ${where}`).get() as { n: number; bytes: number };
    const current = count('is_current = 1');
    const versions = count('delete_marker = 0');
    const c = opened.sqlite.prepare('select count(*) n, sum(size) bytes from chunks').get() as { n: number; bytes: number };
    expect(s).toMatchObject({
      buckets: 4,
      objects: current.n,
      logicalBytes: current.bytes,
      versions: versions.n,
      deleteMarkers: count('delete_marker = 1').n,
      versionBytes: versions.bytes,
      chunks: c.n,
      physicalBytes: c.bytes,
      multipartUploads: 0,
      multipartParts: 0,
    });
    expect(s.versions).toBeGreaterThan(s.objects);
    expect(s.dedupRatio).toBeCloseTo(versions.bytes / c.bytes, 3);
    expect(s.dedupRatio).toBeGreaterThan(1);
  });

  it('an empty store has a dedup ratio of 1', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-admin-e-'));
    const e = openDb(path.join(d, 'cairn.db'), { durability: 'relaxed' });
    try {
      expect(storeStats(e.db)).toEqual({
        buckets: 0,
        objects: 0,
        logicalBytes: 0,
        versions: 0,
        deleteMarkers: 0,
        versionBytes: 0,
        physicalBytes: 0,
        chunks: 0,
        dedupRatio: 1,
        multipartUploads: 0,
        multipartParts: 0,
      });
      expect(bucketSummaries(e.db)).toEqual([]);
    } finally {
      e.close();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
