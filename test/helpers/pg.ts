import { describe, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePg, pgPool } from '../../src/db/pg/client.js';

// Databases in the run's throwaway cluster (test/global-pg.ts): each caller gets a new, empty
// one. Under CI=true a missing PostgreSQL fails the tests; elsewhere they are skipped.

export const pgUnavailable = (): string => (inject('pgUrl') ? '' : inject('pgError') || 'PostgreSQL did not start');

/** describe() for PostgreSQL suites: skipped, with the reason in its name, only outside CI. */
export function describePg(name: string, fn: () => void): void {
  const why = pgUnavailable();
  if (why && process.env.CI !== 'true') describe.skip(`${name} (skipped: ${why})`, fn);
  else describe(name, fn);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

let template: Promise<string> | undefined;

/**
 * A database with cairn's schema applied, made once per test file: freshPgDatabase({ migrated: true })
 * copies it (CREATE DATABASE ... TEMPLATE), much faster than migrating each new database.
 */
function migratedTemplate(): Promise<string> {
  return (template ??= (async () => {
    const db = await freshPgDatabase('tmpl');
    const pool = pgPool(db.url, 1);
    try {
      await migratePg(pool);
    } finally {
      await pool.end();
    }
    return db.name;
  })());
}

/** A new empty database (with cairn's schema when `migrated`); drop() removes it (closing its connections first). */
export async function freshPgDatabase(prefix = 't', opts: { migrated?: boolean } = {}): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const from = opts.migrated ? await migratedTemplate() : undefined;
  const admin = inject('pgUrl');
  if (!admin) throw new Error(`PostgreSQL is needed for this test: ${pgUnavailable()}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client(admin);
  await c.connect();
  try {
    await c.query(`create database ${name}${from ? ` template ${from}` : ''}`);
  } finally {
    await c.end();
  }
  return {
    url: withDatabase(admin, name),
    name,
    drop: async () => {
      const d = new pg.Client(admin);
      await d.connect();
      try {
        await d.query(`drop database if exists ${name} with (force)`);
      } finally {
        await d.end();
      }
    },
  };
}
