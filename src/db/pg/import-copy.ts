import type pg from 'pg';
import { ARRAY_TYPES, convertValue, type TablePlan } from './import-plan.js';
import { ImportRefusal, type SqliteSource } from './import-source.js';

// The copy itself: every table in one PostgreSQL transaction, each batch one
// `insert ... select * from unnest($1::int8[], $2::text[], ...)` (one parameter per column
// whatever the batch size; no COPY client needed). One transaction because the target is
// then all or nothing: a failure or an interrupt leaves it as empty as it was, so a gateway
// can never start on half a store and a retry needs no clean-up. PostgreSQL has no undo log
// to outgrow, so a large transaction costs nothing a per-batch commit would save.

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface CopyOptions {
  force: boolean;
  batchRows: number;
  batchBytes: number;
  /** Called after each batch and at each table's end. */
  onProgress?: (table: string, done: number, total: number) => void;
  /** Called before the secondary indexes are built again (how many). */
  onIndexes?: (count: number) => void;
}

export interface CopiedTable {
  table: string;
  rows: number;
  ms: number;
}

export interface CopyResult {
  tables: CopiedTable[];
  /** Where each bigserial sequence continues (its next value), by table. */
  sequences: Record<string, number>;
  /** Rows the target held before (with `force`: what was removed), by table; empty if none. */
  replaced: Record<string, number>;
  /** Secondary indexes built again after the load, and how long that took. */
  indexes: number;
  indexMs: number;
}

/** Rows in each table of the target that has any. */
async function occupied(client: pg.PoolClient, plans: TablePlan[]): Promise<Record<string, number>> {
  const sql = plans.map((p) => `select '${p.name}' as t, count(*) as n from ${quote(p.name)}`).join(' union all ');
  const rows = (await client.query(sql)).rows as Array<{ t: string; n: number }>;
  return Object.fromEntries(rows.filter((r) => Number(r.n) > 0).map((r) => [r.t, Number(r.n)]));
}

/** Column arrays of a batch, converted to the pg types. */
function columnArrays(plan: TablePlan, rows: unknown[][]): unknown[][] {
  const arrays = plan.columns.map(() => new Array<unknown>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < plan.columns.length; c++) arrays[c]![r] = convertValue(plan.name, plan.columns[c]!, row[c]);
  }
  return arrays;
}

/**
 * The insert of one batch: `unnest` of one array per column (one parameter per column, any
 * batch size), or for a table with bytes (inline chunk data) multi-row VALUES, whose Buffer
 * parameters node-postgres sends as binary instead of hex inside an array literal.
 */
function insertFor(plan: TablePlan): { rowsPerStatement: number; statement(rows: unknown[][]): { text: string; values: unknown[] } } {
  const cols = plan.columns.map((c) => quote(c.name)).join(', ');
  const head = `insert into ${quote(plan.name)} (${cols}) `;
  if (!plan.columns.some((c) => c.kind === 'bytes')) {
    const text = `${head}select * from unnest(${plan.columns.map((c, i) => `$${i + 1}::${ARRAY_TYPES[c.kind]}`).join(', ')})`;
    return { rowsPerStatement: Infinity, statement: (rows) => ({ text, values: columnArrays(plan, rows) }) };
  }
  const n = plan.columns.length;
  return {
    // PostgreSQL takes at most 65535 parameters in one statement.
    rowsPerStatement: Math.floor(65_535 / n),
    statement(rows) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (const row of rows) {
        tuples.push(`(${plan.columns.map((c, i) => `$${values.length + i + 1}::${ARRAY_TYPES[c.kind].slice(0, -2)}`).join(', ')})`);
        for (let c = 0; c < n; c++) values.push(convertValue(plan.name, plan.columns[c]!, row[c]));
      }
      return { text: `${head}values ${tuples.join(', ')}`, values };
    },
  };
}

