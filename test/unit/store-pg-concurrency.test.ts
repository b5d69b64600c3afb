import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgStore } from '../../src/db/pg/pg-store.js';
import { withTx } from '../../src/db/pg/client.js';
import { lockKey } from '../../src/db/pg/commit.js';
import type { ChunkPlacement, NewObject } from '../../src/store/types.js';
import { parseListParams } from '../../src/s3/list-params.js';
import { parseVersionListParams } from '../../src/s3/version-list.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { failure } from '../helpers/store-contract.js';

// The PostgreSQL object store with several gateways on one database: each PgStore has its own
// pool, as separate processes would. Writers of one key on different gateways queue on the key's
// advisory lock; the audit then checks what no interleaving may break: every chunk's count is the
// number of chunk-list rows naming it, and each key has one current row exactly when its newest
// version is not a delete marker.

const GATEWAYS = 4;
const h = (n: number) => n.toString(16).padStart(64, '0');
const chunk = (n: number, offset = 0): ChunkPlacement => ({ hash: h(n), size: 1, crc32c: 7, offset });
const row = (etag: string, versionId = 'null', extra: Partial<NewObject> = {}): NewObject => ({ size: 1, etag, lastModified: 1_700_000_000_000, versionId, ...extra });
const vid = (n: number) => `v${String(n).padStart(31, '0')}`;

