import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { ChunkPlacement, NewObject } from '../../src/store/types.js';
import type { StoreFactory } from './store-contract.js';

// The store contract for encryption at rest (docs/encryption.md): what every engine keeps of it.
// A version's and an upload's encryption and SSE-C key MD5, the bucket's default, and an encrypted
// chunk's two sizes: the plaintext it adds to the object (chunk lists, offsets, ranges) and the
// bytes stored (the chunk's row: what GC, scrub and the backend's reuse check compare).

const h = (c: string) => c.repeat(64).slice(0, 64);
const sealed = (c: string, offset: number, size: number): ChunkPlacement => ({ hash: h(c), size, storedSize: size + 35, crc32c: 9, offset });
const row = (size: number, extra: Partial<NewObject> = {}): NewObject => ({ size, etag: '"e"', lastModified: 1_700_000_000_000, ...extra });
const MD5 = 'XrY7u+Ae7tCTyyK7j1rNww==';

export function storeEncryptionContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract, encryption: ${name}`, () => {
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

    it('keeps the bucket default encryption: none, AES256, none again', async () => {
      expect((await store.buckets.get('bkt'))!.defaultEncryption).toBeNull();
      await store.buckets.setDefaultEncryption(bucketId, 'AES256');
      expect((await store.buckets.get('bkt'))!.defaultEncryption).toBe('AES256');
      expect((await store.buckets.list())[0]!.defaultEncryption).toBe('AES256');
      await store.buckets.setDefaultEncryption(bucketId, null);
      expect((await store.buckets.get('bkt'))!.defaultEncryption).toBeNull();
    });

    it('keeps a version\'s encryption and SSE-C key MD5; a plain version has neither', async () => {
      const plain = (await store.objects.commit(bucketId, 'plain', row(1), [{ hash: h('p'), size: 1, crc32c: 1, offset: 0 }])).object;
      expect([plain.encryption, plain.sseCustomerKeyMd5]).toEqual([null, null]);
      const s3 = (await store.objects.commit(bucketId, 's3', row(10, { encryption: 'AES256' }), [sealed('a', 0, 10)])).object;
      expect([s3.encryption, s3.sseCustomerKeyMd5]).toEqual(['AES256', null]);
      const c = (await store.objects.commit(bucketId, 'c', row(10, { encryption: 'SSE-C', sseCustomerKeyMd5: MD5 }), [sealed('b', 0, 10)])).object;
      expect(await store.objects.getForRead(bucketId, 'c')).toMatchObject({ encryption: 'SSE-C', sseCustomerKeyMd5: MD5 });
      expect(await store.objects.getVersion(bucketId, 'c', c.versionId)).toMatchObject({ encryption: 'SSE-C', sseCustomerKeyMd5: MD5 });
      // An overwrite in place takes the new version's columns.
      const again = (await store.objects.commit(bucketId, 'c', row(1), [{ hash: h('q'), size: 1, crc32c: 1, offset: 0 }])).object;
      expect([again.encryption, again.sseCustomerKeyMd5]).toEqual([null, null]);
      const copied = await store.objects.copy({ bucketId, key: 's3' }, { bucketId, key: 's3-copy' }, (src) => ({ ...row(src.size), encryption: src.encryption }));
      expect(copied!.object.encryption).toBe('AES256');
    });

    it('an encrypted chunk: the chunk list has its plaintext size, the chunk its stored size', async () => {
      const { object } = await store.objects.commit(bucketId, 'k', row(30, { encryption: 'AES256' }), [sealed('a', 0, 10), sealed('b', 10, 20)]);
      const read = await store.objects.chunksForRead(object, 0, 29);
      expect(read.map((c) => [c.offset, c.size, c.storedSize])).toEqual([[0, 10, 45], [10, 20, 55]]);
      expect((await store.objects.chunksForRange(object.id, 15, 15)).map((c) => [c.size, c.storedSize])).toEqual([[20, 55]]);
      expect((await store.objects.chunkList(object.id)).map((c) => c.size)).toEqual([10, 20]);
      expect((await store.maintenance.chunkPage('', 10)).map((c) => c.size)).toEqual([45, 55]);
      // Inline: the sealed bytes ride in the row, with their stored size.
      const data = Buffer.alloc(40, 1);
      const small = (await store.objects.commit(bucketId, 'small', row(5, { encryption: 'AES256' }), [{ hash: h('c'), size: 5, storedSize: 40, crc32c: 3, offset: 0, data }])).object;
      const [c] = await store.objects.chunksForRead(small, 0, 4);
      expect([c!.size, c!.storedSize, Buffer.from(c!.data!).equals(data)]).toEqual([5, 40, true]);
      // A plain chunk: one size.
      const plain = (await store.objects.commit(bucketId, 'p', row(7), [{ hash: h('d'), size: 7, crc32c: 3, offset: 0 }])).object;
      expect((await store.objects.chunksForRead(plain, 0, 6)).map((r) => [r.size, r.storedSize])).toEqual([[7, 7]]);
    });

    it('keeps an upload\'s encryption, and completion writes the object\'s', async () => {
      await store.multipart.create({ id: 'u', bucketId, key: 'mp', initiated: 1, checksumAlgorithm: null, checksumType: null, encryption: 'SSE-C', sseCustomerKeyMd5: MD5 });
      expect(await store.multipart.get('u')).toMatchObject({ encryption: 'SSE-C', sseCustomerKeyMd5: MD5 });
      await store.multipart.create({ id: 'v', bucketId, key: 'mp2', initiated: 1, checksumAlgorithm: null, checksumType: null });
      expect(await store.multipart.get('v')).toMatchObject({ encryption: null, sseCustomerKeyMd5: null });
      await store.multipart.commitPart('u', { partNumber: 1, size: 10, etag: '"p"', checksumValue: null, lastModified: 1 }, [sealed('a', 0, 10)]);
      const done = await store.multipart.complete('u', (u) => ({
        row: row(10, { partCount: 1, encryption: u.encryption, sseCustomerKeyMd5: u.sseCustomerKeyMd5 }),
        used: [{ partNumber: 1, offset: 0, size: 10, checksumValue: null }],
      }));
      expect(done!.object).toMatchObject({ encryption: 'SSE-C', sseCustomerKeyMd5: MD5 });
      expect((await store.objects.chunksForRead(done!.object, 0, 9)).map((c) => [c.size, c.storedSize])).toEqual([[10, 45]]);
    });
  });
}
