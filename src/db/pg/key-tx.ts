import pg from 'pg';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { isRetryable, retryCounts, type PgDb, type PgTx } from './client.js';
import { refuseNul } from './commit.js';
import { freedClaimsSql, type DeferringTx } from './refs.js';

// The transaction of a write to one key, in fewer round trips than client.ts withTx: BEGIN, the
// key's advisory lock and the first read go to the server as one simple-protocol batch (values
// as escaped literals). Each statement of a batch takes its own snapshot under READ COMMITTED,
// so the read runs after the lock is granted and sees every commit of the writer before.
// The chunk rows a write took to zero are deleted in the COMMIT's batch (refs.ts deleteUnused).
// Retried on serialization failures and deadlocks as withTx is.

const dialect = new PgDialect();
const ATTEMPTS = 8;

/**
 * Runs `fn` in a transaction holding (bucket, key)'s lock, with the rows of `read` (an inline
 * query, see keyStateQuery) read under it. `fn` must have no effect outside the database until
 * it resolves (it may run again). The handle it gets runs raw statements only (run.ts).
 */
export async function withKeyTx<R, T>(db: PgDb, bucketId: number, key: string, read: SQL, fn: (tx: PgTx, rows: R[]) => Promise<T>): Promise<T> {
  refuseNul(key);
  const readText = dialect.sqlToQuery(read).sql;
  const lock = `select pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(key)}, ${Math.trunc(bucketId)}))`;
  for (let i = 1; ; i++) {
    const client = await db.$client.connect();
    let broken: Error | undefined;
    try {
      const results = (await client.query(`begin isolation level read committed read write; ${lock}; ${readText}`)) as unknown as pg.QueryResult[];
      const handle: DeferringTx & { session: { client: pg.PoolClient } } = { session: { client }, deferredZeros: [], deferredFreed: [] };
      const out = await fn(handle as unknown as PgTx, results[2]!.rows as R[]);
      const zeros = handle.deferredZeros;
      const claims = handle.deferredFreed.length > 0 ? `${freedClaimsSql(handle.deferredFreed)}; ` : '';
      await client.query(zeros.length === 0 ? 'commit' : `delete from chunks where hash in (${zeros.map((h) => pg.escapeLiteral(h)).join(', ')}) and refcount <= 0; ${claims}commit`);
      return out;
    } catch (err) {
      await client.query('rollback').catch((e: Error) => (broken = e));
      if (!isRetryable(err) || i >= ATTEMPTS) throw err;
      if ((err as { code: string }).code === '40P01') retryCounts.deadlock++;
      else retryCounts.serialization++;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
    } finally {
      client.release(broken);
    }
  }
}
