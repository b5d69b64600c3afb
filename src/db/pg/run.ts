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

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) names.set(text, (name = `cairn_${names.size}`));
  return name;
}

/**
 * A statement written as text, its values added as parameters ($n) in order: the write path's
 * big statement, whose drizzle SQL tree cost more gateway CPU to walk than the rest of a PUT.
 */
export class Statement {
  text = '';
  readonly params: unknown[] = [];
  /** Adds a value; returns its placeholder. */
  p(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

function compile(query: SQL | Statement): { sql: string; params: unknown[] } {
  return query instanceof Statement ? { sql: query.text, params: query.params } : dialect.sqlToQuery(query);
}

export async function run<T>(on: PgDb | PgTx, query: SQL | Statement): Promise<T[]> {
  const { sql: text, params } = compile(query);
  const r = await clientOf(on).query({ name: nameOf(text), text, values: params as unknown[] });
  return r.rows as T[];
}

const BS = '\\';
const prepareValue = (pg as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils.prepareValue;

/**
 * A parameter as a literal, as node-postgres would send it in text format. Bytes (bytea, and
 * bytea[] of a chunk upsert) are written as hex straight into an E'' string: escapeLiteral's
 * character loop over kilobytes of hex cost more than the rest of the statement.
 */
function literal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Buffer.isBuffer(v)) return `E'${BS.repeat(2)}x${v.toString('hex')}'`;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => x === null || Buffer.isBuffer(x))) {
    // Array syntax escapes the backslash once, the E'' string once more.
    return `E'{${v.map((x: Buffer | null) => (x === null ? 'NULL' : `${BS.repeat(4)}x${x.toString('hex')}`)).join(',')}}'`;
  }
  return pg.escapeLiteral(String(prepareValue(v)));
}

/**
 * `query` as text for a simple-protocol batch (key-tx.ts): EXECUTE of its named statement with
 * the values as literals, so it keeps its cached plan. The statement is prepared on this
 * connection first if it is not yet (PREPARE is not undone by a rollback).
 */
export async function executeText(client: pg.PoolClient, query: SQL | Statement): Promise<string> {
  const { sql: text, params } = compile(query);
  const name = nameOf(text);
  const values = (params as unknown[]).map(literal);
  if (name === undefined) return inlineParams(text, values);
  // node-postgres's own record of the statements it parsed on this connection (it then skips Parse).
  const parsed = (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
  if (parsed[name] === undefined) {
    await client.query(`prepare ${name} as ${text}`);
    parsed[name] = text;
  }
  return values.length > 0 ? `execute ${name}(${values.join(', ')})` : `execute ${name}`;
}

/** `text` with its $n placeholders replaced by `values` (past the statement cache's size only). */
function inlineParams(text: string, values: string[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => values[Number(n) - 1]!);
}
