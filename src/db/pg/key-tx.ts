import pg from 'pg';
import type { SQL } from 'drizzle-orm';
import { isRetryable, retryCounts, type PgDb, type PgTx } from './client.js';
import { refuseNul } from './commit.js';
import { zeroCleanup, type DeferringTx } from './refs.js';
import { executeText, type Statement } from './run.js';

// The transaction of a write to one key, in fewer round trips than client.ts withTx: BEGIN, the
// key's advisory lock and the first read go to the server as one simple-protocol batch (the read
// as EXECUTE of its prepared statement, values as literals: run.ts executeText). Each statement
// of a batch takes its own snapshot under READ COMMITTED, so the read runs after the lock is
// granted and sees every commit of the writer before.
// The chunk rows a write took to zero are deleted in the COMMIT's batch (refs.ts zeroCleanup).
// A body whose last statement is its write (commit.ts writeVersion, through `finalStatement`)
// sends that statement with the COMMIT: BEGIN ... COMMIT in two round trips.
// Retried on serialization failures and deadlocks as withTx is.

const ATTEMPTS = 8;

/** A key transaction's handle: the body's last statement may go with the COMMIT. */
export interface FinalTx {
  /**
   * Runs `query` in the COMMIT's batch with the deletion of the chunk rows among `candidates`
   * left at zero; resolves with its rows and the chunk files freed once committed. The body
   * must run nothing after it and must not fail after it resolves (the write is committed).
   */
  finalStatement(query: SQL | Statement, candidates: string[]): Promise<{ rows: unknown[]; freed: string[] }>;
}

type Handle = DeferringTx & FinalTx & { session: { client: pg.PoolClient } };
interface Final {
  query: SQL | Statement;
  candidates: string[];
  settle(v: { rows: unknown[]; freed: string[] } | Error): void;
}

/**
 * Runs `fn` in a transaction holding (bucket, key)'s lock, with the rows of `read` (see
 * keyStateQuery) read under it. `fn` must have no effect outside the database until
 * it resolves (it may run again). The handle it gets runs raw statements only (run.ts).
 */
export async function withKeyTx<R, T>(db: PgDb, bucketId: number, key: string, read: SQL, fn: (tx: PgTx, rows: R[]) => Promise<T>): Promise<T> {
  refuseNul(key);
  const lock = `select pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(key)}, ${Math.trunc(bucketId)}))`;
  for (let i = 1; ; i++) {
    const client = await db.$client.connect();
    let broken: Error | undefined;
    let committed = false;
    try {
      const readText = await executeText(client, read);
      const results = (await client.query(`begin isolation level read committed read write; ${lock}; ${readText}`)) as unknown as pg.QueryResult[];
      let final: Final | undefined;
      let registered!: () => void;
      const asked = new Promise<'final'>((resolve) => (registered = () => resolve('final')));
      const handle: Handle = {
        session: { client },
        deferredZeros: [],
        finalStatement: (query, candidates) =>
          new Promise((resolve, reject) => {
            if (final) return reject(new Error('withKeyTx: one final statement per transaction'));
            final = { query, candidates, settle: (v) => (v instanceof Error ? reject(v) : resolve(v)) };
            registered();
          }),
      };
      const body = fn(handle as unknown as PgTx, results[2]!.rows as R[]);
      if ((await Promise.race([body.then(() => 'done' as const), asked])) === 'final') {
        await commitWithFinal(client, handle, final!);
        committed = true;
        return await body;
      }
      const zeros = handle.deferredZeros;
      await client.query(zeros.length === 0 ? 'commit' : `${await executeText(client, zeroCleanup(zeros))}; commit`);
      return await body;
    } catch (err) {
      if (committed) throw err;
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

/** The final statement, the zero-count cleanup and COMMIT in one simple-protocol batch. */
async function commitWithFinal(client: pg.PoolClient, handle: Handle, final: Final): Promise<void> {
  const candidates = [...new Set([...final.candidates, ...handle.deferredZeros])].sort();
  try {
    const cleanup = candidates.length > 0 ? await executeText(client, zeroCleanup(candidates)) : undefined;
    const text = await executeText(client, final.query);
    const results = (await client.query(`${text}; ${cleanup ? `${cleanup}; ` : ''}commit`)) as unknown as pg.QueryResult[];
    const rows = results[0]!.rows;
    const freed = cleanup ? (results[1]!.rows[0] as { freed: string[] }).freed : [];
    final.settle({ rows, freed });
  } catch (err) {
    final.settle(err as Error);
    throw err;
  }
}