describePg('PostgreSQL object store, several gateways on one database', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let stores: PgStore[];
  let audit: pg.Client;
  let bucketId: number;

  beforeAll(async () => {
    db = await freshPgDatabase('conc', { migrated: true });
    stores = await Promise.all(Array.from({ length: GATEWAYS }, () => PgStore.open({ url: db.url, poolSize: 4 })));
    await stores[0]!.buckets.create({ name: 'bkt', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    bucketId = (await stores[1]!.buckets.get('bkt'))!.id;
    audit = new pg.Client(db.url);
    await audit.connect();
  });
  afterAll(async () => {
    await audit?.end();
    await Promise.all((stores ?? []).map((s) => s.close()));
    await db?.drop();
  });

  const gw = (i: number) => stores[i % GATEWAYS]!;

  /** Rows breaking the invariants: each query returns nothing when the metadata is consistent. */
  async function violations(): Promise<unknown[]> {
    const q = async (text: string) => (await audit.query(text)).rows;
    return [
      ...(await q(`select c.hash, c.refcount, coalesce(o.n, 0) + coalesce(p.n, 0) as uses from chunks c
          left join (select chunk_hash, count(*) n from object_chunks group by 1) o on o.chunk_hash = c.hash
          left join (select chunk_hash, count(*) n from part_chunks group by 1) p on p.chunk_hash = c.hash
          where c.refcount <> coalesce(o.n, 0) + coalesce(p.n, 0)`)),
      ...(await q(`select bucket_id, key, count(*) filter (where is_current) as current,
            bool_or(is_current and id = newest) as current_is_newest, bool_or(id = newest and not delete_marker) as newest_is_object
          from (select *, max(id) over (partition by bucket_id, key) as newest from objects) v group by 1, 2
          having count(*) filter (where is_current) <> (case when bool_or(id = newest and not delete_marker) then 1 else 0 end)
              or (count(*) filter (where is_current) = 1 and not bool_or(is_current and id = newest))`)),
      ...(await q(`select bucket_id, key from objects where delete_marker and (size <> 0 or exists (select 1 from object_chunks where object_id = objects.id))`)),
    ];
  }

  it('of concurrent If-None-Match: * commits of one key on different gateways exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `once-${round}`;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => gw(i).objects.commit(bucketId, key, row(`"${i}"`), [chunk(1000 + round * 100 + i)], [], { condition: { ifNoneMatch: true } })),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('ConditionalRequestConflict');
      // Every gateway reads the winner at once (no cache).
      const etags = await Promise.all(stores.map(async (s) => (await s.objects.getForRead(bucketId, key))?.etag));
      expect(new Set(etags).size).toBe(1);
    }
    expect(await violations()).toEqual([]);
  });

  it('concurrent overwrites, versions, markers, deletes and copies of a few keys keep counts and current rows consistent', async () => {
    const keys = ['k0', 'k1', 'k2'];
    let n = 0;
    const op = async (i: number) => {
      const s = gw(i);
      const key = keys[i % keys.length]!;
      // Chunks shared across keys and versions, two per object (a few of them the same twice).
      const c = [chunk(i % 7), chunk((i * 3) % 5, 1)];
      switch (i % 6) {
        case 0:
        case 1:
          return s.objects.commit(bucketId, key, row(`"${i}"`), c);
        case 2:
          return s.objects.commit(bucketId, key, row(`"${i}"`, vid(++n)), c);
        case 3:
          return s.objects.delete(bucketId, key, { markerVersionId: i % 4 === 3 ? vid(++n) : 'null' });
        case 4:
          return s.objects.copy({ bucketId, key }, { bucketId, key: keys[(i + 1) % keys.length]! }, (src) => row(src.etag, 'null', { size: src.size })).catch(() => undefined);
        default:
          return s.objects.delete(bucketId, key, {});
      }
    };
    for (let round = 0; round < 6; round++) {
      await Promise.all(Array.from({ length: 24 }, (_, j) => op(round * 24 + j)));
      expect(await violations()).toEqual([]);
    }
  });

  it('copies crossing each other (A to B while B to A) both complete', async () => {
    await gw(0).objects.commit(bucketId, 'x', row('"x"'), [chunk(50)]);
    await gw(1).objects.commit(bucketId, 'y', row('"y"'), [chunk(51)]);
    for (let i = 0; i < 10; i++) {
      const [a, b] = await Promise.all([
        gw(i).objects.copy({ bucketId, key: 'x' }, { bucketId, key: 'y' }, (s) => row(s.etag)),
        gw(i + 1).objects.copy({ bucketId, key: 'y' }, { bucketId, key: 'x' }, (s) => row(s.etag)),
      ]);
      expect(a && b).toBeTruthy();
    }
    expect(await violations()).toEqual([]);
  });

  it('the audit sees a wrong count and a key without its current row', async () => {
    await gw(0).objects.commit(bucketId, 'two', row('"1"', vid(900)), [chunk(52)]);
    await gw(1).objects.commit(bucketId, 'two', row('"2"', vid(901)), [chunk(52)]);
    await audit.query(`update chunks set refcount = refcount + 1 where hash = $1`, [h(52)]);
    expect(await violations()).toHaveLength(1);
    await audit.query(`update chunks set refcount = refcount - 1 where hash = $1`, [h(52)]);
    await audit.query(`update objects set is_current = false where key = 'two'`);
    expect(await violations()).toHaveLength(1);
    await audit.query(`update objects set is_current = true where key = 'two' and version_id = $1`, [vid(901)]);
    expect(await violations()).toEqual([]);
  });

  it('lockKey (parameters) and the key transaction (literals) take the same lock', async () => {
    const key = "it's \\ the key";
    let released = false;
    let committed = false;
    const commit = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      await gw(1).objects.commit(bucketId, key, row('"after"'), [chunk(80)]);
      committed = true;
      expect(released).toBe(true);
    })();
    await withTx(stores[0]!.pg.db, async (tx) => {
      await lockKey(tx, bucketId, key);
      await new Promise((r) => setTimeout(r, 400));
      expect(committed).toBe(false);
      released = true;
    });
    await commit;
    expect((await gw(2).objects.get(bucketId, key))!.etag).toBe('"after"');
  });

  it('sorts keys byte-wise in listings and versions', async () => {
    await stores[0]!.buckets.create({ name: 'order', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    const b = (await gw(1).buckets.get('order'))!.id;
    const keys = ['a', 'B', '\u00e9', '\u{1F600}', 'a/b', 'a-b', '\uFFFD', 'Z'];
    for (const [i, k] of keys.entries()) await gw(i).objects.commit(b, k, row(`"${i}"`, vid(i + 1)), [chunk(60)]);
    const bytewise = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(bytewise).toEqual(['B', 'Z', 'a', 'a-b', 'a/b', '\u00e9', '\uFFFD', '\u{1F600}']);
    const page = await gw(2).objects.listPage(b, parseListParams(new URLSearchParams('max-keys=100'), 2));
    expect(page.contents.map((o) => o.key)).toEqual(bytewise);
    const versions = await gw(3).objects.listVersions(b, parseVersionListParams(new URLSearchParams('')));
    expect(versions.entries.map((e) => e.row.key)).toEqual(bytewise);
    const after = await gw(0).objects.listPage(b, parseListParams(new URLSearchParams('start-after=a&delimiter=/'), 2));
    expect([after.contents.map((o) => o.key), after.commonPrefixes]).toEqual([['a-b', '\u00e9', '\uFFFD', '\u{1F600}'], ['a/']]);
  });

  it('refuses a key containing NUL (InvalidArgument) and never finds one', async () => {
    const key = 'bad\u0000key';
    expect(await failure(gw(0).objects.commit(bucketId, key, row('"n"'), [chunk(70)]))).toBe('InvalidArgument');
    expect(await failure(gw(0).objects.delete(bucketId, key, {}))).toBe('InvalidArgument');
    expect(await gw(1).objects.get(bucketId, key)).toBeUndefined();
    expect(await gw(1).objects.getForRead(bucketId, key)).toBeUndefined();
    expect(await gw(1).objects.latest(bucketId, key)).toBeUndefined();
    expect(await gw(1).objects.getVersion(bucketId, key, 'null')).toBeUndefined();
    expect(await gw(1).objects.isChunkReferenced(h(70))).toBe(false);
    // Listing after such a key: the keys after its part before the NUL.
    await gw(2).objects.commit(bucketId, 'bad', row('"b"'), [chunk(71)]);
    await gw(2).objects.commit(bucketId, 'bad0', row('"b"'), [chunk(71)]);
    const page = await gw(3).objects.listPage(bucketId, parseListParams(new URLSearchParams(`prefix=bad&start-after=${encodeURIComponent(key)}`), 2));
    expect(page.contents.map((o) => o.key)).toEqual(['bad0']);
    expect((await gw(3).objects.listPage(bucketId, parseListParams(new URLSearchParams(`prefix=${encodeURIComponent('bad\u0000')}`), 2))).contents).toEqual([]);
  });
});
