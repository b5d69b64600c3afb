import { afterEach, beforeEach, expect, it } from 'vitest';
import { PgStore } from '../../src/db/pg/pg-store.js';
import type { ChunkPlacement, NewObject } from '../../src/store/types.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

// Two gateways (two PgStore instances, each with its own pool) on one database: multipart uploads
// and the root account, where the upload row's lock and the root insert's conflict clause are what
// keep them consistent. After each race the chunk reference counts are audited in SQL against the
// chunk-list rows that hold them.

const h = (c: string) => c.repeat(64).slice(0, 64);
const chunk = (c: string, offset: number, size: number): ChunkPlacement => ({ hash: h(c), size, crc32c: 7, offset });
const part = (n: number, size: number, etag = `"p${n}"`) => ({ partNumber: n, size, etag, checksumValue: null, lastModified: 2 });
const row = (size: number, etag: string, partCount: number): NewObject => ({ size, etag, lastModified: 1_700_000_000_000, partCount });

describePg('PostgreSQL engine, two gateways', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let a: PgStore;
  let b: PgStore;
  let bucketId: number;

  beforeEach(async () => {
    db = await freshPgDatabase('twogw', { migrated: true });
    [a, b] = await Promise.all([PgStore.open({ url: db.url, poolSize: 4 }), PgStore.open({ url: db.url, poolSize: 4 })]);
    await a.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    bucketId = (await b.buckets.get('bkt'))!.id;
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await db.drop();
  });

  /** Chunk rows whose count is not the number of chunk-list rows naming them (both ways), and part rows of no upload. */
  async function audit(): Promise<{ wrong: unknown[]; strayParts: number }> {
    const wrong = await a.pg.pool.query(`
      with refs as (
        select chunk_hash as hash, count(*)::int as n
        from (select chunk_hash from object_chunks union all select chunk_hash from part_chunks) x
        group by chunk_hash)
      select coalesce(c.hash, r.hash) as hash, c.refcount::int as refcount, r.n
      from chunks c full join refs r on r.hash = c.hash
      where c.refcount is distinct from r.n`);
    const stray = await a.pg.pool.query(`select count(*)::int as n from part_chunks p where not exists (select 1 from multipart_uploads u where u.id = p.upload_id)`);
    return { wrong: wrong.rows, strayParts: stray.rows[0].n };
  }

  it('parts of one upload commit through both gateways, also the same part number at once', async () => {
    await a.multipart.create({ id: 'u', bucketId, key: 'big', initiated: 1, checksumAlgorithm: null, checksumType: null });
    // Every part shares chunk 's' with the others: the count of its row is the contended one.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const n = i + 1;
        const gw = n % 2 ? a : b;
        return gw.multipart.commitPart('u', part(n, 2), [chunk('s', 0, 1), chunk(String.fromCharCode(0x61 + n), 1, 1)]);
      }),
    );
    // Part 1 again from both gateways at once: one of them is the part, the other's chunks freed.
    const [ra, rb] = await Promise.all([
      a.multipart.commitPart('u', part(1, 1, '"A"'), [chunk('A', 0, 1)]),
      b.multipart.commitPart('u', part(1, 1, '"B"'), [chunk('B', 0, 1)]),
    ]);
    const parts = await b.multipart.allParts('u');
    expect(parts.map((p) => p.partNumber)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const winner = parts[0]!.etag === '"A"' ? 'A' : 'B';
    expect([ra!.freed, rb!.freed].flat().sort()).toEqual([h('b'), h(winner === 'A' ? 'B' : 'A')].sort());
    expect((await a.pg.pool.query(`select refcount::int as n from chunks where hash = $1`, [h('s')])).rows[0].n).toBe(11);
    expect(await audit()).toEqual({ wrong: [], strayParts: 0 });
  });

  it('Complete on one gateway while the other aborts: exactly one wins, no reference leaks', async () => {
    const outcomes = { completed: 0, aborted: 0 };
    for (let round = 0; round < 8; round++) {
      const id = `u${round}`;
      await a.multipart.create({ id, bucketId, key: `k${round % 2}`, initiated: 1, checksumAlgorithm: null, checksumType: null });
      await Promise.all([
        a.multipart.commitPart(id, part(1, 2), [chunk('s', 0, 1), chunk('p', 1, 1)]),
        b.multipart.commitPart(id, part(2, 1), [chunk('s', 0, 1)]),
        b.multipart.commitPart(id, part(3, 1), [chunk('q', 0, 1)]),
      ]);
      const used = [
        { partNumber: 1, offset: 0, size: 2, checksumValue: null },
        { partNumber: 2, offset: 2, size: 1, checksumValue: null },
      ];
      // Alternate which one is sent first.
      const complete = () => a.multipart.complete(id, () => ({ row: row(3, `"m${round}-2"`, 2), used }));
      const abort = () => b.multipart.abort(id);
      const [done, aborted] = round % 2 ? await Promise.all([complete(), abort()]) : await Promise.all([abort(), complete()]).then(([x, y]) => [y, x] as const);
      expect(done === undefined).not.toBe(aborted === undefined);
      if (done) {
        outcomes.completed++;
        expect(done.object).toMatchObject({ key: `k${round % 2}`, etag: `"m${round}-2"` });
        // A retried Complete on the other gateway answers from the record.
        expect(await b.multipart.getCompleted(id)).toMatchObject({ uploadId: id, etag: `"m${round}-2"`, versionId: done.object.versionId });
        expect((await b.objects.chunkList(done.object.id)).map((c) => [c.offset, c.chunkHash])).toEqual([
          [0, h('s')],
          [1, h('p')],
          [2, h('s')],
        ]);
      } else {
        outcomes.aborted++;
        expect(await b.multipart.getCompleted(id)).toBeUndefined();
      }
      expect(await a.multipart.get(id)).toBeUndefined();
      expect(await audit()).toEqual({ wrong: [], strayParts: 0 });
    }
    expect(outcomes.completed + outcomes.aborted).toBe(8);
  });

  it('UploadPart racing Abort on the other gateway: the part is dropped with the upload or refused', async () => {
    for (let round = 0; round < 8; round++) {
      const id = `r${round}`;
      await a.multipart.create({ id, bucketId, key: 'k', initiated: 1, checksumAlgorithm: null, checksumType: null });
      await a.multipart.commitPart(id, part(1, 1), [chunk('s', 0, 1)]);
      const [committed, aborted] = await Promise.all([b.multipart.commitPart(id, part(2, 1), [chunk('s', 0, 1), chunk('t', 1, 1)]), a.multipart.abort(id)]);
      expect(aborted).toBeDefined();
      if (committed === undefined) expect(aborted!.freed.sort()).toEqual([h('s')]);
      else expect(aborted!.freed.sort()).toEqual([h('s'), h('t')].sort());
      expect(await audit()).toEqual({ wrong: [], strayParts: 0 });
    }
    expect((await a.pg.pool.query('select count(*)::int as n from chunks')).rows[0].n).toBe(0);
  });

  it('a bucket deleted on one gateway: an upload started on the other is refused; one started first keeps the bucket', async () => {
    await a.multipart.create({ id: 'keep', bucketId, key: 'k', initiated: 1, checksumAlgorithm: null, checksumType: null });
    expect(await b.buckets.delete(bucketId)).toBe('not-empty');
    await b.multipart.abort('keep');
    const [deleted, created] = await Promise.allSettled([b.buckets.delete(bucketId), a.multipart.create({ id: 'race', bucketId, key: 'k', initiated: 1, checksumAlgorithm: null, checksumType: null })]);
    // Either the upload came first (the bucket stays) or the delete did (the upload is refused).
    if (created.status === 'fulfilled') expect(deleted).toMatchObject({ status: 'fulfilled', value: 'not-empty' });
    else expect([deleted, created]).toMatchObject([{ status: 'fulfilled', value: 'deleted' }, { reason: { code: 'NoSuchBucket' } }]);
    expect(await a.buckets.get('bkt')).toEqual(created.status === 'fulfilled' ? expect.objectContaining({ id: bucketId }) : undefined);
  });

  it('names and ids holding NUL are found nowhere, and a key holding it is refused', async () => {
    const nul = 'x\0y';
    expect(await a.buckets.get(nul)).toBeUndefined();
    expect(await a.buckets.getCorsByName(nul)).toBeUndefined();
    expect(await a.accounts.byName(nul)).toBeUndefined();
    expect(await a.accounts.get(nul)).toBeUndefined();
    expect(await a.accounts.delete(nul)).toBe('not-found');
    expect(await a.keys.get(nul)).toBeUndefined();
    expect(await a.keys.secretFor(nul)).toBeUndefined();
    expect(await a.keys.revoke(nul)).toBe(false);
    expect(await a.multipart.get(nul)).toBeUndefined();
    expect(await a.multipart.getCompleted(nul)).toBeUndefined();
    expect(await a.multipart.allParts(nul)).toEqual([]);
    expect(await a.multipart.abort(nul)).toBeUndefined();
    expect(await a.multipart.commitPart(nul, part(1, 1), [chunk('a', 0, 1)])).toBeUndefined();
    expect(await a.multipart.list(bucketId, nul, undefined, 10)).toEqual([]);
    await a.multipart.create({ id: 'u', bucketId, key: 'x', initiated: 1, checksumAlgorithm: null, checksumType: null });
    expect((await a.multipart.list(bucketId, '', { key: 'w\0', uploadId: 'z' }, 10)).map((u) => u.id)).toEqual(['u']);
    await expect(a.multipart.create({ id: 'v', bucketId, key: nul, initiated: 1, checksumAlgorithm: null, checksumType: null })).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await a.lifecycle.versionPage(bucketId, nul, undefined, 10)).toEqual([]);
  });

  it('gateways asking for the root account at once make one', async () => {
    const more = await Promise.all([PgStore.open({ url: db.url, poolSize: 2 }), PgStore.open({ url: db.url, poolSize: 2 })]);
    try {
      const roots = await Promise.all([a, b, ...more].flatMap((s) => [s.accounts.root(), s.accounts.root()]));
      expect(new Set(roots.map((r) => r.id)).size).toBe(1);
      expect((await a.pg.pool.query(`select count(*)::int as n from accounts`)).rows[0].n).toBe(1);
      // A key made on one gateway for the default account acts for that same root.
      const key = await more[0]!.keys.create({ grants: [{ bucket: '*', permission: 'write' }] });
      expect(key.accountId).toBe(roots[0]!.id);
      expect(await b.keys.secretFor(key.id)).toBe(key.secret);
    } finally {
      await Promise.all(more.map((s) => s.close()));
    }
  });
});
