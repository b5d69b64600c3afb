import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as schema from './schema.js';

// The PostgreSQL connection: node-postgres (`pg`), the driver drizzle's node-postgres adapter
// drives, with a pool per gateway. Why `pg` and these defaults: docs/postgresql.md.

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A transaction's drizzle handle (same query API as PgDb). */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

// src/db/pg/client.ts and dist/db/pg/client.js both sit three levels below the package root.
const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations-pg');
/** pg_advisory_lock key of `cairn migrate` (gateways starting together apply migrations once). */
const MIGRATE_LOCK = 0x6361_6972; // 'cair'

/**
 * int8 (bigint, count(*)) and numeric (sum of bigints) as JS numbers: every such value cairn
 * stores is below 2^53 (ms times, byte counts, ids, CRCs).
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

// drizzle's node-postgres session passes its own parsers with each query, which bypass the
// pool's: set the same two for the process, so raw `execute` rows and `sql<number>` aggregates
// come back as numbers too.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => Number(v));

export interface PgConnectOptions {
  url: string;
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  applicationName?: string;
  /** How long chunk files a commit frees stay claimed from collectors (the GC grace; refs.ts freedClaimsSql). */
  freedTtlMs?: number;
}

export interface OpenedPg {
  db: PgDb;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function pgPool(url: string, poolSize = 10, applicationName = 'cairn', freedTtlMs?: number): pg.Pool {
  // The freed-chunk grace goes in the connection's start-up parameters: no statement of its own.
  const options = freedTtlMs === undefined ? undefined : `-c cairn.freed_ttl_ms=${Math.trunc(freedTtlMs)}`;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, application_name: applicationName, connectionTimeoutMillis: 10_000, options });
  // An idle connection that the server closes (restart, admin kill) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Applies pending migrations under an advisory lock; returns how many were pending. */
export async function migratePg(pool: pg.Pool): Promise<{ applied: number }> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      const before = await countApplied(client);
      await migrate(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS });
      return { applied: (await countApplied(client)) - before };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATE_LOCK]);
    }
  } finally {
    client.release();
  }
}

async function countApplied(client: pg.PoolClient): Promise<number> {
  const r = await client.query(`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  if (!r.rows[0].present) return 0;
  return Number((await client.query('select count(*) as n from drizzle.__drizzle_migrations')).rows[0].n);
}

export async function openPg(opts: PgConnectOptions): Promise<OpenedPg> {
  const pool = pgPool(opts.url, opts.poolSize, opts.applicationName, opts.freedTtlMs);
  try {
    if (opts.migrate !== false) await migratePg(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const db = drizzle(pool, { schema }) as PgDb;
  return { db, pool, close: () => pool.end() };
}

/** SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE.has((err as { code?: string }).code ?? '');
}

/** Counts of retried transactions, by SQLSTATE (the metrics read them). */
export const retryCounts = { serialization: 0, deadlock: 0 };

/**
 * Runs `fn` in a transaction, retrying it (with a short random backoff) on a serialization
 * failure or a deadlock, up to `attempts` times. `fn` must have no effect outside the database
 * until it resolves (it may run again).
 */
export async function withTx<T>(db: PgDb, fn: (tx: PgTx) => Promise<T>, opts: { isolation?: 'read committed' | 'repeatable read' | 'serializable'; readOnly?: boolean; attempts?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  for (let i = 1; ; i++) {
    try {
      return await db.transaction(fn, { isolationLevel: opts.isolation ?? 'read committed', accessMode: opts.readOnly ? 'read only' : 'read write' });
    } catch (err) {
      if (!isRetryable(err) || i >= attempts) throw err;
      if ((err as { code: string }).code === '40P01') retryCounts.deadlock++;
      else retryCounts.serialization++;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
    }
  }
}
