import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { findObjects, objectRecord, objectsQuery, parseObjectQuery, QueryError } from '../../src/db/records/index.js';
import type { TagSet } from '../../src/store/types.js';

// The records' tag filter (tag.<key>=<value>, several ANDed) and the tags in an object record
// (#21), over a SQLite file: the rows it finds, and that each tag is an index search.

describe('records: tags', () => {
  let dir: string;
  let store: SqliteStore;
  const h = (n: number) => n.toString(16).padStart(64, '0');
  let seq = 0;
  const put = async (bucketId: number, key: string, tags: TagSet, versionId = 'null') =>
    store.objects.commit(bucketId, key, { size: 1, etag: `"${'a'.repeat(32)}"`, lastModified: 1_700_000_000_000, versionId, tags }, [{ hash: h(++seq), size: 1, crc32c: 1, offset: 0 }]);
  const keys = (params: Record<string, string>) => findObjects(store.db, parseObjectQuery(params)).objects.map((o) => `${o.bucket}/${o.key}`);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-records-tags-'));
    store = await SqliteStore.open({ file: path.join(dir, 'cairn.db'), durability: 'relaxed' });
    for (const name of ['alpha', 'beta']) await store.buckets.create({ name, region: 'us-east-1', ownerId: 'a'.repeat(64) });
    const [a, b] = [(await store.buckets.get('alpha'))!.id, (await store.buckets.get('beta'))!.id];
    await put(a, 'one', [['env', 'prod'], ['team', 'blue']]);
    await put(a, 'two', [['env', 'prod'], ['team', 'red']]);
    await put(a, 'three', [['Env', 'prod']]);
    await put(b, 'four', [['env', 'prod'], ['team', 'blue'], ['sp ace', 'a/b+c']]);
    await put(b, 'five', []);
    // An old version tagged env=prod; the current one is not: only versions=true finds the old one.
    await put(b, 'six', [['env', 'prod']], 'v'.repeat(32));
    await put(b, 'six', [['env', 'dev']], 'w'.repeat(32));
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the versions carrying every tag given; tag keys are case-sensitive', () => {
    // By key across buckets, the records' default order.
    expect(keys({ 'tag.env': 'prod' })).toEqual(['beta/four', 'alpha/one', 'alpha/two']);
    expect(keys({ 'tag.env': 'prod', 'tag.team': 'blue' }).sort()).toEqual(['alpha/one', 'beta/four']);
    expect(keys({ 'tag.env': 'prod', 'tag.team': 'blue', bucket: 'alpha' })).toEqual(['alpha/one']);
    expect(keys({ 'tag.Env': 'prod' })).toEqual(['alpha/three']);
    expect(keys({ 'tag.sp ace': 'a/b+c' })).toEqual(['beta/four']);
    expect(keys({ 'tag.env': 'dev' })).toEqual(['beta/six']);
    expect(keys({ 'tag.env': 'prod', bucket: 'beta', versions: 'true' }).sort()).toEqual(['beta/four', 'beta/six']);
    expect(keys({ 'tag.env': 'staging' })).toEqual([]);
  });

  it('refuses a name that is no tag key, naming the field', () => {
    expect(() => parseObjectQuery({ 'tag.a<b': 'x' })).toThrow(QueryError);
    expect(() => parseObjectQuery({ [`tag.${'k'.repeat(129)}`]: 'x' })).toThrow(QueryError);
  });

  it('each tag is a search of object_tags_key_value, not a scan of the tags', () => {
    const { sql, params } = objectsQuery(store.db, parseObjectQuery({ 'tag.env': 'prod', 'tag.team': 'blue' }))!.toSQL();
    const plan = (store.opened.sqlite.prepare(`explain query plan ${sql}`).all(...(params as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    expect(plan).toMatch(/object_tags_key_value \(key=\? AND value=\?\)/);
    expect(plan).not.toMatch(/SCAN object_tags/);
  });

  it('an object record carries its version\'s tags in key order', () => {
    expect(objectRecord(store.db, 'alpha', 'one')!.tags).toEqual([{ key: 'env', value: 'prod' }, { key: 'team', value: 'blue' }]);
    expect(objectRecord(store.db, 'beta', 'five')!.tags).toEqual([]);
    expect(objectRecord(store.db, 'beta', 'six', 'v'.repeat(32))!.tags).toEqual([{ key: 'env', value: 'prod' }]);
  });
});
