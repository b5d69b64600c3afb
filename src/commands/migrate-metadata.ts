import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ImportResult } from '../db/pg/import-sqlite.js';
import { CREDENTIALS_FILE, readRootCredentials } from '../auth/credentials.js';
import { ADMIN_TOKEN_FILE, tokenSha256 } from '../admin/token.js';
import { ADMIN_TOKEN_SETTING, ROOT_CREDENTIALS_SETTING } from '../gateway/shared-settings.js';
import { CliError, EXIT_FAILED, handle, parsePositiveInt, usage, usageExits } from './common.js';
import { humanDuration, note, out, printJson, table } from './output.js';
import { progress, type ProgressReporter } from './progress.js';

interface MigrateFlags {
  from: string;
  to?: string;
  force?: boolean;
  verifyOnly?: boolean;
  batchRows?: string;
  json?: boolean;
  progress: boolean;
}

/** The --to value (or CAIRN_METADATA_URL): a postgres:// or postgresql:// URL naming a database. */
export function parseTarget(value: string | undefined): string {
  if (!value) throw usage('--to is required: the target database, e.g. postgres://cairn@db.example:5432/cairn (or set CAIRN_METADATA_URL)');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw usage('--to: not a URL (expected postgres://user[:password]@host[:port]/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw usage(`--to: expected a postgres:// URL, got a ${u.protocol}// one`);
  if (!u.pathname || u.pathname === '/') throw usage('--to: the URL names no database (postgres://user@host:5432/<database>)');
  return value;
}

/**
 * The data dir's root pair and admin token as the settings rows PostgreSQL gateways read
 * (src/gateway/shared-settings.ts): after the move, clients keep their root pair and the admin
 * API its token, unless the gateways' environment sets others.
 */
export function dataDirSettings(from: string): Array<{ name: string; value: string; updatedAt: number }> {
  const dir = fs.statSync(from, { throwIfNoEntry: false })?.isDirectory() ? from : path.dirname(from);
  const rows: Array<{ name: string; value: string; updatedAt: number }> = [];
  // The files' times: the same rows on every run, so a later --verify-only compares like with like.
  const mtime = (file: string) => Math.floor(fs.statSync(path.join(dir, file)).mtimeMs);
  let pair;
  try {
    pair = readRootCredentials(dir);
  } catch (err) {
    throw new CliError(`cannot read the root credentials of ${dir}: ${(err as Error).message}`);
  }
  if (pair) rows.push({ name: ROOT_CREDENTIALS_SETTING, value: JSON.stringify(pair), updatedAt: mtime(CREDENTIALS_FILE) });
  const tokenFile = path.join(dir, ADMIN_TOKEN_FILE);
  const token = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : '';
  if (token.length >= 16) rows.push({ name: ADMIN_TOKEN_SETTING, value: tokenSha256(token), updatedAt: mtime(ADMIN_TOKEN_FILE) });
  return rows;
}

export function migrateReport(r: ImportResult, verifyOnly: boolean): string {
  const rows = r.tables.map((t) => [
    t.table,
    String(t.rows),
    t.copied === undefined ? '-' : String(t.copied),
    t.copyMs === undefined ? '-' : humanDuration(t.copyMs),
    `${t.verify.targetRows}`,
    t.verify.ok ? 'ok' : 'MISMATCH',
    t.verify.targetChecksum,
  ]);
  let s = `migrate-metadata: ${r.from} -> ${r.to}${verifyOnly ? ' (verify only)' : ''}\n\n`;
  s += table(['TABLE', 'ROWS', 'COPIED', 'COPY TIME', 'IN TARGET', 'VERIFIED', 'CHECKSUM'], rows, ['left', 'right', 'right', 'right', 'right', 'left', 'left']);
  s += `\nNot copied (runtime state of the stopped server): ${r.skipped.join(', ')}\n`;
  if (Object.keys(r.replaced).length > 0) s += `Replaced (--force): ${Object.entries(r.replaced).map(([t, n]) => `${t} ${n}`).join(', ')}\n`;
  if (r.settingsAdded > 0) s += `Root credentials and admin token of the data dir: kept in the settings table (${r.settingsAdded} row${r.settingsAdded === 1 ? '' : 's'})\n`;
  if (Object.keys(r.sequences).length > 0) s += `Ids continue at: ${Object.entries(r.sequences).map(([t, n]) => `${t} ${n}`).join(', ')}\n`;
  const bad = r.tables.filter((t) => !t.verify.ok);
  s += `\n${verifyOnly ? '' : `Copied in ${humanDuration(r.copyMs)} (indexes built in ${humanDuration(r.indexMs)}), `}verified in ${humanDuration(r.verifyMs)}: `;
  s += bad.length === 0 ? `all ${r.tables.length} tables match (row counts and checksums of every column).\n` : `${bad.length} table(s) differ: ${bad.map((t) => t.table).join(', ')}.\n`;
  if (bad.length === 0 && !verifyOnly) {
    s +=
      `\nChunk files were not moved: they stay in ${path.join(path.dirname(r.from), 'chunks')}. Share that folder with every\n` +
      'gateway (or copy it to the chunk store they use), then start the gateways with --metadata pointing\n' +
      'at this database (docs/postgresql.md, "From one node to several").\n';
  }
  return s;
}

/** One progress bar (or line series) per phase and table, on stderr. */
function progressBars(enabled: boolean) {
  let current: { key: string; bar: ProgressReporter } | undefined;
  return {
    update(phase: string, tableName: string, done: number, total: number) {
      // Empty tables get no bar: a line each would only bury the others.
      if (total === 0 && done === 0) return;
      const key = `${phase} ${tableName}`;
      if (current?.key !== key) {
        current?.bar.stop();
        current = { key, bar: progress(key, phase === 'verify' ? 'rows read (both sides)' : 'rows', { enabled }) };
      }
      current.bar.update(done, total);
    },
    stop() {
      current?.bar.stop();
      current = undefined;
    },
  };
}

export function register(program: Command): void {
  usageExits(
    program
      .command('migrate-metadata')
      .description("Move a single-node store's metadata (its SQLite file) into PostgreSQL, then verify every table")
      .requiredOption('--from <dataDir>', 'the data dir of the SQLite store (where cairn.db is)')
      .option('--to <url>', 'the target database, postgres://user[:password]@host[:port]/database [env CAIRN_METADATA_URL]')
      .option('--force', 'replace any cairn data the target already holds (default: refuse a non-empty target)')
      .option('--verify-only', 'copy nothing: compare the SQLite file with the target, table by table')
      .option('--batch-rows <n>', 'rows per insert statement (default 5000)')
      .option('--json', 'print one JSON document (the summary) instead of a table')
      .option('--no-progress', 'no progress bars or progress lines on stderr'),
  )
    .addHelpText(
      'after',
      '\nStop the server first: the SQLite file is read in one read-only snapshot, and a process still holding\n' +
        'it open (found through /proc/locks on Linux) is refused. The target gets cairn\'s PostgreSQL schema\n' +
        '(migrations applied) and every table is copied in one transaction: on any error it stays as it was.\n' +
        'A key or tag containing the NUL character cannot be stored in PostgreSQL: such rows are listed and\n' +
        'nothing is copied. Then every table is verified: row counts and a checksum of every column, computed\n' +
        'on both sides. Exit status 1 when anything differs or the move was refused, 2 on a usage error.\n\n' +
        'The data dir\'s root credentials (credentials.json) and admin token go to the settings table, where the\n' +
        'PostgreSQL gateways read them when their environment does not set them.\n' +
        'Chunk files are not moved: they stay in <data-dir>/chunks, which becomes the gateways\' shared chunk\n' +
        'folder (or is copied by the operator to the chunk store the gateways use).\n' +
        'Keep the password out of the process list: set CAIRN_METADATA_URL, or PGPASSWORD with a URL without one.',
    )
    .action(
      handle(async (flags: MigrateFlags) => {
        const to = parseTarget(flags.to ?? process.env.CAIRN_METADATA_URL);
        const batchRows = flags.batchRows === undefined ? undefined : parsePositiveInt('--batch-rows', flags.batchRows, 100_000);
        if (flags.force && flags.verifyOnly) throw usage('--force and --verify-only do not go together');
        const { importSqlite, ImportRefusal } = await import('../db/pg/import-sqlite.js');
        const bars = progressBars(flags.progress);
        let result: ImportResult;
        try {
          result = await importSqlite({
            from: flags.from,
            to,
            extraSettings: dataDirSettings(flags.from),
            force: flags.force === true,
            verifyOnly: flags.verifyOnly === true,
            ...(batchRows ? { batchRows } : {}),
            onProgress: (phase, t, d, n) => bars.update(phase, t, d, n),
            onPhase: (phase) => {
              if (phase !== 'indexes') return;
              bars.stop();
              if (flags.progress) note('migrate-metadata: building the indexes');
            },
          });
        } catch (err) {
          if (err instanceof ImportRefusal) throw new CliError(err.message, EXIT_FAILED);
          throw err;
        } finally {
          bars.stop();
        }
        if (flags.json) printJson(result);
        else out(migrateReport(result, flags.verifyOnly === true));
        if (!result.ok) {
          if (flags.json) note('cairn: verification failed: the target differs from the source');
          process.exitCode = EXIT_FAILED;
        }
      }),
    );
}
