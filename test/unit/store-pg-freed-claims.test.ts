import { afterEach, beforeEach, expect, it } from 'vitest';
import pg from 'pg';
import { PgStore } from '../../src/db/pg/pg-store.js';
import type { ChunkPlacement, NewObject } from '../../src/store/types.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

// Chunk files a PostgreSQL commit frees are claimed for the GC grace in the freeing transaction
// itself, so no other gateway's collector can remove one between the commit and the claim while
// a GET that began before the commit still streams it.

const h = (c: string) => c.repeat(64);
const file = (c: string, size = 100): ChunkPlacement => ({ hash: h(c), size, crc32c: 1, offset: 0 });
const row = (etag: string): NewObject => ({ size: 100, etag, checksumAlgorithm: null, checksumValue: null, checksumType: null, partCount: null, lastModified: 1 });
const TTL = 60_000;

describePg('PostgreSQL: freed chunk files are claimed in the freeing commit', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let store: PgStore;
  let client: pg.Client;
  let bucketId: number;
  beforeEach(async () => {
    db = await freshPgDatabase('freed', { migrated: true });
    store = await PgStore.open({ url: db.url, poolSize: 2, freedTtlMs: TTL });
    client = new pg.Client(db.url);
    await client.connect();
    await store.buckets.create({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    bucketId = (await store.buckets.get('b'))!.id;
  });
  afterEach(async () => {
    await client.end();
    await store.close();
    await db.drop();
  });

  const claims = async () =>
    (await client.query<{ hash: string; holder: string; kind: string; left: number }>(`select hash, holder, kind, expires_at - (extract(epoch from now()) * 1000)::int8 as left from chunk_claims order by hash`)).rows.map((r) => ({ ...r, left: Number(r.left) }));

  it('an overwrite and a delete: the freed files carry a freed claim for the grace', async () => {
    await store.objects.commit(bucketId, 'k', row('"1"'), [file('a')]);
    expect(await claims()).toEqual([]);
    const over = await store.objects.commit(bucketId, 'k', row('"2"'), [file('b')]);
    expect(over.freed).toEqual([h('a')]);
    const del = await store.objects.delete(bucketId, 'k');
    expect(del.freed).toEqual([h('b')]);
    const rows = await claims();
    expect(rows.map((r) => [r.hash, r.holder, r.kind])).toEqual([
      [h('a'), 'freed', 'use'],
      [h('b'), 'freed', 'use'],
    ]);
    // The gateway's grace (freedTtlMs), not the engine's fallback of an hour.
    for (const r of rows) expect(r.left).toBeGreaterThan(TTL - 10_000);
    for (const r of rows) expect(r.left).toBeLessThanOrEqual(TTL);
  });

  it('a replaced part and an aborted upload (the other commit path) claim theirs too', async () => {
    await store.multipart.create({ id: 'u', bucketId, key: 'k', initiated: 1, checksumAlgorithm: null, checksumType: null });
    const part = { partNumber: 1, size: 100, etag: '"p"', checksumValue: null, lastModified: 1 };
    await store.multipart.commitPart('u', part, [file('c')]);
    expect((await store.multipart.commitPart('u', part, [file('d')]))!.freed).toEqual([h('c')]);
    expect((await store.multipart.abort('u'))!.freed).toEqual([h('d')]);
    expect((await claims()).map((r) => r.hash)).toEqual([h('c'), h('d')]);
  });

  it('an inline chunk frees no file and gets no claim', async () => {
    await store.objects.commit(bucketId, 'small', row('"s"'), [{ ...file('e', 5), size: 5, data: Buffer.from('hello') }]);
    expect((await store.objects.commit(bucketId, 'small', row('"t"'), [file('f')])).freed).toEqual([]);
    expect(await claims()).toEqual([]);
  });
});
