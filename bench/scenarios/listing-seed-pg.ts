// listing-seed.ts for the PostgreSQL engine: the same rows, inserted in batches through unnest()
// (one statement per 5,000 rows) into a database the store has migrated, owned by its root account.
import pg from 'pg';
import { PgStore } from '../../src/db/pg/pg-store.js';
import type { SeedRow } from './listing-seed.js';

const BATCH = 5000;

export async function seedPostgres(url: string, buckets: string[], count: number, rowAt: (i: number) => SeedRow, opts: { versioned?: boolean } = {}): Promise<void> {
  const store = await PgStore.open({ url, poolSize: 1 });
  const ids: number[] = [];
  try {
    const owner = (await store.accounts.root()).id;
    for (const name of buckets) {
      await store.buckets.create({ name, region: 'us-east-1', ownerId: owner });
      const b = (await store.buckets.get(name))!;
      if (opts.versioned) await store.buckets.setVersioning(b.id, 'Enabled');
      ids.push(b.id);
    }
  } finally {
    await store.close();
  }
  const client = new pg.Client(url);
  await client.connect();
  const now = Date.now();
  try {
    await client.query('begin');
    for (let start = 0; start < count; start += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => rowAt(start + j));
      const col = <T>(pick: (r: SeedRow) => T) => rows.map(pick);
      const inserted = await client.query(
        `insert into objects (bucket_id, key, size, etag, content_type, storage_class, user_metadata, checksum_algorithm, checksum_value, checksum_type, last_modified, version_id, is_current, delete_marker)
         select b, k, s, e, ct, 'STANDARD', m, a, c, case when a is null then null else 'FULL_OBJECT' end, lm, v, cur, dm
         from unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::bool[], $12::bool[])
           with ordinality as t(b, k, s, e, ct, m, a, c, lm, v, cur, dm, n)
         order by n
         returning id`,
        [
          col((r) => ids[r.bucket]),
          col((r) => r.key),
          col((r) => r.size),
          col((r) => r.etag),
          col((r) => r.contentType),
          col((r) => r.meta),
          col((r) => r.alg),
          col((r) => r.checksum),
          col((r) => r.lastModified),
          col((r) => r.versionId ?? 'null'),
          col((r) => r.isCurrent !== false),
          col((r) => r.deleteMarker === true),
        ],
      );
      const withChunk = rows.map((r, j) => ({ r, id: Number(inserted.rows[j].id) })).filter((x) => x.r.chunk);
      if (withChunk.length > 0) {
        const counts = new Map<string, { size: number; n: number }>();
        for (const { r } of withChunk) counts.set(r.chunk!.hash, { size: r.chunk!.size, n: (counts.get(r.chunk!.hash)?.n ?? 0) + 1 });
        const hashes = [...counts.keys()].sort();
        await client.query(
          `insert into chunks (hash, size, crc32c, refcount, created_at) select h, s, 0, n, $4 from unnest($1::text[], $2::bigint[], $3::bigint[]) as t(h, s, n)
           on conflict (hash) do update set refcount = chunks.refcount + excluded.refcount`,
          [hashes, hashes.map((h) => counts.get(h)!.size), hashes.map((h) => counts.get(h)!.n), now],
        );
        await client.query(`insert into object_chunks (object_id, seq, "offset", size, chunk_hash) select o, 0, 0, s, h from unnest($1::bigint[], $2::bigint[], $3::text[]) as t(o, s, h)`, [
          withChunk.map((x) => x.id),
          withChunk.map((x) => x.r.chunk!.size),
          withChunk.map((x) => x.r.chunk!.hash),
        ]);
      }
    }
    await client.query('commit');
    await client.query('vacuum analyze objects');
  } finally {
    await client.end();
  }
}
