// Chunk claims and leases on PostgreSQL (src/store/claims.ts): the shared statements of
// claims-sql.ts, each its own autocommit statement, so a claim is committed (visible to every
// gateway under READ COMMITTED) before the same caller's next read.
import type { SQL } from 'drizzle-orm';
import { SqlChunkClaims } from '../claims-sql.js';
import type { PgDb } from './client.js';

export function pgClaims(db: PgDb): SqlChunkClaims {
  return new SqlChunkClaims({
    run: async (q: SQL) => (await db.execute(q)).rowCount ?? 0,
    all: async <T>(q: SQL) => (await db.execute(q)).rows as T[],
  });
}
