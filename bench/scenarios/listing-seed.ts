// Seeding object metadata straight into a data dir's SQLite (schema and indexes from the real
// migrations): one transaction of prepared inserts, a million rows in well under a minute, where
// a million PUTs would take hours. Used by the listing and versions scenarios, bench/ab.ts
// --listing and bench/records.ts. No chunk files are written (chunk rows only where a row asks
// for one): listings and record queries never read them.
import path from 'node:path';
import { openDb } from '../../src/db/client.js';

export interface SeedRow {
  /** Index into the `buckets` given to seedObjects. */
  bucket: number;
  key: string;
  size: number;
  etag: string;
  /** null for a delete marker. */
  contentType: string | null;
  /** user_metadata as stored: a JSON object of lower-case names. */
  meta: string;
  alg: string | null;
  checksum: string | null;
  lastModified: number;
  /** A chunks row (refcount counted up on reuse) and the object's single object_chunks row. */
  chunk?: { hash: string; size: number };
  /**
   * A version of a versioned bucket (default: the one 'null' version, current, no marker). The
   * caller keeps the model's rules: at most one current row per key, none when the newest
   * version is a delete marker, and a key's newest version inserted last (highest id).
   */
  versionId?: string;
  isCurrent?: boolean;
  deleteMarker?: boolean;
}

/**
 * Creates `buckets` (with versioning Enabled if `opts.versioned`) and inserts `count` objects,
 * `rowAt(i)` for i = 0..count-1 in that order (ids follow i, as ids follow time on a real
 * server). Returns the open database, checkpointed.
 */
export function seedObjects(dataDir: string, buckets: string[], count: number, rowAt: (i: number) => SeedRow, opts: { versioned?: boolean } = {}): ReturnType<typeof openDb> {
  const opened = openDb(path.join(dataDir, 'cairn.db'), { durability: 'relaxed' });
  const db = opened.sqlite;
  const now = Date.now();
  // Owned by the first account (the root key's), as buckets the bench's root key creates are.
  const insBucket = db.prepare('insert into buckets (name, region, owner_id, created_at) values (?, ?, (select id from accounts order by rowid limit 1), ?)');
  const insObject = db.prepare(
    `insert into objects (bucket_id, key, size, etag, content_type, storage_class, user_metadata, checksum_algorithm, checksum_value, checksum_type, last_modified)
     values (?, ?, ?, ?, ?, 'STANDARD', ?, ?, ?, ?, ?)`,
  );
  // Only rows that say which version they are use the version columns (schema 0006).
  const insVersion = db.prepare(
    `insert into objects (bucket_id, key, size, etag, content_type, storage_class, user_metadata, checksum_algorithm, checksum_value, checksum_type, last_modified, version_id, is_current, delete_marker)
     values (?, ?, ?, ?, ?, 'STANDARD', ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insChunk = db.prepare('insert into chunks (hash, size, crc32c, refcount, created_at) values (?, ?, 0, 1, ?) on conflict (hash) do update set refcount = refcount + 1');
  const insRef = db.prepare('insert into object_chunks (object_id, seq, offset, size, chunk_hash) values (?, 0, 0, ?, ?)');
  db.transaction(() => {
    const ids = buckets.map((name) => Number(insBucket.run(name, 'us-east-1', now).lastInsertRowid));
    if (opts.versioned) db.prepare("update buckets set versioning = 'Enabled'").run();
    for (let i = 0; i < count; i++) {
      const r = rowAt(i);
      const common = [ids[r.bucket], r.key, r.size, r.etag, r.contentType, r.meta, r.alg, r.checksum, r.alg ? 'FULL_OBJECT' : null, r.lastModified];
      const id = Number(
        (r.versionId === undefined ? insObject.run(...common) : insVersion.run(...common, r.versionId, r.isCurrent === false ? 0 : 1, r.deleteMarker ? 1 : 0)).lastInsertRowid,
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
