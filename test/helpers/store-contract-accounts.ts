import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { ChunkPlacement, NewObject } from '../../src/store/types.js';
import { S3Error } from '../../src/s3/errors.js';
import type { StoreFactory } from './store-contract.js';

// The store contract, accounts and access: what every engine must do with accounts, keys that act
// for them (imported pairs too), and the owner and ACL of buckets and versions.

const h = (c: string) => c.repeat(64).slice(0, 64);
const chunk = (c: string): ChunkPlacement => ({ hash: h(c), size: 1, crc32c: 7, offset: 0 });
const row = (etag: string, extra: Partial<NewObject> = {}): NewObject => ({ size: 1, etag, lastModified: 1_700_000_000_000, ...extra });
const grants = [{ bucket: '*', permission: 'write' as const }];

async function rejection(p: Promise<unknown>): Promise<{ name: string; field?: string; conflict?: boolean }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; field?: string; conflict?: boolean };
    return { name: e instanceof S3Error ? e.code : e.name, field: e.field, conflict: e.conflict };
  }
  throw new Error('expected a rejection');
}

export function storeAccountsContract(name: string, factory: StoreFactory): void {
  describe(`metadata store contract, accounts and access: ${name}`, () => {
    let store: MetadataStore;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it('has the root account from the start, and makes, finds and lists others', async () => {
      const root = await store.accounts.root();
      expect(root.id).toMatch(/^[0-9a-f]{64}$/);
      expect(root.name).toBe('root');
      const ann = await store.accounts.create({ name: 'ann', email: 'Ann@Example.org' });
      expect(ann).toMatchObject({ name: 'ann', email: 'ann@example.org' });
      expect(ann.id).toMatch(/^[0-9a-f]{64}$/);
      expect(ann.id).not.toBe(root.id);
      expect(await store.accounts.get(ann.id)).toEqual(ann);
      expect(await store.accounts.byName('ann')).toEqual(ann);
      expect(await store.accounts.byEmail('ANN@example.ORG')).toEqual(ann);
      expect((await store.accounts.list()).map((a) => a.name)).toEqual(['root', 'ann']);
      expect(await store.accounts.root()).toEqual(root);
      expect(await store.accounts.get('f'.repeat(64))).toBeUndefined();
    });

    it('refuses bad and taken names and emails, changing nothing', async () => {
      await store.accounts.create({ name: 'ann', email: 'ann@example.org' });
      expect(await rejection(store.accounts.create({ name: 'ann' }))).toMatchObject({ name: 'AccountValidationError', field: 'name', conflict: true });
      expect(await rejection(store.accounts.create({ name: 'bob', email: 'ANN@example.org' }))).toMatchObject({ field: 'email', conflict: true });
      for (const bad of ['', ' x', 'a/b', 'x'.repeat(65), 'a'.repeat(64), 42]) {
        expect(await rejection(store.accounts.create({ name: bad })), String(bad)).toMatchObject({ field: 'name', conflict: false });
      }
      expect(await rejection(store.accounts.create({ name: 'bob', email: 'not-an-email' }))).toMatchObject({ field: 'email' });
      expect((await store.accounts.list()).map((a) => a.name)).toEqual(['root', 'ann']);
    });

    it('deletes an account with its keys; never the root account or one that owns a bucket', async () => {
      const root = await store.accounts.root();
      const ann = await store.accounts.create({ name: 'ann' });
      const bob = await store.accounts.create({ name: 'bob' });
      const key = await store.keys.create({ accountId: ann.id, grants });
      await store.buckets.create({ name: 'bobs', region: 'us-east-1', ownerId: bob.id });
      expect(await store.accounts.delete(root.id)).toBe('root');
      expect(await store.accounts.delete(bob.id)).toBe('owns-buckets');
      expect(await store.accounts.delete(ann.id)).toBe('deleted');
      expect(await store.accounts.delete(ann.id)).toBe('not-found');
      expect(await store.keys.get(key.id)).toBeUndefined();
      expect(await store.keys.secretFor(key.id)).toBeUndefined();
      expect((await store.accounts.list()).map((a) => a.name)).toEqual(['root', 'bob']);
    });

    it('makes keys for an account, imports fixed pairs, and refuses collisions and bad pairs', async () => {
      const ann = await store.accounts.create({ name: 'ann' });
      const made = await store.keys.create({ accountId: ann.id, grants });
      expect(made.accountId).toBe(ann.id);
      const imported = await store.keys.create({ accountId: ann.id, grants, accessKeyId: 'AKIAIMPORTED0000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
      expect(imported).toMatchObject({ id: 'AKIAIMPORTED0000001', accountId: ann.id, secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
      expect(await store.keys.secretFor('AKIAIMPORTED0000001')).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      expect((await store.keys.list(ann.id)).map((k) => k.id).sort()).toEqual([made.id, 'AKIAIMPORTED0000001'].sort());
      expect(await store.keys.list((await store.accounts.root()).id)).toEqual([]);
      const again = { accountId: ann.id, grants, accessKeyId: 'AKIAIMPORTED0000001', secretAccessKey: 'another-secret-0001' };
      expect(await rejection(store.keys.create(again))).toMatchObject({ name: 'KeyValidationError', field: 'accessKeyId', conflict: true });
      expect(await store.keys.secretFor('AKIAIMPORTED0000001')).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      for (const [id, secret, field] of [
        ['AB', 'long-enough-secret', 'accessKeyId'],
        ['HAS SPACE', 'long-enough-secret', 'accessKeyId'],
        ['X'.repeat(129), 'long-enough-secret', 'accessKeyId'],
        ['AKIAOK000000000001', 'short', 'secretAccessKey'],
        ['AKIAOK000000000001', 'has space in it', 'secretAccessKey'],
        ['AKIAOK000000000001', undefined, 'secretAccessKey'],
      ] as const) {
        expect(await rejection(store.keys.create({ accountId: ann.id, grants, accessKeyId: id, secretAccessKey: secret })), `${id} ${secret}`).toMatchObject({ field });
      }
      expect(await rejection(store.keys.create({ accountId: 'e'.repeat(64), grants }))).toMatchObject({ field: 'account' });
      expect(await store.keys.get('AKIAOK000000000001')).toBeUndefined();
    });

    it('keeps the owner and ACL of versions: commit, copy, multipart, setAcl', async () => {
      const root = await store.accounts.root();
      const ann = await store.accounts.create({ name: 'ann' });
      await store.buckets.create({ name: 'b', region: 'us-east-1', ownerId: root.id });
      const b = (await store.buckets.get('b'))!.id;
      await store.objects.commit(b, 'mine', row('"m"'), [chunk('m')]);
      await store.objects.commit(b, 'hers', row('"h"', { ownerId: ann.id, acl: '[]' }), [chunk('h')]);
      expect(await store.objects.get(b, 'mine')).toMatchObject({ ownerId: null, acl: null });
      expect(await store.objects.get(b, 'hers')).toMatchObject({ ownerId: ann.id, acl: '[]' });
      await store.objects.copy({ bucketId: b, key: 'hers' }, { bucketId: b, key: 'copy' }, (src) => ({ ...row(src.etag), ownerId: null, acl: null }));
      expect(await store.objects.get(b, 'copy')).toMatchObject({ ownerId: null, acl: null });
      expect((await store.objects.setAcl(b, 'mine', undefined, '[{"x":1}]'))?.acl).toBe('[{"x":1}]');
      expect((await store.objects.get(b, 'mine'))?.acl).toBe('[{"x":1}]');
      const version = (await store.objects.get(b, 'hers'))!.versionId;
      expect((await store.objects.setAcl(b, 'hers', version, null))?.acl).toBeNull();
      expect(await store.objects.setAcl(b, 'nope', undefined, null)).toBeUndefined();
      await store.multipart.create({ id: 'u1', bucketId: b, key: 'mp', initiated: 1, checksumAlgorithm: null, checksumType: null, ownerId: ann.id, acl: '[]' });
      expect(await store.multipart.get('u1')).toMatchObject({ ownerId: ann.id, acl: '[]' });
    });
  });
}
