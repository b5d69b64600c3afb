import { describe, expect, it } from 'vitest';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import * as sqliteSchema from '../../src/db/schema.js';
import * as pgSchema from '../../src/db/pg/schema.js';

// The two engines hold the same tables with the same columns (names, nullability, primary
// keys): a column added to one schema and not the other fails here.

interface TableShape {
  name: string;
  columns: Array<{ name: string; notNull: boolean; primary: boolean }>;
  primaryKeys: Array<{ columns: Array<{ name: string }> }>;
}

/** Tables of a schema module as names, sorted columns (with NOT NULL) and primary key. */
function describeTables<T>(schema: object, isTable: (t: unknown) => t is T, config: (t: T) => TableShape) {
  return (Object.values(schema) as unknown[])
    .filter(isTable)
    .map((t) => {
      const c = config(t);
      const pk = c.primaryKeys[0]?.columns.map((x) => x.name) ?? c.columns.filter((x) => x.primary).map((x) => x.name);
      return { table: c.name, columns: c.columns.map((x) => `${x.name}${x.notNull ? ' not null' : ''}`).sort(), pk: pk.sort() };
    })
    .sort((a, b) => a.table.localeCompare(b.table));
}

const describeSqlite = () => describeTables(sqliteSchema, (t): t is SQLiteTable => t instanceof SQLiteTable, sqliteConfig);
const describePostgres = () => describeTables(pgSchema, (t): t is PgTable => t instanceof PgTable, pgConfig);

describe('schema parity: SQLite and PostgreSQL', () => {
  it('have the same tables, columns and primary keys', () => {
    const s = describeSqlite();
    expect(s.length).toBeGreaterThan(15);
    expect(describePostgres()).toEqual(s);
  });
});
