import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import * as pgSchema from './schema.js';

// What moving a SQLite store into PostgreSQL copies: every table of the pg schema (the parity
// test holds that SQLite has the same ones), parents before children, in the column types of
// the pg side. Derived from the schema, so a table or column added later is copied without
// touching this file.

/** The value kinds the copy converts to and the verification encodes. */
export type ColumnKind = 'int' | 'bool' | 'text' | 'bytes';

export interface ColumnPlan {
  name: string;
  kind: ColumnKind;
  notNull: boolean;
}

export interface TablePlan {
  name: string;
  columns: ColumnPlan[];
  primaryKey: string[];
  /** The bigserial column whose sequence must continue past the copied ids. */
  serial?: string;
  /** Tables this one references (foreign keys): copied first. */
  parents: string[];
}

/**
 * Runtime state of the processes that used the store, not data: the gateways that ran (the
 * stopped server), their chunk claims and leases. Copying them would show a dead gateway and
 * hold claims nobody renews; the new gateways write their own.
 */
export const SKIPPED_TABLES: ReadonlySet<string> = new Set(['gateways', 'chunk_claims', 'leases']);

const KINDS: Record<string, ColumnKind> = { bigint: 'int', bigserial: 'int', boolean: 'bool', text: 'text', 'text COLLATE "C"': 'text', bytea: 'bytes' };

/** The cast of a column's values in `unnest($n::<type>[])`. */
export const ARRAY_TYPES: Record<ColumnKind, string> = { int: 'int8[]', bool: 'bool[]', text: 'text[]', bytes: 'bytea[]' };

function planOf(table: PgTable): TablePlan {
  const config = getTableConfig(table);
  const columns = config.columns.map((c) => {
    const kind = KINDS[c.getSQLType()];
    if (!kind) throw new Error(`internal: no copy rule for ${config.name}.${c.name} (${c.getSQLType()})`);
    return { name: c.name, kind, notNull: c.notNull };
  });
  const primaryKey = config.primaryKeys[0]?.columns.map((c) => c.name) ?? config.columns.filter((c) => c.primary).map((c) => c.name);
  const serial = config.columns.find((c) => c.getSQLType() === 'bigserial')?.name;
  const parents = [...new Set(config.foreignKeys.map((f) => getTableConfig(f.reference().foreignTable).name))].filter((p) => p !== config.name);
  return { name: config.name, columns, primaryKey, ...(serial ? { serial } : {}), parents };
}

/** Orders tables so that every table comes after the tables it references (ties by name). */
function parentsFirst(plans: TablePlan[]): TablePlan[] {
  const byName = new Map(plans.map((p) => [p.name, p]));
  const done = new Set<string>();
  const ordered: TablePlan[] = [];
  const visit = (p: TablePlan, path: string[]) => {
    if (done.has(p.name)) return;
    if (path.includes(p.name)) throw new Error(`internal: foreign key cycle ${[...path, p.name].join(' -> ')}`);
    for (const parent of p.parents) {
      const q = byName.get(parent);
      if (q) visit(q, [...path, p.name]);
    }
    done.add(p.name);
    ordered.push(p);
  };
  for (const p of [...plans].sort((a, b) => a.name.localeCompare(b.name))) visit(p, []);
  return ordered;
}

let cached: TablePlan[] | undefined;

/** The copied tables, parents first. */
export function copyPlan(): TablePlan[] {
  if (cached) return cached;
  const tables = (Object.values(pgSchema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
  const plans = tables.map(planOf).filter((p) => !SKIPPED_TABLES.has(p.name));
  for (const p of plans) if (p.primaryKey.length === 0) throw new Error(`internal: ${p.name} has no primary key`);
  cached = parentsFirst(plans);
  return cached;
}

/** A value the copy cannot move, named by table, column and row. */
export class ImportValueError extends Error {
  constructor(
    message: string,
    readonly table: string,
    readonly column: string,
  ) {
    super(message);
    this.name = 'ImportValueError';
  }
}

/**
 * One SQLite value as the pg column takes it: integers stay numbers (every stored integer is
 * below 2^53), 0/1 become booleans, blobs Buffers. Anything else (a string in an integer
 * column, a blob in a text column, a NUL in text) is refused rather than guessed at.
 */
export function convertValue(table: string, col: ColumnPlan, v: unknown): number | boolean | string | Buffer | null {
  if (v === null || v === undefined) {
    if (col.notNull) throw new ImportValueError(`${table}.${col.name} is NULL but the column is NOT NULL`, table, col.name);
    return null;
  }
  switch (col.kind) {
    case 'int':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
      break;
    case 'bool':
      if (v === 0 || v === 1) return v === 1;
      break;
    case 'text':
      if (typeof v === 'string') {
        // PostgreSQL text cannot hold U+0000 (the preflight names such rows; this is the backstop).
        if (v.includes('\u0000')) throw new ImportValueError(`${table}.${col.name} holds a NUL character, which PostgreSQL text cannot store`, table, col.name);
        return v;
      }
      break;
    case 'bytes':
      if (Buffer.isBuffer(v)) return v;
      break;
  }
  throw new ImportValueError(`${table}.${col.name} holds a ${typeof v === 'object' ? 'blob' : typeof v} where ${col.kind === 'bytes' ? 'bytes' : col.kind === 'bool' ? '0 or 1' : col.kind === 'int' ? 'an integer' : 'text'} is expected`, table, col.name);
}