async function copyTable(client: pg.PoolClient, source: SqliteSource, plan: TablePlan, total: number, opts: CopyOptions): Promise<CopiedTable> {
  const started = Date.now();
  const insert = insertFor(plan);
  let done = 0;
  let pending: Promise<unknown> | undefined;
  opts.onProgress?.(plan.name, 0, total);
  // While PostgreSQL inserts one batch, the next is read and converted.
  for (const rows of source.batches(plan, Math.min(opts.batchRows, insert.rowsPerStatement), opts.batchBytes)) {
    const statement = insert.statement(rows);
    if (pending) await pending;
    pending = client.query(statement);
    pending.catch(() => undefined);
    done += rows.length;
    opts.onProgress?.(plan.name, done - rows.length, Math.max(total, done));
  }
  if (pending) await pending;
  opts.onProgress?.(plan.name, done, Math.max(total, done));
  return { table: plan.name, rows: done, ms: Date.now() - started };
}

/**
 * Drops the copied tables' secondary indexes (not those behind a primary key or unique
 * constraint, which foreign keys and the copy's own checks need) and returns their
 * definitions: building an index once over the loaded rows is several times cheaper than
 * updating ten of them row by row. Re-created, exactly as the migrations made them, before
 * the commit; a duplicate a unique index refuses then fails the whole move.
 */
async function dropSecondaryIndexes(client: pg.PoolClient, plans: TablePlan[]): Promise<string[]> {
  const r = await client.query(
    `select i.indexname, i.indexdef from pg_indexes i
      where i.schemaname = current_schema() and i.tablename = any($1)
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
      order by i.indexname`,
    [plans.map((p) => p.name)],
  );
  for (const row of r.rows as Array<{ indexname: string }>) await client.query(`drop index ${quote(row.indexname)}`);
  return (r.rows as Array<{ indexdef: string }>).map((row) => row.indexdef);
}

/** Sets each bigserial sequence past the highest id SQLite ever handed out (AUTOINCREMENT never reuses one). */
async function continueSequences(client: pg.PoolClient, source: SqliteSource, plans: TablePlan[]): Promise<Record<string, number>> {
  const next: Record<string, number> = {};
  for (const p of plans) {
    if (!p.serial) continue;
    const max = Number((await client.query(`select coalesce(max(${quote(p.serial)}), 0) as m from ${quote(p.name)}`)).rows[0].m);
    const floor = Math.max(max, source.sequenceFloor(p.name));
    // setval(seq, n, true): the next value is n + 1; (1, false): it is 1.
    await client.query(`select setval(pg_get_serial_sequence($1, $2), $3, $4)`, [p.name, p.serial, Math.max(floor, 1), floor > 0]);
    next[p.name] = floor + 1;
  }
  return next;
}

/**
 * Copies every planned table from `source` into the (migrated) target in one transaction.
 * The tables are locked first (a gateway running on the target waits or times out instead of
 * writing into the copy); a target holding any row is refused unless `force`, which empties
 * the copied tables in the same transaction.
 */
export async function copyAll(pool: pg.Pool, source: SqliteSource, plans: TablePlan[], counts: Record<string, number>, opts: CopyOptions): Promise<CopyResult> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    try {
      await client.query(`set local lock_timeout = '10s'`);
      try {
        await client.query(`lock table ${plans.map((p) => quote(p.name)).join(', ')} in exclusive mode`);
      } catch (err) {
        if ((err as { code?: string }).code === '55P03') throw new ImportRefusal('the target database is in use (a gateway running on it holds its tables): stop every gateway using it first');
        throw err;
      }
      const before = await occupied(client, plans);
      if (Object.keys(before).length > 0) {
        if (!opts.force) {
          const what = Object.entries(before).map(([t, n]) => `${t} ${n}`).join(', ');
          throw new ImportRefusal(`the target database already holds cairn data (${what}): migrate into an empty database, or add --force to replace everything in it`);
        }
        await client.query(`truncate table ${plans.map((p) => quote(p.name)).join(', ')} restart identity`);
      }
      await client.query(`set local maintenance_work_mem = '256MB'`);
      const indexes = await dropSecondaryIndexes(client, plans);
      const tables: CopiedTable[] = [];
      for (const p of plans) tables.push(await copyTable(client, source, p, counts[p.name] ?? 0, opts));
      opts.onIndexes?.(indexes.length);
      const indexStart = Date.now();
      for (const def of indexes) await client.query(def);
      const indexMs = Date.now() - indexStart;
      const sequences = await continueSequences(client, source, plans);
      await client.query('commit');
      return { tables, sequences, replaced: before, indexes: indexes.length, indexMs };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}
