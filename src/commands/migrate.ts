import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadSettings, redactUrl } from '../config.js';
import { metadataError } from '../gateway/metadata.js';
import { CliError, handle, usage, usageExits } from './common.js';
import { out, printJson } from './output.js';

// `cairn migrate`: applies the metadata engine's pending migrations and says which. Gateways
// apply them at start as well (PostgreSQL: under an advisory lock, so gateways starting together
// and this command never race); running it first makes an upgrade a step of its own.

// src/commands/ and dist/commands/ both sit two levels below the package root.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface MigrateFlags {
  dataDir?: string;
  metadata?: string;
  json?: boolean;
}

export interface MigrateReport {
  engine: 'sqlite' | 'postgres';
  /** The database file, or the URL without its password. */
  where: string;
  /** Names of the migrations this run applied, in order. */
  applied: string[];
  /** Migrations the engine has in all. */
  total: number;
}

/** Migration names (drizzle journal tags) of an engine, in order. */
function journal(folder: string): string[] {
  const j = JSON.parse(fs.readFileSync(path.join(ROOT, folder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
  return j.entries.map((e) => e.tag);
}

/** Migrations apply in order: the ones a run applied are the last `n` of the journal. */
const lastOf = (names: string[], n: number) => (n > 0 ? names.slice(-n) : []);

export async function migratePostgres(url: string): Promise<MigrateReport> {
  const { pgPool, migratePg } = await import('../db/pg/client.js');
  const pool = pgPool(url, 1, 'cairn migrate');
  try {
    const { applied } = await migratePg(pool);
    const names = journal('migrations-pg');
    return { engine: 'postgres', where: redactUrl(url), applied: lastOf(names, applied), total: names.length };
  } catch (err) {
    throw new CliError(metadataError(url, err).message);
  } finally {
    await pool.end();
  }
}

export async function migrateSqlite(dataDir: string): Promise<MigrateReport> {
  if (!fs.existsSync(dataDir) || !fs.statSync(dataDir).isDirectory()) throw usage(`no cairn data dir at ${dataDir} (use --data-dir or --metadata)`);
  const { openDb } = await import('../db/client.js');
  const file = path.join(dataDir, 'cairn.db');
  const count = () => {
    if (!fs.existsSync(file)) return 0;
    const probe = openDb(file, { durability: 'fsync', readonly: true });
    try {
      const table = probe.sqlite.prepare("select 1 from sqlite_master where name = '__drizzle_migrations'").get();
      return table ? (probe.sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n : 0;
    } finally {
      probe.close();
    }
  };
  const before = count();
  const { durability } = loadSettings(['durability']);
  openDb(file, { durability }).close();
  const names = journal('migrations');
  return { engine: 'sqlite', where: file, applied: lastOf(names, count() - before), total: names.length };
}

export function register(program: Command): void {
  usageExits(
    program
      .command('migrate')
      .description("Apply the metadata engine's pending migrations (gateways also apply them at start) and say which")
      .option('-d, --data-dir <dir>', "the SQLite engine's data dir [env CAIRN_DATA_DIR, default ./data]")
      .option('--metadata <url>', 'the PostgreSQL engine: postgres://... [env CAIRN_METADATA_URL]')
      .option('--json', 'print one JSON document: engine, where, applied (names), total'),
  ).action(
    handle(async (flags: MigrateFlags) => {
      if (flags.dataDir !== undefined && flags.metadata !== undefined) throw usage('use either --data-dir or --metadata, not both');
      const { metadata, dataDir } = loadSettings(['metadata', 'dataDir'], { metadata: flags.metadata, dataDir: flags.dataDir });
      const report = metadata !== undefined && flags.dataDir === undefined ? await migratePostgres(metadata) : await migrateSqlite(path.resolve(dataDir));
      if (flags.json) return printJson(report);
      out(
        report.applied.length === 0
          ? `${report.engine} ${report.where}: up to date (${report.total} migrations)\n`
          : `${report.engine} ${report.where}: applied ${report.applied.length} of ${report.total} migrations: ${report.applied.join(', ')}\n`,
      );
    }),
  );
}
