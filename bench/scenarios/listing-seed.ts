// Seeding object metadata straight into a data dir's SQLite (schema and indexes from the real
// migrations): one transaction of prepared inserts, a million rows in well under a minute, where
// a million PUTs would take hours. Used by the listing scenario and bench/records.ts. No chunk
// files are written (chunk rows only where a row asks for one): listings and record queries
// never read them.
import path from 'node:path';
import { openDb } from '../../src/db/client.js';

export interface SeedRow {
  /** Index into the `buckets` given to seedObjects. */
  bucket: number;
  key: string;
  size: number;
  etag: string;
  contentType: string;
  /** user_metadata as stored: a JSON object of lower-case names. */
  meta: string;
  alg: string | null;
  checksum: string | null;
  lastModified: number;
  /** A chunks row (refcount counted up on reuse) and the object's single object_chunks row. */
  chunk?: { hash: string; size: number };
}

/**
 * Creates `buckets` and inserts `count` objects, `rowAt(i)` for i = 0..count-1 in that order
 * (ids follow i, as ids follow time on a real server). Returns the open database, checkpointed.
 */
export function seedObjects(dataDir: string, buckets: string[], count: number, rowAt: (i: number) => SeedRow): ReturnType<typeof openDb> {
  const opened = openDb(path.join(dataDir, 'cairn.db'), { durability: 'relaxed' });
  const db = opened.sqlite;
  const now = Date.now();
  const insBucket = db.prepare('insert into buckets (name, region, public_read, created_at) values (?, ?, 0, ?)');
  const insObject = db.prepare(
    `insert into objects (bucket_id, key, size, etag, content_type, storage_class, user_metadata, checksum_algorithm, checksum_value, checksum_type, last_modified)
     values (?, ?, ?, ?, ?, 'STANDARD', ?, ?, ?, ?, ?)`,
  );
  const insChunk = db.prepare('insert into chunks (hash, size, crc32c, refcount, created_at) values (?, ?, 0, 1, ?) on conflict (hash) do update set refcount = refcount + 1');
  const insRef = db.prepare('insert into object_chunks (object_id, seq, offset, size, chunk_hash) values (?, 0, 0, ?, ?)');
  db.transaction(() => {
    const ids = buckets.map((name) => Number(insBucket.run(name, 'us-east-1', now).lastInsertRowid));
    for (let i = 0; i < count; i++) {
      const r = rowAt(i);
      const id = Number(
        insObject.run(ids[r.bucket], r.key, r.size, r.etag, r.contentType, r.meta, r.alg, r.checksum, r.alg ? 'FULL_OBJECT' : null, r.lastModified).lastInsertRowid,
      );
      if (r.chunk) {
        insChunk.run(r.chunk.hash, r.chunk.size, now);
        insRef.run(id, r.chunk.size, r.chunk.hash);
      }
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  return opened;
}
