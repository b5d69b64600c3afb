import { afterEach, beforeEach, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { pgPool } from '../../src/db/pg/client.js';
import { executeText, run } from '../../src/db/pg/run.js';
import { PgStore } from '../../src/db/pg/pg-store.js';
import type { PgTx } from '../../src/db/pg/client.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

// A key write's last statement goes with its COMMIT as EXECUTE of its prepared statement with
// literal values (key-tx.ts, run.ts executeText): the values must come back as the protocol's
// parameters would, and a failing batch must leave nothing behind.

describePg('PostgreSQL: a write sent with its COMMIT', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let pool: pg.Pool;
  beforeEach(async () => {
    db = await freshPgDatabase('final', { migrated: true });
    pool = pgPool(db.url, 1);
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  it('literals round-trip as parameters do: quotes, backslashes, bytes, arrays with nulls', async () => {
    const bytes = Buffer.from([0, 1, 0x27, 0x5c, 0xff, 0x22, 0x7b]);
    const q = sql`select ${"it's a \\ back'slash"}::text as t, ${bytes}::bytea as b, ${sql.param([bytes, null, Buffer.alloc(0)])}::bytea[] as bs,
      ${sql.param(['a"b', 'c\\d', "e'f", null, 'NULL', '{x,y}'])}::text[] as ts, ${sql.param([1, -2, 2 ** 52])}::int8[] as ns, ${true}::bool as yes, ${null}::text as nothing, ${-7.5}::float8 as f`;
    const client = await pool.connect();
    try {
      const viaProtocol = await run<Record<string, unknown>>({ session: { client } } as unknown as PgTx, q);
      const text = await executeText(client, q);
      expect(text).toMatch(/^execute cairn_\d+\(/);
      const viaBatch = (await client.query(`begin; ${text}; commit`)) as unknown as pg.QueryResult[];
      expect(viaBatch[1]!.rows).toEqual(viaProtocol);
      expect(viaProtocol[0]).toMatchObject({ t: "it's a \\ back'slash", b: bytes, bs: [bytes, null, Buffer.alloc(0)], ns: ['1', '-2', String(2 ** 52)], yes: true, nothing: null, f: -7.5 });
    } finally {
      client.release();
    }
  });

  it('prepares a statement once per connection, also when it was first prepared in a transaction rolled back', async () => {
    const client = await pool.connect();
    try {
      const q = sql`select ${'x'}::text || 'y' as v`;
      await client.query('begin');
      const first = await executeText(client, q);
      await client.query('rollback');
      expect(await executeText(client, q)).toBe(first);
      expect((await client.query(first)).rows).toEqual([{ v: 'xy' }]);
      // node-postgres's own path finds it parsed and sends no Parse of its own.
      expect(await run({ session: { client } } as unknown as PgTx, q)).toEqual([{ v: 'xy' }]);
    } finally {
      client.release();
    }
  });

  it('a commit that fails in the batch changes nothing and the connection serves the next', async () => {
    const store = await PgStore.open({ url: db.url, poolSize: 1 });
    try {
      await store.buckets.create({ name: 'b', region: 'us-east-1', ownerId: 'a'.repeat(64) });
      const bucketId = (await store.buckets.get('b'))!.id;
      const row = { size: 3, etag: '"e"', checksumAlgorithm: null, checksumValue: null, checksumType: null, partCount: null, lastModified: 1 };
      const inline = { hash: 'a'.repeat(64), size: 3, crc32c: 1, offset: 0, data: Buffer.from('abc') };
      await store.objects.commit(bucketId, 'k', row, [inline]);
      // A chunk row made to fail the upsert's check (size must fit int8): the batch aborts.
      await expect(store.objects.commit(bucketId, 'k', { ...row, etag: '"f"' }, [{ ...inline, hash: 'b'.repeat(64), size: 2 ** 70 }])).rejects.toThrow();
      expect((await store.objects.get(bucketId, 'k'))?.etag).toBe('"e"');
      const c = new pg.Client(db.url);
      await c.connect();
      try {
        expect((await c.query('select hash, refcount from chunks order by hash')).rows).toEqual([{ hash: 'a'.repeat(64), refcount: 1 }]);
      } finally {
        await c.end();
      }
      // Overwrite: the old inline chunk goes with the COMMIT (no file, so nothing freed).
      const r = await store.objects.commit(bucketId, 'k', { ...row, etag: '"g"' }, [{ ...inline, hash: 'c'.repeat(64) }]);
      expect(r.freed).toEqual([]);
      expect((await store.objects.get(bucketId, 'k'))?.etag).toBe('"g"');
    } finally {
      await store.close();
    }
  });
});
