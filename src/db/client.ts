import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

// src/db/client.ts and dist/db/client.js both sit two levels below the package root.
const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface OpenedDb {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

/**
 * Opens <dataDir>/cairn.db in WAL mode and applies pending migrations.
 * With fsync durability, synchronous=FULL: better-sqlite3's WAL default (NORMAL) may lose the
 * last commits on power loss, and a commit is what acknowledges a PUT.
 *
 * Write transactions begin IMMEDIATE (drizzle: `{ behavior: 'immediate' }`), taking the write
 * lock before their first read. The server writes through two connections (its own and the
 * commit thread's, see commit-thread.ts; the CLI may be a third). A DEFERRED transaction that
 * read first and then writes after another connection committed fails at once with
 * SQLITE_BUSY_SNAPSHOT: its snapshot is stale, and busy_timeout cannot help it. IMMEDIATE waits
 * (busy_timeout) for the lock instead. Read-only transactions stay DEFERRED.
 */
export function openDb(file: string, opts: { durability: 'fsync' | 'relaxed'; readonly?: boolean; migrate?: boolean } = { durability: 'fsync' }): OpenedDb {
  const sqlite = new Database(file, { readonly: opts.readonly ?? false });
  if (!opts.readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  // Savepoints (nested transactions; a group-commit batch falls back to one per commit when one
  // of them failed, see group-commit.ts) keep a sub-journal of every page they change, to roll
  // back to. In a temp file that is a write per page (it nearly doubled the SQL cost of a small
  // PUT when every commit had one); in memory it is a copy. It only ever serves a rollback
  // within this process, so it has no bearing on durability.
  sqlite.pragma('temp_store = MEMORY');
  // Readers (CLI, admin) may run beside the server: wait for a writer instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  if (!opts.readonly && opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS });
  return { db, sqlite, close: () => sqlite.close() };
}
