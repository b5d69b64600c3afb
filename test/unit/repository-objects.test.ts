import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository } from '../../src/db/repository.js';

// An overwrite rewrites the object's row in place (same id): everything of the old version
// that hangs off that id must go with it.
let dir: string;
let db: OpenedDb;
let repo: Repository;
let bucketId: number;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-repo-objects-'));
  db = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  repo = new Repository(db.db);
  repo.createBucket({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
  bucketId = repo.getBucket('b')!.id;
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const chunk = (hash: string, offset: number, size: number) => ({ hash: hash.repeat(64).slice(0, 64), size, crc32c: 7, offset });
const refcount = (hash: string) =>
  (db.sqlite.prepare('SELECT refcount FROM chunks WHERE hash = ?').pluck().get(hash.repeat(64).slice(0, 64)) as number | undefined) ?? 0;

describe('overwriting an object', () => {
  it('replaces a multipart object by a plain one: new fields, chunk list and no part layout; old chunks freed', () => {
    const first = repo.commitObject(
      bucketId,
      'k',
      { size: 30, etag: '"aaa-2"', partCount: 2, lastModified: 1, contentType: 'text/plain', userMetadata: '{"a":"1"}' },
      [chunk('a', 0, 10), chunk('b', 10, 20)],
      [
        { partNumber: 1, offset: 0, size: 10, checksumValue: null },
        { partNumber: 2, offset: 10, size: 20, checksumValue: null },
      ],
    ).object;
    expect(repo.objectPartList(first.id)).toHaveLength(2);

    const { object, freed } = repo.commitObject(bucketId, 'k', { size: 5, etag: '"ccc"', lastModified: 2 }, [chunk('c', 0, 5)]);
    expect(freed.sort()).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    expect([refcount('a'), refcount('b'), refcount('c')]).toEqual([0, 0, 1]);
    expect(object).toMatchObject({ key: 'k', size: 5, etag: '"ccc"', partCount: null, lastModified: 2, contentType: null, userMetadata: '{}' });
    expect(repo.getObject(bucketId, 'k')).toEqual(object);
    expect(repo.objectPartList(object.id)).toEqual([]);
    expect(repo.chunkList(object.id).map((c) => [c.seq, c.offset, c.size, c.chunkHash[0]])).toEqual([[0, 0, 5, 'c']]);
    expect(db.sqlite.prepare('SELECT count(*) FROM object_chunks').pluck().get()).toBe(1);
    expect(db.sqlite.prepare('SELECT count(*) FROM objects').pluck().get()).toBe(1);
  });

  it('keeps a chunk the new version shares with the old one', () => {
    repo.commitObject(bucketId, 'k', { size: 10, etag: '"x"', lastModified: 1 }, [chunk('a', 0, 10)]);
    const { freed } = repo.commitObject(bucketId, 'k', { size: 20, etag: '"y"', lastModified: 2 }, [chunk('a', 0, 10), chunk('d', 10, 10)]);
    expect(freed).toEqual([]);
    expect([refcount('a'), refcount('d')]).toEqual([1, 1]);
  });
});
