import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { ChunkPlacement, NewObject, ObjectRow } from '../../src/store/types.js';
import { parseListParams } from '../../src/s3/list-params.js';
import { parseVersionListParams } from '../../src/s3/version-list.js';
import { S3Error } from '../../src/s3/errors.js';
import { failure, type StoreFactory } from './store-contract.js';

// The store contract, versions and object lock: what every engine must do with a key's
// versions, delete markers, write conditions and locks, through the MetadataStore interface.

const h = (c: string) => c.repeat(64).slice(0, 64);
const chunk = (c: string, offset = 0, size = 1): ChunkPlacement => ({ hash: h(c), size, crc32c: 7, offset });
const row = (etag: string, versionId: string, extra: Partial<NewObject> = {}): NewObject => ({
  size: 1,
  etag,
  lastModified: 1_700_000_000_000,
  versionId,
  ...extra,
});
const vid = (n: number) => `v${String(n).padStart(31, '0')}`;

export function storeVersionContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract, versions: ${name}`, () => {
    let store: MetadataStore;
    let b: number;
    const versions = async (key?: string, q = '') => {
      const page = await store.objects.listVersions(b, parseVersionListParams(new URLSearchParams(q)));
      return page.entries
        .filter((e) => key === undefined || e.row.key === key)
        .map((e) => `${e.row.key}@${e.row.versionId}${e.row.deleteMarker ? ':marker' : ''}${e.isLatest ? ':latest' : ''}`);
    };
    beforeEach(async () => {
      store = await factory.open();
      await store.buckets.create({ name: 'v', region: 'us-east-1', ownerId: 'a'.repeat(64) });
      b = (await store.buckets.get('v'))!.id;
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it('new versions keep the old ones; the newest is current; versions share chunks', async () => {
      await store.objects.commit(b, 'k', row('"1"', vid(1)), [chunk('a')]);
      await store.objects.commit(b, 'k', row('"2"', vid(2)), [chunk('a')]);
      const r3 = await store.objects.commit(b, 'k', row('"3"', vid(3)), [chunk('b')]);
      expect(r3.freed).toEqual([]);
      expect((await store.objects.get(b, 'k'))!.etag).toBe('"3"');
      expect((await store.objects.getVersion(b, 'k', vid(1)))!.etag).toBe('"1"');
      expect(await versions('k')).toEqual([`k@${vid(3)}:latest`, `k@${vid(2)}`, `k@${vid(1)}`]);
      expect(await store.objects.isChunkReferenced(h('a'))).toBe(true);
      // ListObjects sees one object.
      expect((await store.objects.listPage(b, parseListParams(new URLSearchParams(''), 2))).contents.map((o) => o.etag)).toEqual(['"3"']);
    });

    it('a null write replaces the null version: in place when newest, moved to the top when not', async () => {
      await store.objects.commit(b, 'k', row('"n1"', 'null'), [chunk('a')]);
      await store.objects.commit(b, 'k', row('"v1"', vid(1)), [chunk('b')]);
      const r = await store.objects.commit(b, 'k', row('"n2"', 'null'), [chunk('c')]);
      expect(r.freed).toEqual([h('a')]);
      expect(await versions('k')).toEqual(['k@null:latest', `k@${vid(1)}`]);
      expect((await store.objects.get(b, 'k'))!.etag).toBe('"n2"');
      const again = await store.objects.commit(b, 'k', row('"n3"', 'null'), [chunk('d')]);
      expect(again.freed).toEqual([h('c')]);
      expect(again.object.id).toBe(r.object.id);
    });

    it('delete markers: added without a version, hide the key, and removing one brings it back', async () => {
      await store.objects.commit(b, 'k', row('"1"', vid(1)), [chunk('a')]);
      const del = await store.objects.delete(b, 'k', { markerVersionId: vid(2) });
      expect(del).toMatchObject({ deleted: true, deleteMarker: true, versionId: vid(2), freed: [] });
      expect(await store.objects.get(b, 'k')).toBeUndefined();
      expect((await store.objects.latest(b, 'k'))!.deleteMarker).toBe(true);
      expect(await versions('k')).toEqual([`k@${vid(2)}:marker:latest`, `k@${vid(1)}`]);
      const undo = await store.objects.delete(b, 'k', { versionId: vid(2) });
      expect(undo).toMatchObject({ deleted: true, deleteMarker: true, versionId: vid(2) });
      expect((await store.objects.get(b, 'k'))!.etag).toBe('"1"');
    });

    it('deleting a version frees what only it held and promotes the next newest', async () => {
      await store.objects.commit(b, 'k', row('"1"', vid(1)), [chunk('a')]);
      await store.objects.commit(b, 'k', row('"2"', vid(2)), [chunk('b')]);
      expect(await store.objects.delete(b, 'k', { versionId: vid(2) })).toMatchObject({ deleted: true, freed: [h('b')], deleteMarker: false });
      expect((await store.objects.get(b, 'k'))!.etag).toBe('"1"');
      expect(await store.objects.delete(b, 'k', { versionId: vid(9) })).toEqual({ deleted: false, freed: [] });
      expect(await store.objects.delete(b, 'k', { versionId: vid(1) })).toMatchObject({ deleted: true, freed: [h('a')] });
      expect(await versions('k')).toEqual([]);
    });

    it('a suspended delete replaces the null version with a null marker', async () => {
      await store.objects.commit(b, 'k', row('"1"', vid(1)), [chunk('a')]);
      await store.objects.commit(b, 'k', row('"n"', 'null'), [chunk('b')]);
      const del = await store.objects.delete(b, 'k', { markerVersionId: 'null' });
      expect(del).toMatchObject({ deleted: true, deleteMarker: true, versionId: 'null', freed: [h('b')] });
      expect(await versions('k')).toEqual(['k@null:marker:latest', `k@${vid(1)}`]);
    });

    it('write conditions are decided at commit: If-None-Match against a current version, If-Match against its ETag', async () => {
      await store.objects.commit(b, 'k', row('"1"', 'null'), [chunk('a')], undefined, { condition: { ifNoneMatch: true } });
      expect(await failure(store.objects.commit(b, 'k', row('"2"', 'null'), [chunk('b')], undefined, { condition: { ifNoneMatch: true } }))).toBe('ConditionalRequestConflict');
      expect(await failure(store.objects.commit(b, 'k', row('"2"', 'null'), [chunk('b')], undefined, { condition: { ifMatch: '"9"' } }))).toBe('ConditionalRequestConflict');
      await store.objects.commit(b, 'k', row('"2"', 'null'), [chunk('b')], undefined, { condition: { ifMatch: '"1"' } });
      expect((await store.objects.get(b, 'k'))!.etag).toBe('"2"');
      // A refused commit took no reference.
      expect(await store.objects.isChunkReferenced(h('a'))).toBe(false);
      // A delete marker counts as no current version.
      await store.buckets.setVersioning(b, 'Enabled');
      await store.objects.delete(b, 'k', { markerVersionId: vid(3) });
      await store.objects.commit(b, 'k', row('"4"', vid(4)), [chunk('c')], undefined, { condition: { ifNoneMatch: true } });
      expect(await failure(store.objects.commit(b, 'gone', row('"5"', vid(5)), [], undefined, { condition: { ifMatch: '*' } }))).toBe('ConditionalRequestConflict');
    });

    it('of concurrent If-None-Match commits of one key exactly one wins', async () => {
      for (let round = 0; round < 5; round++) {
        const key = `lock-${round}`;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 16 }, (_, i) => store.objects.commit(b, key, row(`"${i}"`, 'null'), [chunk(String.fromCharCode(97 + i))], undefined, { condition: { ifNoneMatch: true } })),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as S3Error).code).toBe('ConditionalRequestConflict');
      }
    });

    it('object lock: a locked version cannot be removed; GOVERNANCE yields to the bypass, COMPLIANCE and legal hold never', async () => {
      const future = Date.now() + 3_600_000;
      await store.objects.commit(b, 'g', row('"g"', vid(1), { lockMode: 'GOVERNANCE', lockUntil: future }), [chunk('a')]);
      await store.objects.commit(b, 'c', row('"c"', vid(2), { lockMode: 'COMPLIANCE', lockUntil: future }), [chunk('b')]);
      await store.objects.commit(b, 'h', row('"h"', vid(3), { legalHold: true }), [chunk('c')]);
      await store.objects.commit(b, 'n', row('"n"', 'null', { legalHold: true }), [chunk('d')]);
      expect(await failure(store.objects.delete(b, 'g', { versionId: vid(1) }))).toBe('AccessDenied');
      expect(await failure(store.objects.delete(b, 'c', { versionId: vid(2), bypassGovernance: true }))).toBe('AccessDenied');
      expect(await failure(store.objects.delete(b, 'h', { versionId: vid(3), bypassGovernance: true }))).toBe('AccessDenied');
      // Overwriting a held null version would remove it.
      expect(await failure(store.objects.commit(b, 'n', row('"n2"', 'null'), [chunk('e')]))).toBe('AccessDenied');
      expect(await failure(store.objects.delete(b, 'n', {}))).toBe('AccessDenied');
      // A delete marker removes nothing: allowed.
      expect(await store.objects.delete(b, 'c', { markerVersionId: vid(4) })).toMatchObject({ deleteMarker: true });
      expect(await store.objects.delete(b, 'g', { versionId: vid(1), bypassGovernance: true })).toMatchObject({ deleted: true });
      expect((await store.objects.getVersion(b, 'c', vid(2)))!.lockMode).toBe('COMPLIANCE');
    });

    it('retention changes: COMPLIANCE only extends; GOVERNANCE shortens only with the bypass; legal hold toggles', async () => {
      const t = Date.now() + 3_600_000;
      await store.objects.commit(b, 'c', row('"c"', vid(1), { lockMode: 'COMPLIANCE', lockUntil: t }), [chunk('a')]);
      expect(await failure(store.objects.setRetention(b, 'c', vid(1), { mode: 'COMPLIANCE', until: t - 1000 }, true))).toBe('AccessDenied');
      expect(await failure(store.objects.setRetention(b, 'c', vid(1), { mode: 'GOVERNANCE', until: t + 1000 }, true))).toBe('AccessDenied');
      expect(await failure(store.objects.setRetention(b, 'c', vid(1), null, true))).toBe('AccessDenied');
      expect((await store.objects.setRetention(b, 'c', undefined, { mode: 'COMPLIANCE', until: t + 1000 }, false))!.lockUntil).toBe(t + 1000);
      await store.objects.commit(b, 'g', row('"g"', vid(2), { lockMode: 'GOVERNANCE', lockUntil: t }), [chunk('b')]);
      expect(await failure(store.objects.setRetention(b, 'g', vid(2), { mode: 'GOVERNANCE', until: t - 1000 }, false))).toBe('AccessDenied');
      expect((await store.objects.setRetention(b, 'g', vid(2), null, true))!.lockMode).toBeNull();
      expect((await store.objects.setLegalHold(b, 'g', vid(2), true))!.legalHold).toBe(true);
      expect((await store.objects.getVersion(b, 'g', vid(2)))!.legalHold).toBe(true);
      expect(await store.objects.setRetention(b, 'g', vid(9), null, false)).toBeUndefined();
    });

    it('copies a named version; a delete marker cannot be a copy source', async () => {
      await store.objects.commit(b, 'src', row('"1"', vid(1)), [chunk('a')]);
      await store.objects.commit(b, 'src', row('"2"', vid(2)), [chunk('b')]);
      await store.objects.delete(b, 'src', { markerVersionId: vid(3) });
      const build = (s: ObjectRow): NewObject => ({ ...row(s.etag, vid(4)), size: s.size });
      const copy = await store.objects.copy({ bucketId: b, key: 'src', versionId: vid(1) }, { bucketId: b, key: 'dst' }, build);
      expect(copy!.source.versionId).toBe(vid(1));
      expect(copy!.object.etag).toBe('"1"');
      expect(await store.objects.copy({ bucketId: b, key: 'src' }, { bucketId: b, key: 'dst' }, build)).toBeUndefined();
      expect(await failure(store.objects.copy({ bucketId: b, key: 'src', versionId: vid(3) }, { bucketId: b, key: 'dst' }, build))).toBe('InvalidRequest');
    });

    it('ListObjectVersions pages by key and version markers, with prefixes and delimiters, in S3 order', async () => {
      let n = 0;
      for (const key of ['a/1', 'a/2', 'b', 'c/x/1', 'd']) {
        for (let i = 0; i < 3; i++) await store.objects.commit(b, key, row(`"${n}"`, vid(++n)), [chunk('a')]);
      }
      await store.objects.delete(b, 'b', { markerVersionId: vid(++n) });
      const all = await versions();
      expect(all).toHaveLength(16);
      expect(all.slice(6, 10)).toEqual([`b@${vid(n)}:marker:latest`, `b@${vid(9)}`, `b@${vid(8)}`, `b@${vid(7)}`]);
      // Paging by 3 walks the same list.
      const paged: string[] = [];
      let q = 'max-keys=3';
      for (let i = 0; i < 20; i++) {
        const page = await store.objects.listVersions(b, parseVersionListParams(new URLSearchParams(q)));
        paged.push(...page.entries.map((e) => `${e.row.key}@${e.row.versionId}${e.row.deleteMarker ? ':marker' : ''}${e.isLatest ? ':latest' : ''}`));
        if (!page.isTruncated) break;
        q = `max-keys=3&key-marker=${encodeURIComponent(page.nextKeyMarker!)}&version-id-marker=${page.nextVersionIdMarker}`;
      }
      expect(paged).toEqual(all);
      const grouped = await store.objects.listVersions(b, parseVersionListParams(new URLSearchParams('delimiter=/')));
      expect(grouped.commonPrefixes).toEqual(['a/', 'c/']);
      expect(grouped.entries.map((e) => e.row.key)).toEqual(['b', 'b', 'b', 'b', 'd', 'd', 'd']);
      const prefixed = await store.objects.listVersions(b, parseVersionListParams(new URLSearchParams('prefix=a/&max-keys=4')));
      expect(prefixed.entries.map((e) => e.row.key)).toEqual(['a/1', 'a/1', 'a/1', 'a/2']);
      expect(prefixed.isTruncated).toBe(true);
    });

    it('a bucket with versions or markers only is not empty', async () => {
      await store.objects.commit(b, 'k', row('"1"', vid(1)), [chunk('a')]);
      await store.objects.delete(b, 'k', { markerVersionId: vid(2) });
      expect(await store.buckets.delete(b)).toBe('not-empty');
    });

    it('versioning and lock settings of a bucket', async () => {
      await store.buckets.create({ name: 'locked', region: 'us-east-1', ownerId: 'a'.repeat(64), objectLock: true });
      const l = (await store.buckets.get('locked'))!;
      expect(l).toMatchObject({ objectLock: true, versioning: 'Enabled', lockDefaultMode: null });
      await store.buckets.setLockDefault(l.id, { mode: 'GOVERNANCE', days: 3 });
      expect(await store.buckets.get('locked')).toMatchObject({ lockDefaultMode: 'GOVERNANCE', lockDefaultDays: 3, lockDefaultYears: null });
      expect((await store.buckets.get('v'))!.versioning).toBeNull();
      await store.buckets.setVersioning(b, 'Suspended');
      expect((await store.buckets.get('v'))!.versioning).toBe('Suspended');
    });
  });
}
