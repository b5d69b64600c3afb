import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { VersionChangedError, type ChunkPlacement, type ChunkReadRow, type NewObject } from '../../src/store/types.js';
import { parseListParams } from '../../src/s3/list-params.js';
import { parseObjectQuery } from '../../src/db/records/index.js';

// The metadata store contract: what every engine (SQLite today, PostgreSQL next) must do, run
// through the MetadataStore interface only. An engine's test file calls storeContract() with a
// factory that opens a fresh, empty store; `reopen` (optional) closes it and opens the same data
// again, for the durability cases.

export interface StoreFactory {
  /** A new, empty store. */
  open(): Promise<MetadataStore>;
  /** Closes `store` and opens the same data again. */
  reopen?(store: MetadataStore): Promise<MetadataStore>;
  /** Removes what open() created (after the store was closed). */
  cleanup?(): Promise<void>;
}

const h = (c: string) => c.repeat(64).slice(0, 64);
const chunk = (c: string, offset: number, size: number, crc32c = 7): ChunkPlacement => ({ hash: h(c), size, crc32c, offset });
const row = (size: number, etag: string, extra: Partial<NewObject> = {}): NewObject => ({
  size,
  etag,
  checksumAlgorithm: null,
  checksumValue: null,
  checksumType: null,
  partCount: null,
  lastModified: 1_700_000_000_000,
  ...extra,
});
const list = (q: string) => parseListParams(new URLSearchParams(q), 2);

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract: ${name}`, () => {
    let store: MetadataStore;
    let bucketId: number;
    beforeEach(async () => {
      store = await factory.open();
      expect(await store.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) })).toBe(true);
      bucketId = (await store.buckets.get('bkt'))!.id;
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    describe('buckets', () => {
      it('creates once, lists by name, gets by name, lists an owner\'s', async () => {
        const other = 'b'.repeat(64);
        expect(await store.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: other })).toBe(false);
        expect(await store.buckets.create({ name: 'abc', region: 'eu-west-1', ownerId: other, ownership: 'BucketOwnerEnforced' })).toBe(true);
        expect((await store.buckets.list()).map((b) => [b.name, b.region, b.ownerId, b.ownership, b.acl, b.policy])).toEqual([
          ['abc', 'eu-west-1', other, 'BucketOwnerEnforced', null, null],
          ['bkt', 'us-east-1', 'a'.repeat(64), 'ObjectWriter', null, null],
        ]);
        expect((await store.buckets.listOwned(other)).map((b) => b.name)).toEqual(['abc']);
        const b = await store.buckets.get('abc');
        expect(b).toMatchObject({ name: 'abc', region: 'eu-west-1', ownerId: other });
        expect(typeof b!.createdAt).toBe('number');
        expect(await store.buckets.get('nope')).toBeUndefined();
      });

      it('sets the ACL, ownership and policy, each alone', async () => {
        await store.buckets.setAccess(bucketId, { acl: '[]' });
        await store.buckets.setAccess(bucketId, { policy: '{"Statement":[]}' });
        expect(await store.buckets.get('bkt')).toMatchObject({ acl: '[]', policy: '{"Statement":[]}', ownership: 'ObjectWriter' });
        await store.buckets.setAccess(bucketId, { ownership: 'BucketOwnerPreferred', acl: null });
        expect(await store.buckets.get('bkt')).toMatchObject({ acl: null, policy: '{"Statement":[]}', ownership: 'BucketOwnerPreferred' });
        await store.buckets.setAccess(bucketId, { policy: null });
        expect((await store.buckets.get('bkt'))!.policy).toBeNull();
      });

      it('deletes only an empty bucket: objects and uploads keep it', async () => {
        await store.objects.commit(bucketId, 'k', row(1, '"e"'), [chunk('a', 0, 1)]);
        expect(await store.buckets.delete(bucketId)).toBe('not-empty');
        await store.objects.delete(bucketId, 'k');
        await store.multipart.create({ id: 'u1', bucketId, key: 'k', initiated: 1, checksumAlgorithm: null, checksumType: null });
        expect(await store.buckets.delete(bucketId)).toBe('not-empty');
        await store.multipart.abort('u1');
        expect(await store.buckets.delete(bucketId)).toBe('deleted');
        expect(await store.buckets.get('bkt')).toBeUndefined();
      });

      it('keeps CORS rules per bucket, by id and by name, and drops them with the bucket', async () => {
        expect(await store.buckets.getCors(bucketId)).toBeUndefined();
        const rules = [{ allowedOrigins: ['*'], allowedMethods: ['GET' as const], allowedHeaders: [], exposeHeaders: ['ETag'], maxAgeSeconds: 60 }];
        expect(await store.buckets.putCors(bucketId, rules)).toBe(true);
        expect(await store.buckets.getCors(bucketId)).toEqual(rules);
        expect(await store.buckets.getCorsByName('bkt')).toEqual(rules);
        const replaced = [{ allowedOrigins: ['http://a.test'], allowedMethods: ['PUT' as const], allowedHeaders: ['*'], exposeHeaders: [] }];
        await store.buckets.putCors(bucketId, replaced);
        expect(await store.buckets.getCors(bucketId)).toEqual(replaced);
        await store.buckets.deleteCors(bucketId);
        expect(await store.buckets.getCors(bucketId)).toBeUndefined();
        await store.buckets.putCors(bucketId, rules);
        expect(await store.buckets.delete(bucketId)).toBe('deleted');
        await store.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
        expect(await store.buckets.getCorsByName('bkt')).toBeUndefined();
        expect(await store.buckets.putCors(987_654, rules)).toBe(false);
      });
    });

    describe('objects and chunk references', () => {
      it('commits a row with its chunk list and reads it back, whole and by range', async () => {
        const { object, freed } = await store.objects.commit(
          bucketId,
          'dir/k',
          row(30, '"abc"', { contentType: 'text/plain', userMetadata: '{"a":"1"}', checksumAlgorithm: 'CRC32', checksumValue: 'AAAAAA==', checksumType: 'FULL_OBJECT' }),
          [chunk('a', 0, 10, 1), chunk('b', 10, 10, 2), chunk('c', 20, 10, 3)],
        );
        expect(freed).toEqual([]);
        expect(object).toMatchObject({ bucketId, key: 'dir/k', size: 30, etag: '"abc"', contentType: 'text/plain', storageClass: 'STANDARD', userMetadata: '{"a":"1"}', checksumValue: 'AAAAAA==' });
        expect(await store.objects.get(bucketId, 'dir/k')).toEqual(object);
        expect(await store.objects.getForRead(bucketId, 'dir/k')).toEqual(object);
        expect((await store.objects.chunkList(object.id)).map((c) => [c.seq, c.offset, c.size, c.chunkHash])).toEqual([
          [0, 0, 10, h('a')],
          [1, 10, 10, h('b')],
          [2, 20, 10, h('c')],
        ]);
        const whole = await store.objects.chunksForRead(object, 0, 29);
        expect(whole.map((c) => [c.chunkHash, c.crc32c])).toEqual([[h('a'), 1], [h('b'), 2], [h('c'), 3]]);
        expect((await store.objects.chunksForRead(object, 12, 21)).map((c) => c.chunkHash)).toEqual([h('b'), h('c')]);
        expect((await store.objects.chunksForRange(object.id, 15, 15)).map((c) => c.offset)).toEqual([10]);
        expect(await store.objects.get(bucketId, 'dir/other')).toBeUndefined();
      });

      it('keeps an inline chunk\'s bytes with its row', async () => {
        const data = Buffer.from('tiny object');
        const { object } = await store.objects.commit(bucketId, 'small', row(data.length, '"s"'), [{ ...chunk('d', 0, data.length), data }]);
        const [c] = await store.objects.chunksForRead(object, 0, data.length - 1);
        expect(Buffer.from(c!.data!).equals(data)).toBe(true);
        const [file] = await store.objects.chunksForRead((await store.objects.commit(bucketId, 'big', row(4, '"b"'), [chunk('e', 0, 4)])).object, 0, 3);
        expect(file!.data).toBeNull();
      });

      it('an overwrite frees the chunks only the old version held; shared chunks stay', async () => {
        await store.objects.commit(bucketId, 'k', row(20, '"1"'), [chunk('a', 0, 10), chunk('b', 10, 10)]);
        await store.objects.commit(bucketId, 'other', row(10, '"2"'), [chunk('b', 0, 10)]);
        const { object, freed } = await store.objects.commit(bucketId, 'k', row(10, '"3"'), [chunk('c', 0, 10)]);
        expect(freed).toEqual([h('a')]);
        expect(await store.objects.isChunkReferenced(h('a'))).toBe(false);
        expect(await store.objects.isChunkReferenced(h('b'))).toBe(true);
        expect(await store.objects.isChunkReferenced(h('c'))).toBe(true);
        expect((await store.objects.get(bucketId, 'k'))!.etag).toBe('"3"');
        expect((await store.objects.chunkList(object.id)).map((c) => c.chunkHash)).toEqual([h('c')]);
        expect([...(await store.maintenance.knownChunks([h('a'), h('b'), h('c')]))].sort()).toEqual([h('b'), h('c')]);
      });

      it('a row read before an overwrite in place gets its own chunk list or VersionChangedError, never the new one', async () => {
        // Longer than any engine keeps with the row (SQLite 64, PostgreSQL 8), and short.
        const many = (c: string) => Array.from({ length: 70 }, (_, i) => chunk(`${c}${i}`, i * 10, 10));
        const cases = [['short', [chunk('p', 0, 10)], [chunk('q', 0, 10)]], ['long', many('x'), many('y')]] as const;
        for (const [key, before, after] of cases) {
          await store.objects.commit(bucketId, key, row(before.length * 10, '"old"'), [...before]);
          const old = (await store.objects.getForRead(bucketId, key))!;
          // An unversioned bucket's overwrite keeps the row: only its version columns say it changed.
          expect((await store.objects.commit(bucketId, key, row(after.length * 10, '"new"'), [...after])).object.id).toBe(old.id);
          const got = await store.objects.chunksForRead(old, 0, old.size - 1).catch((err: unknown) => err);
          if (got instanceof VersionChangedError) continue;
          expect((got as ChunkReadRow[]).map((c) => c.chunkHash), key).toEqual(before.map((c) => c.hash));
        }
        const long = (await store.objects.getForRead(bucketId, 'long'))!;
        await store.objects.commit(bucketId, 'long', row(700, '"newer"'), many('z'));
        await expect(store.objects.chunksForRead(long, 0, 699)).rejects.toThrow(VersionChangedError);
      });

      it('a chunk used twice by one object is one reference per use', async () => {
        await store.objects.commit(bucketId, 'twice', row(20, '"t"'), [chunk('a', 0, 10), chunk('a', 10, 10)]);
        await store.objects.commit(bucketId, 'once', row(10, '"o"'), [chunk('a', 0, 10)]);
        expect((await store.objects.delete(bucketId, 'twice')).freed).toEqual([]);
        expect((await store.objects.delete(bucketId, 'once')).freed).toEqual([h('a')]);
      });

      it('deletes: existed or not, and what it freed', async () => {
        await store.objects.commit(bucketId, 'k', row(10, '"1"'), [chunk('a', 0, 10)]);
        expect(await store.objects.delete(bucketId, 'k')).toEqual({ deleted: true, freed: [h('a')], versionId: 'null', deleteMarker: false });
        expect(await store.objects.delete(bucketId, 'k')).toEqual({ deleted: false, freed: [] });
        expect(await store.objects.get(bucketId, 'k')).toBeUndefined();
        expect(await store.objects.getForRead(bucketId, 'k')).toBeUndefined();
      });

      it('keeps a multipart object\'s part layout, and drops it on overwrite', async () => {
        const parts = [
          { partNumber: 1, offset: 0, size: 10, checksumValue: 'x' },
          { partNumber: 2, offset: 10, size: 5, checksumValue: null },
        ];
        const { object } = await store.objects.commit(bucketId, 'mp', row(15, '"m-2"', { partCount: 2 }), [chunk('a', 0, 10), chunk('b', 10, 5)], parts);
        expect((await store.objects.parts(object.id)).map((p) => [p.partNumber, p.offset, p.size, p.checksumValue])).toEqual([[1, 0, 10, 'x'], [2, 10, 5, null]]);
        expect(await store.objects.part(object.id, 2)).toMatchObject({ offset: 10, size: 5 });
        expect(await store.objects.part(object.id, 3)).toBeUndefined();
        const again = await store.objects.commit(bucketId, 'mp', row(1, '"p"'), [chunk('c', 0, 1)]);
        expect(await store.objects.parts(again.object.id)).toEqual([]);
      });

      it('copies in one step: shares the chunks and part layout; a refusing build changes nothing', async () => {
        const parts = [{ partNumber: 1, offset: 0, size: 10, checksumValue: null }];
        await store.objects.commit(bucketId, 'src', row(10, '"s-1"', { partCount: 1 }), [chunk('a', 0, 10)], parts);
        const copied = await store.objects.copy({ bucketId, key: 'src' }, { bucketId, key: 'dst' }, (src) => {
          const { id: _i, bucketId: _b, key: _k, ...kept } = src;
          return { ...kept, lastModified: 5 };
        });
        expect(copied!.object).toMatchObject({ key: 'dst', etag: '"s-1"', partCount: 1, lastModified: 5 });
        expect((await store.objects.chunkList(copied!.object.id)).map((c) => c.chunkHash)).toEqual([h('a')]);
        expect(await store.objects.parts(copied!.object.id)).toHaveLength(1);
        expect((await store.objects.delete(bucketId, 'src')).freed).toEqual([]);
        await expect(
          store.objects.copy({ bucketId, key: 'dst' }, { bucketId, key: 'refused' }, () => {
            throw new Error('precondition failed');
          }),
        ).rejects.toThrow('precondition failed');
        expect(await store.objects.get(bucketId, 'refused')).toBeUndefined();
        expect(await store.objects.copy({ bucketId, key: 'missing' }, { bucketId, key: 'x' }, (s) => s)).toBeUndefined();
        // A copy onto itself replaces the row and keeps its chunks.
        const self = await store.objects.copy({ bucketId, key: 'dst' }, { bucketId, key: 'dst' }, (s) => ({ ...s, storageClass: 'STANDARD_IA' }));
        expect(self!.freed).toEqual([]);
        expect((await store.objects.get(bucketId, 'dst'))!.storageClass).toBe('STANDARD_IA');
        expect(await store.objects.isChunkReferenced(h('a'))).toBe(true);
      });

      it('lists in UTF-8 byte order with prefix, delimiter, start-after and max-keys', async () => {
        const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'z', '\u00e9', '\u{1F600}', 'A'];
        for (const k of keys) await store.objects.commit(bucketId, k, row(1, '"e"'), [chunk('a', 0, 1)]);
        const all = await store.objects.listPage(bucketId, list('max-keys=1000'));
        expect(all.contents.map((o) => o.key)).toEqual(['A', 'a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'z', '\u00e9', '\u{1F600}']);
        const folders = await store.objects.listPage(bucketId, list('delimiter=/'));
        expect(folders.commonPrefixes).toEqual(['a/', 'c/']);
        expect(folders.contents.map((o) => o.key)).toEqual(['A', 'b', 'z', '\u00e9', '\u{1F600}']);
        const inA = await store.objects.listPage(bucketId, list('prefix=a/&delimiter=/'));
        expect([inA.contents.map((o) => o.key), inA.commonPrefixes]).toEqual([['a/1', 'a/2'], ['a/b/']]);
        const page = await store.objects.listPage(bucketId, list('max-keys=3&start-after=a/1'));
        expect(page.contents.map((o) => o.key)).toEqual(['a/2', 'a/b/3', 'b']);
        expect([page.isTruncated, page.lastKey]).toEqual([true, 'b']);
        expect((await store.objects.listKeys(bucketId, 'c/', undefined, 10)).map((o) => o.key)).toEqual(['c/1', 'c/2']);
        expect((await store.objects.listKeys(bucketId, '', 'z', 10)).map((o) => o.key)).toEqual(['\u00e9', '\u{1F600}']);
      });

      it('concurrent commits of one key leave one object and consistent references', async () => {
        const letters = 'abcdefgh'.split('');
        const results = await Promise.all(letters.map((c, i) => store.objects.commit(bucketId, 'race', row(1, `"${i}"`), [chunk(c, 0, 1)])));
        const freed = results.flatMap((r) => r.freed);
        const final = (await store.objects.get(bucketId, 'race'))!;
        const kept = (await store.objects.chunkList(final.id))[0]!.chunkHash;
        expect(freed.sort()).toEqual(letters.map(h).filter((x) => x !== kept).sort());
        for (const c of letters) expect(await store.objects.isChunkReferenced(h(c))).toBe(h(c) === kept);
      });
    });

    describe('multipart uploads', () => {
      const upload = (id: string, key: string, initiated = 1) => store.multipart.create({ id, bucketId, key, initiated, checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE', contentType: 'video/mp2t' });
      const part = (n: number, size: number) => ({ partNumber: n, size, etag: `"p${n}"`, checksumValue: `c${n}`, lastModified: 2 });

      it('creates, gets, counts and lists uploads in (key, id) order', async () => {
        await upload('u2', 'b');
        await upload('u1', 'b');
        await upload('u3', 'a/x');
        expect(await store.multipart.get('u1')).toMatchObject({ id: 'u1', bucketId, key: 'b', contentType: 'video/mp2t', checksumAlgorithm: 'CRC32', storageClass: 'STANDARD' });
        expect(await store.multipart.get('nope')).toBeUndefined();
        expect(await store.multipart.count(bucketId)).toBe(3);
        expect((await store.multipart.list(bucketId, '', undefined, 10)).map((u) => u.id)).toEqual(['u3', 'u1', 'u2']);
        expect((await store.multipart.list(bucketId, 'b', undefined, 10)).map((u) => u.id)).toEqual(['u1', 'u2']);
        expect((await store.multipart.list(bucketId, '', { key: 'b', uploadId: 'u1' }, 10)).map((u) => u.id)).toEqual(['u2']);
      });

      it('records parts; a re-sent part replaces the old one and frees its chunks; a gone upload refuses', async () => {
        await upload('u', 'k');
        expect(await store.multipart.commitPart('u', part(1, 10), [chunk('a', 0, 10)])).toEqual({ freed: [] });
        expect(await store.multipart.commitPart('u', part(2, 5), [chunk('b', 0, 5)])).toEqual({ freed: [] });
        expect(await store.multipart.commitPart('u', { ...part(1, 10), etag: '"again"' }, [chunk('c', 0, 10)])).toEqual({ freed: [h('a')] });
        expect((await store.multipart.allParts('u')).map((p) => [p.partNumber, p.etag])).toEqual([[1, '"again"'], [2, '"p2"']]);
        expect((await store.multipart.listParts('u', 1, 10)).map((p) => p.partNumber)).toEqual([2]);
        expect((await store.multipart.listParts('u', 0, 1)).map((p) => p.partNumber)).toEqual([1]);
        expect(await store.multipart.commitPart('gone', part(1, 1), [chunk('d', 0, 1)])).toBeUndefined();
        expect(await store.objects.isChunkReferenced(h('d'))).toBe(false);
      });

      it('completes: the used parts\' chunks become the object\'s, the rest are freed, the upload is remembered', async () => {
        await upload('u', 'big');
        await store.multipart.commitPart('u', part(1, 10), [chunk('a', 0, 6), chunk('b', 6, 4)]);
        await store.multipart.commitPart('u', part(2, 5), [chunk('c', 0, 5)]);
        await store.multipart.commitPart('u', part(3, 7), [chunk('d', 0, 7)]);
        const result = await store.multipart.complete('u', (u, parts) => {
          expect(u.id).toBe('u');
          expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
          return {
            row: row(15, '"m-2"', { partCount: 2, contentType: u.contentType }),
            used: [
              { partNumber: 1, offset: 0, size: 10, checksumValue: 'c1' },
              { partNumber: 3, offset: 10, size: 7, checksumValue: 'c3' },
            ],
          };
        });
        expect(result!.freed).toEqual([h('c')]);
        expect(result!.object).toMatchObject({ key: 'big', etag: '"m-2"', partCount: 2, contentType: 'video/mp2t' });
        expect((await store.objects.chunkList(result!.object.id)).map((c) => [c.offset, c.size, c.chunkHash])).toEqual([
          [0, 6, h('a')],
          [6, 4, h('b')],
          [10, 7, h('d')],
        ]);
        expect((await store.objects.parts(result!.object.id)).map((p) => p.partNumber)).toEqual([1, 3]);
        expect(await store.multipart.get('u')).toBeUndefined();
        expect(await store.multipart.getCompleted('u')).toMatchObject({ uploadId: 'u', bucketId, key: 'big', etag: '"m-2"' });
        expect(await store.multipart.complete('u', () => { throw new Error('not called'); })).toBeUndefined();
      });

      it('a refusing decision changes nothing', async () => {
        await upload('u', 'k');
        await store.multipart.commitPart('u', part(1, 10), [chunk('a', 0, 10)]);
        await expect(store.multipart.complete('u', () => { throw new Error('InvalidPart'); })).rejects.toThrow('InvalidPart');
        expect(await store.multipart.get('u')).toBeDefined();
        expect(await store.objects.get(bucketId, 'k')).toBeUndefined();
        expect(await store.objects.isChunkReferenced(h('a'))).toBe(true);
      });

      it('aborts and expires: parts freed, old uploads found, completed records pruned', async () => {
        await upload('old', 'k', 100);
        await upload('new', 'k', 10_000);
        await store.multipart.commitPart('old', part(1, 3), [chunk('a', 0, 3)]);
        expect(await store.multipart.expired(5_000, 10)).toEqual(['old']);
        expect(await store.maintenance.countUploadsInitiatedBefore(5_000)).toBe(1);
        expect(await store.multipart.abort('old')).toEqual({ freed: [h('a')] });
        expect(await store.multipart.abort('old')).toBeUndefined();
        await store.multipart.commitPart('new', part(1, 3), [chunk('b', 0, 3)]);
        await store.multipart.complete('new', () => ({ row: row(3, '"n-1"', { partCount: 1 }), used: [{ partNumber: 1, offset: 0, size: 3, checksumValue: null }] }));
        await store.multipart.pruneCompleted(Date.now() + 60_000);
        expect(await store.multipart.getCompleted('new')).toBeUndefined();
      });
    });

    describe('access keys', () => {
      it('creates with a secret, lists without one, gets, revokes', async () => {
        const created = await store.keys.create({ description: 'backup', grants: [{ bucket: 'bkt', permission: 'write' }, { bucket: 'abc', permission: 'read' }] });
        expect(created.secret.length).toBeGreaterThanOrEqual(30);
        expect(created.grants).toEqual([{ bucket: 'abc', permission: 'read' }, { bucket: 'bkt', permission: 'write' }]);
        expect(await store.keys.secretFor(created.id)).toBe(created.secret);
        const root = await store.accounts.root();
        expect(created.accountId).toBe(root.id);
        expect(await store.keys.get(created.id)).toEqual({ id: created.id, accountId: root.id, description: 'backup', createdAt: created.createdAt, grants: created.grants });
        // The one-read form (an engine's option) answers what get and secretFor answer.
        if (store.keys.withSecret) expect(await store.keys.withSecret(created.id)).toEqual({ key: await store.keys.get(created.id), secret: created.secret });
        const listed = await store.keys.list();
        expect(listed).toEqual([{ id: created.id, accountId: root.id, description: 'backup', createdAt: created.createdAt, grants: created.grants }]);
        expect(await store.keys.revoke(created.id)).toBe(true);
        expect(await store.keys.revoke(created.id)).toBe(false);
        expect(await store.keys.get(created.id)).toBeUndefined();
        expect(await store.keys.secretFor(created.id)).toBeUndefined();
        expect(await store.keys.withSecret?.(created.id)).toBeUndefined();
      });

      it('refuses bad grants, naming the field, and stores nothing', async () => {
        await expect(store.keys.create({ grants: [] })).rejects.toMatchObject({ name: 'KeyValidationError', field: 'grants' });
        await expect(store.keys.create({ grants: [{ bucket: 'UPPER', permission: 'read' }] })).rejects.toMatchObject({ field: 'grants[0].bucket' });
        await expect(store.keys.create({ grants: [{ bucket: '*', permission: 'admin' as never }] })).rejects.toMatchObject({ field: 'grants[0].permission' });
        expect(await store.keys.list()).toEqual([]);
      });
    });

    describe('maintenance', () => {
      it('walks chunk rows in pages, names their users, and counts', async () => {
        await store.objects.commit(bucketId, 'x', row(2, '"x"'), [chunk('a', 0, 1), chunk('b', 1, 1)]);
        await store.objects.commit(bucketId, 'y', row(1, '"y"'), [chunk('a', 0, 1)]);
        await store.multipart.create({ id: 'u', bucketId, key: 'up', initiated: 1, checksumAlgorithm: null, checksumType: null });
        await store.multipart.commitPart('u', { partNumber: 4, size: 1, etag: '"p"', checksumValue: null, lastModified: 1 }, [chunk('c', 0, 1)]);
        expect(await store.maintenance.countChunks()).toBe(3);
        const first = await store.maintenance.chunkPage('', 2);
        expect(first.map((c) => c.hash)).toEqual([h('a'), h('b')]);
        expect((await store.maintenance.chunkPage(h('b'), 2)).map((c) => c.hash)).toEqual([h('c')]);
        const users = await store.maintenance.objectsUsing(h('a'), 10);
        expect(users.count).toBe(2);
        expect(users.objects.map((o) => `${o.bucket}/${o.key}`).sort()).toEqual(['bkt/x', 'bkt/y']);
        expect(await store.maintenance.uploadsUsing(h('c'))).toEqual([{ uploadId: 'u', bucket: 'bkt', key: 'up', partNumber: 4 }]);
        expect(await store.maintenance.repairRefcounts({ dryRun: false })).toEqual({ fixed: 0, removed: 0 });
      });
    });

    describe('records', () => {
      it('answers the records queries: totals, object search, an object, a chunk', async () => {
        // 'other' is public by its policy (anyone may GET its objects).
        const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }] });
        await store.buckets.create({ name: 'other', region: 'us-east-1', ownerId: 'a'.repeat(64) });
        await store.buckets.setAccess((await store.buckets.get('other'))!.id, { policy });
        await store.objects.commit(bucketId, 'docs/a.txt', row(10, '"a"', { contentType: 'text/plain', userMetadata: '{"owner":"ann"}' }), [chunk('a', 0, 10)]);
        await store.objects.commit(bucketId, 'docs/b.bin', row(30, '"b"'), [chunk('a', 0, 10), chunk('b', 10, 20)]);
        expect((await store.records.buckets()).map((b) => [b.name, b.public, b.objects, b.logicalBytes, b.physicalBytes])).toEqual([
          ['bkt', false, 2, 40, 30],
          ['other', true, 0, 0, 0],
        ]);
        expect(await store.records.bucket('bkt')).toMatchObject({ name: 'bkt', objects: 2 });
        expect(await store.records.bucket('nope')).toBeUndefined();
        expect(await store.records.stats()).toMatchObject({ buckets: 2, objects: 2, logicalBytes: 40, physicalBytes: 30, chunks: 2 });
        const found = await store.records.findObjects(parseObjectQuery({ bucket: 'bkt', minSize: '20' }));
        expect(found.objects.map((o) => o.key)).toEqual(['docs/b.bin']);
        const byMeta = await store.records.findObjects(parseObjectQuery({ 'meta.owner': 'ann' }));
        expect(byMeta.objects.map((o) => [o.bucket, o.key, o.contentType, o.metadata])).toEqual([['bkt', 'docs/a.txt', 'text/plain', { owner: 'ann' }]]);
        const rec = await store.records.object('bkt', 'docs/b.bin');
        expect(rec).toMatchObject({ bucket: 'bkt', key: 'docs/b.bin', size: 30 });
        expect(await store.records.object('bkt', 'nope')).toBeUndefined();
        const c = await store.records.chunk(h('a'));
        expect(c).toMatchObject({ sha256: h('a'), size: 10, refcount: 2 });
        expect(c!.objects.map((o) => o.key).sort()).toEqual(['docs/a.txt', 'docs/b.bin']);
        expect(await store.records.chunk(h('f'))).toBeUndefined();
      });

      it('count and list versions: current objects by default, every version and marker on request', async () => {
        await store.objects.commit(bucketId, 'v', row(10, '"1"', { versionId: 'v1', lockMode: 'GOVERNANCE', lockUntil: Date.now() + 60_000 }), [chunk('a', 0, 10)]);
        await store.objects.commit(bucketId, 'v', row(20, '"2"', { versionId: 'v2' }), [chunk('a', 0, 10), chunk('b', 10, 10)]);
        await store.objects.commit(bucketId, 'gone', row(5, '"3"', { versionId: 'g1', legalHold: true }), [chunk('c', 0, 5)]);
        await store.objects.delete(bucketId, 'gone', { markerVersionId: 'g2' });
        expect(await store.records.bucket('bkt')).toMatchObject({ objects: 1, logicalBytes: 20, versions: 3, deleteMarkers: 1, versionBytes: 35 });
        expect(await store.records.stats()).toMatchObject({ objects: 1, logicalBytes: 20, versions: 3, deleteMarkers: 1, versionBytes: 35 });
        const current = await store.records.findObjects(parseObjectQuery({ bucket: 'bkt' }));
        expect(current.objects.map((o) => [o.key, o.versionId])).toEqual([['v', 'v2']]);
        const all = await store.records.findObjects(parseObjectQuery({ bucket: 'bkt', versions: 'true' }));
        expect(all.objects.map((o) => [o.key, o.versionId, o.isLatest, o.deleteMarker])).toEqual([
          ['gone', 'g2', true, true],
          ['gone', 'g1', false, false],
          ['v', 'v2', true, false],
          ['v', 'v1', false, false],
        ]);
        const locked = await store.records.findObjects(parseObjectQuery({ versions: 'true', locked: 'true' }));
        expect(locked.objects.map((o) => [o.versionId, o.lock.mode, o.lock.legalHold])).toEqual([
          ['g1', null, true],
          ['v1', 'GOVERNANCE', false],
        ]);
        expect(await store.records.object('bkt', 'v', 'v1')).toMatchObject({ versionId: 'v1', isLatest: false, size: 10, lock: { mode: 'GOVERNANCE' } });
        expect((await store.records.object('bkt', 'v'))!.versions.map((v) => v.versionId)).toEqual(['v2', 'v1']);
        expect(await store.records.object('bkt', 'gone')).toBeUndefined();
        expect(await store.records.object('bkt', 'gone', 'g2')).toMatchObject({ deleteMarker: true, isLatest: true });
      });
    });

    if (factory.reopen) {
      it('what resolved is there after a reopen', async () => {
        await store.objects.commit(bucketId, 'kept', row(3, '"k"'), [chunk('a', 0, 3)]);
        await store.objects.commit(bucketId, 'gone', row(3, '"g"'), [chunk('b', 0, 3)]);
        await store.objects.delete(bucketId, 'gone');
        const key = await store.keys.create({ grants: [{ bucket: '*', permission: 'read' }] });
        store = await factory.reopen!(store);
        expect((await store.objects.get(bucketId, 'kept'))!.etag).toBe('"k"');
        expect(await store.objects.get(bucketId, 'gone')).toBeUndefined();
        expect(await store.objects.isChunkReferenced(h('b'))).toBe(false);
        expect(await store.keys.secretFor(key.id)).toBe(key.secret);
      });
    }
  });
}

/** The S3 error code a store call failed with, or 'resolved'. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  return 'resolved';
}
