import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { ChunkPlacement, NewObject, TagSet } from '../../src/store/types.js';
import { failure, type StoreFactory } from './store-contract.js';

// The store contract for tags (#21): a version's tags written with it (commit, copy, multipart
// completion), read back in key order, replaced or removed in place, gone with the version; the
// bucket's tag set. What the handlers and the lifecycle rules' tag filters rely on.

const h = (c: string) => c.repeat(64).slice(0, 64);
const chunk = (c: string): ChunkPlacement => ({ hash: h(c), size: 1, crc32c: 7, offset: 0 });
const row = (versionId: string, extra: Partial<NewObject> = {}): NewObject => ({ size: 1, etag: '"e"', lastModified: 1_700_000_000_000, versionId, ...extra });
const vid = (n: number) => `v${String(n).padStart(31, '0')}`;
const TAGS: TagSet = [['project', 'blue'], ['Env', 'prod']];

export function storeTagsContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract, tags: ${name}`, () => {
    let store: MetadataStore;
    let b: number;
    beforeEach(async () => {
      store = await factory.open();
      await store.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
      b = (await store.buckets.get('bkt'))!.id;
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it('a commit writes the tags and the count; without tags the count is 0; read back in key order', async () => {
      const tagged = (await store.objects.commit(b, 't', row('null', { tags: TAGS }), [chunk('a')])).object;
      expect(tagged.tagCount).toBe(2);
      expect(await store.objects.getTags(tagged.id)).toEqual([['Env', 'prod'], ['project', 'blue']]);
      expect((await store.objects.getForRead(b, 't'))!.tagCount).toBe(2);
      const plain = (await store.objects.commit(b, 'p', row('null'), [chunk('b')])).object;
      expect(plain.tagCount).toBe(0);
      expect(await store.objects.getTags(plain.id)).toEqual([]);
    });

    it('an overwrite of the null version in place takes the new version\'s tags only', async () => {
      const first = (await store.objects.commit(b, 'k', row('null', { tags: TAGS }), [chunk('a')])).object;
      const second = (await store.objects.commit(b, 'k', row('null', { tags: [['x', '1']] }), [chunk('b')])).object;
      expect(await store.objects.getTags(second.id)).toEqual([['x', '1']]);
      expect(await store.objects.getTags(first.id)).toEqual(second.id === first.id ? [['x', '1']] : []);
      const third = (await store.objects.commit(b, 'k', row('null'), [chunk('c')])).object;
      expect(third.tagCount).toBe(0);
      expect(await store.objects.getTags(third.id)).toEqual([]);
    });

    it('setTags replaces and removes a version\'s tags, by version id or on the current version', async () => {
      const v1 = (await store.objects.commit(b, 'k', row(vid(1), { tags: TAGS }), [chunk('a')])).object;
      const v2 = (await store.objects.commit(b, 'k', row(vid(2)), [chunk('b')])).object;
      const cur = await store.objects.setTags(b, 'k', undefined, [['a', '']]);
      expect(cur).toMatchObject({ id: v2.id, tagCount: 1 });
      expect((await store.objects.getForRead(b, 'k'))!.tagCount).toBe(1);
      expect(await store.objects.getTags(v2.id)).toEqual([['a', '']]);
      expect(await store.objects.setTags(b, 'k', vid(1), [['b', '2']])).toMatchObject({ id: v1.id, tagCount: 1 });
      expect(await store.objects.getTags(v1.id)).toEqual([['b', '2']]);
      expect((await store.objects.setTags(b, 'k', vid(1), null))!.tagCount).toBe(0);
      expect(await store.objects.getTags(v1.id)).toEqual([]);
      expect((await store.objects.getVersion(b, 'k', vid(1)))!.tagCount).toBe(0);
      expect((await store.objects.setTags(b, 'k', vid(2), []))!.tagCount).toBe(0);
      expect(await store.objects.setTags(b, 'k', vid(9), TAGS)).toBeUndefined();
      expect(await store.objects.setTags(b, 'nope', undefined, TAGS)).toBeUndefined();
    });

    it('a delete marker cannot be tagged: MethodNotAllowed by version id, no current version without one', async () => {
      await store.objects.commit(b, 'k', row(vid(1)), [chunk('a')]);
      await store.objects.delete(b, 'k', { markerVersionId: vid(2) });
      expect(await failure(store.objects.setTags(b, 'k', vid(2), TAGS))).toBe('MethodNotAllowed');
      expect(await store.objects.setTags(b, 'k', undefined, TAGS)).toBeUndefined();
    });

    it('a locked version may be tagged (no data changes)', async () => {
      const v = (await store.objects.commit(b, 'k', row(vid(1), { lockMode: 'COMPLIANCE', lockUntil: Date.now() + 86_400_000, legalHold: true }), [chunk('a')])).object;
      expect((await store.objects.setTags(b, 'k', vid(1), TAGS))!.tagCount).toBe(2);
      expect(await store.objects.getTags(v.id)).toHaveLength(2);
    });

    it('removing a version removes its tags, also a null version replaced by a newer one', async () => {
      const v1 = (await store.objects.commit(b, 'k', row(vid(1), { tags: TAGS }), [chunk('a')])).object;
      await store.objects.delete(b, 'k', { versionId: vid(1) });
      expect(await store.objects.getTags(v1.id)).toEqual([]);
      const nul = (await store.objects.commit(b, 'n', row('null', { tags: TAGS }), [chunk('b')])).object;
      await store.objects.commit(b, 'n', row(vid(3)), [chunk('c')]);
      // A second null version retires the first (a new row when it is not the newest).
      const nul2 = (await store.objects.commit(b, 'n', row('null', { tags: [['z', 'z']] }), [chunk('d')])).object;
      expect(nul2.id).not.toBe(nul.id);
      expect(await store.objects.getTags(nul.id)).toEqual([]);
      expect(await store.objects.getTags(nul2.id)).toEqual([['z', 'z']]);
    });

    it('copy: the source version\'s tags unless the row gives its own (REPLACE)', async () => {
      await store.objects.commit(b, 'src', row('null', { tags: TAGS }), [chunk('a')]);
      const kept = await store.objects.copy({ bucketId: b, key: 'src' }, { bucketId: b, key: 'copy' }, () => row('null'));
      expect(kept!.object.tagCount).toBe(2);
      expect(await store.objects.getTags(kept!.object.id)).toEqual([['Env', 'prod'], ['project', 'blue']]);
      const replaced = await store.objects.copy({ bucketId: b, key: 'src' }, { bucketId: b, key: 'copy2' }, () => row('null', { tags: [['n', 'v']] }));
      expect(await store.objects.getTags(replaced!.object.id)).toEqual([['n', 'v']]);
      const none = await store.objects.copy({ bucketId: b, key: 'src' }, { bucketId: b, key: 'copy3' }, () => row('null', { tags: [] }));
      expect(none!.object.tagCount).toBe(0);
      // A copy onto itself keeps its tags (COPY) though the source row is rewritten.
      const self = await store.objects.copy({ bucketId: b, key: 'src' }, { bucketId: b, key: 'src' }, () => row('null'));
      expect(await store.objects.getTags(self!.object.id)).toHaveLength(2);
    });

    it('an upload keeps its tags and completion gives them to the version', async () => {
      await store.multipart.create({ id: 'u', bucketId: b, key: 'mp', initiated: 1, checksumAlgorithm: null, checksumType: null, tags: JSON.stringify(TAGS) });
      expect((await store.multipart.get('u'))!.tags).toBe(JSON.stringify(TAGS));
      await store.multipart.create({ id: 'w', bucketId: b, key: 'mp2', initiated: 1, checksumAlgorithm: null, checksumType: null });
      expect((await store.multipart.get('w'))!.tags).toBeNull();
      await store.multipart.commitPart('u', { partNumber: 1, size: 1, etag: '"p"', checksumValue: null, lastModified: 1 }, [chunk('a')]);
      const done = await store.multipart.complete('u', () => ({ row: row('null', { partCount: 1 }), used: [{ partNumber: 1, offset: 0, size: 1, checksumValue: null }] }));
      expect(done!.object.tagCount).toBe(2);
      expect(await store.objects.getTags(done!.object.id)).toHaveLength(2);
    });

    it('keeps the bucket\'s tag set: set, replaced, removed', async () => {
      expect((await store.buckets.get('bkt'))!.tags).toBeNull();
      await store.buckets.setTags(b, TAGS);
      expect(JSON.parse((await store.buckets.get('bkt'))!.tags!)).toEqual(TAGS);
      await store.buckets.setTags(b, [['only', 'one']]);
      expect(JSON.parse((await store.buckets.list())[0]!.tags!)).toEqual([['only', 'one']]);
      await store.buckets.setTags(b, null);
      expect((await store.buckets.get('bkt'))!.tags).toBeNull();
      await store.buckets.setTags(b, []);
      expect((await store.buckets.get('bkt'))!.tags).toBeNull();
    });
  });
}
