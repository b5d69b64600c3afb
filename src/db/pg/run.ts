import pg from 'pg';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { PgDb, PgTx } from './client.js';

// Raw statements of the object store, run on node-postgres itself rather than through drizzle's
// execute: the pool's type parsers apply (int8 as JS numbers; drizzle's raw execute brings its
// own parsers), and each statement text gets a name, so every connection parses and plans it
// once (a server-side prepared statement) instead of on every GET and PUT.

const dialect = new PgDialect();
const names = new Map<string, string>();
/** Statement shapes are few (texts differ by shape, never by value); past this, run unnamed. */
const MAX_NAMES = 1000;

/** The node-postgres client under a drizzle handle: the pool, or a transaction's connection. */
function clientOf(on: PgDb | PgTx): pg.Pool | pg.PoolClient {
  const client = (on as unknown as { $client?: pg.Pool }).$client ?? (on as unknown as { session: { client: pg.PoolClient } }).session.client;
  return client;
}

export async function run<T>(on: PgDb | PgTx, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) names.set(text, (name = `cairn_${names.size}`));
  const r = await clientOf(on).query({ name, text, values: params as unknown[] });
  return r.rows as T[];
}

/** A value of a query: a parameter, or (`inline`) an escaped literal for a simple-protocol batch (key-tx.ts). */
export function value(x: string | number, inline: boolean): SQL {
  if (!inline) return sql`${x}`;
  return sql.raw(typeof x === 'number' ? String(Math.trunc(x)) : pg.escapeLiteral(x));
}
