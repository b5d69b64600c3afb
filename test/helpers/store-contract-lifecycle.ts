import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { NewObject } from '../../src/store/types.js';
import type { StoreFactory } from './store-contract.js';

// The store contract for bucket lifecycle (src/s3/lifecycle.ts, src/storage/lifecycle.ts): the
// rules' JSON on the bucket row, the pages of versions the worker walks, and the record of passes.

const row = (extra: Partial<NewObject> = {}): NewObject => ({ size: 0, etag: '"e"', lastModified: 1_700_000_000_000, ...extra });
const counts = { versionsExpired: 3, markersAdded: 2, markersRemoved: 1, uploadsAborted: 4, bytesExpired: 500, lockedKept: 1 };

export function storeLifecycleContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract, lifecycle: ${name}`, () => {
    let store: MetadataStore;
    let bucketId: number;
    beforeEach(async () => {
      store = await factory.open();
      await store.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
      bucketId = (await store.buckets.get('bkt'))!.id;
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it('keeps the rules JSON on the bucket row: none, set, replaced, removed', async () => {
      expect((await store.buckets.get('bkt'))!.lifecycle).toBeNull();
      await store.buckets.setLifecycle(bucketId, '{"rules":[1]}');
      expect((await store.buckets.get('bkt'))!.lifecycle).toBe('{"rules":[1]}');
      await store.buckets.setLifecycle(bucketId, '{"rules":[2]}');
      expect((await store.buckets.list())[0]!.lifecycle).toBe('{"rules":[2]}');
      await store.buckets.setLifecycle(bucketId, null);
      expect((await store.buckets.get('bkt'))!.lifecycle).toBeNull();
    });

    it('pages versions by key within a prefix, each key whole and newest first', async () => {
      await store.buckets.setVersioning(bucketId, 'Enabled');
      for (const key of ['a/1', 'a/2', 'a/3', 'b/1']) {
        await store.objects.commit(bucketId, key, row({ versionId: `${key}-v1`, size: 1 }), []);
        await store.objects.commit(bucketId, key, row({ versionId: `${key}-v2`, size: 2 }), []);
      }
      await store.objects.delete(bucketId, 'a/2', { markerVersionId: 'a/2-m' });
      const first = await store.lifecycle.versionPage(bucketId, 'a/', undefined, 2);
      expect(first.map((v) => [v.key, v.versionId, v.isCurrent, v.deleteMarker])).toEqual([
        ['a/1', 'a/1-v2', true, false],
        ['a/1', 'a/1-v1', false, false],
        ['a/2', 'a/2-m', false, true],
        ['a/2', 'a/2-v2', false, false],
        ['a/2', 'a/2-v1', false, false],
      ]);
      const second = await store.lifecycle.versionPage(bucketId, 'a/', 'a/2', 2);
      expect(second.map((v) => v.versionId)).toEqual(['a/3-v2', 'a/3-v1']);
      expect(await store.lifecycle.versionPage(bucketId, 'a/', 'a/3', 2)).toEqual([]);
      expect((await store.lifecycle.versionPage(bucketId, '', undefined, 10)).length).toBe(9);
      expect(first[0]).toMatchObject({ size: 2, etag: '"e"', lastModified: 1_700_000_000_000, legalHold: false, lockMode: null, lockUntil: null, tagCount: 0 });
      expect((await store.lifecycle.tags(first.map((v) => v.id))).size).toBe(0);
    });

    it('records passes; the latest is the last started', async () => {
      expect(await store.lifecycle.lastRun()).toBeUndefined();
      const a = await store.lifecycle.startRun({ startedAt: 1000, trigger: 'worker', evaluatedAt: 1000 });
      await store.lifecycle.finishRun(a, counts, 2000, null);
      expect(await store.lifecycle.lastRun()).toEqual({ id: a, startedAt: 1000, finishedAt: 2000, trigger: 'worker', evaluatedAt: 1000, error: null, ...counts });
      const b = await store.lifecycle.startRun({ startedAt: 3000, trigger: 'cli', evaluatedAt: 9000 });
      expect(await store.lifecycle.lastRun()).toMatchObject({ id: b, finishedAt: null, trigger: 'cli', versionsExpired: 0 });
      await store.lifecycle.finishRun(b, counts, 4000, 'stopped');
      expect(await store.lifecycle.lastRun()).toMatchObject({ id: b, error: 'stopped', bytesExpired: 500 });
    });
  });
}
