// Chunk claims and leases on SQLite (src/store/claims.ts): the shared statements of
// claims-sql.ts on the main connection. better-sqlite3 is synchronous, so each call has
// committed (autocommit) before the next statement runs: the write-then-read rule holds.
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { SqlChunkClaims } from './claims-sql.js';

export function sqliteClaims(db: Db): SqlChunkClaims {
  return new SqlChunkClaims({
    run: async (q: SQL) => db.run(q).changes,
    all: async <T>(q: SQL) => db.all<T>(q),
  });
}
