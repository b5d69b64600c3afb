import type pg from 'pg';
import { redactUrl } from '../../config.js';
import { migratePg, pgPool } from './client.js';
import { copyAll, type CopiedTable } from './import-copy.js';
import { copyPlan, SKIPPED_TABLES, type TablePlan } from './import-plan.js';
import { ImportRefusal, SqliteSource, type NulRow } from './import-source.js';
import { verifyAll, type TableCheck } from './import-verify.js';

// Moving a single-node store's metadata from its SQLite file into PostgreSQL (the
// `cairn migrate-metadata` command is the front-end): preflight on the source, the pg
// migrations, the copy in one transaction, then a verification of every table. Chunk files
// are not touched: they stay in the data dir, which the gateways then share (or which the
// operator copies to the chunk store they use).

export { ImportRefusal } from './import-source.js';

export interface ImportOptions {
  /** The SQLite data dir (or its cairn.db). */
  from: string;
  /** postgres:// URL of the target database. */
  to: string;
  /** Replace whatever cairn data the target holds (default: refuse a non-empty target). */
  force?: boolean;
  /** Only compare source and target (no copy). */
  verifyOnly?: boolean;
  /** Rows per insert (default 5000) and a cap on the bytes of one batch (default 16 MiB: inline chunk data). */
  batchRows?: number;
  batchBytes?: number;
  /**
   * Settings the store keeps outside its SQLite file (the data dir's root pair and admin token
   * hash, as the PostgreSQL gateways read them from the settings table): copied with the
   * file's settings rows unless the file has one of that name.
   */
  extraSettings?: Array<{ name: string; value: string; updatedAt: number }>;
  onPhase?: (phase: 'preflight' | 'migrate' | 'copy' | 'indexes' | 'verify') => void;
  onProgress?: (phase: 'copy' | 'verify', table: string, done: number, total: number) => void;
}

export interface TableReport {
  table: string;
  /** Rows in the source. */
  rows: number;
  /** Rows copied and how long it took; absent with verifyOnly. */
  copied?: number;
  copyMs?: number;
  verify: Omit<TableCheck, 'table'>;
}

export interface ImportResult {
  from: string;
  /** The target URL without its password. */
  to: string;
  tables: TableReport[];
  /** Runtime state not copied (SKIPPED_TABLES). */
  skipped: string[];
  /** Rows the target held before and --force replaced, by table. */
  replaced: Record<string, number>;
  /** Next id of each bigserial sequence. */
  sequences: Record<string, number>;
  migrationsApplied: number;
  /** extraSettings rows added (those the file did not hold already). */
  settingsAdded: number;
  /** The whole copy (indexes included), and the part spent building the secondary indexes. */
  copyMs: number;
  indexMs: number;
  verifyMs: number;
  /** Every table's count and checksum match. */
  ok: boolean;
}

function describeNul(rows: NulRow[]): string {
  return (
    `${rows.length === 20 ? 'at least 20 rows hold' : `${rows.length} row${rows.length === 1 ? ' holds' : 's hold'}`} a NUL character (U+0000), which PostgreSQL text cannot store:\n` +
    rows.map((r) => `  ${r.table}.${r.column} ${r.row}\n`).join('') +
    'Rename or delete these objects (or tags, uploads) on the SQLite server first, then migrate again.'
  );
}

/** A PostgreSQL error in words that name the server, never the password. */
function connectError(err: unknown, to: string): Error {
  const e = err as { code?: string; message?: string };
  if (e?.code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|28P01|28000|3D000)$/.test(e.code)) {
    return new ImportRefusal(`cannot connect to PostgreSQL at ${redactUrl(to)}: ${e.message ?? e.code}`);
  }
  return err as Error;
}

async function preflight(source: SqliteSource, plans: TablePlan[]): Promise<Record<string, number>> {
  source.checkSchema(plans);
  const nul = source.nulRows(plans);
  if (nul.length > 0) throw new ImportRefusal(describeNul(nul));
  return Object.fromEntries(plans.map((p) => [p.name, source.count(p.name)]));
}

export async function importSqlite(opts: ImportOptions): Promise<ImportResult> {
  const plans = copyPlan();
  opts.onPhase?.('preflight');
  const source = SqliteSource.open(opts.from);
  let pool: pg.Pool | undefined;
  try {
    const settingsPlan = plans.find((p) => p.name === 'settings');
    const added = settingsPlan && opts.extraSettings?.length ? source.addRows(settingsPlan, opts.extraSettings.map((x) => ({ name: x.name, value: x.value, updated_at: x.updatedAt }))) : 0;
    const counts = await preflight(source, plans);
    pool = pgPool(opts.to, 2, 'cairn migrate-metadata');
    opts.onPhase?.('migrate');
    const { applied } = await migratePg(pool).catch((err) => {
      throw connectError(err, opts.to);
    });
    let copied: CopiedTable[] = [];
    let sequences: Record<string, number> = {};
    let replaced: Record<string, number> = {};
    let indexMs = 0;
    const copyStart = Date.now();
    if (!opts.verifyOnly) {
      opts.onPhase?.('copy');
      const r = await copyAll(pool, source, plans, counts, {
        force: opts.force === true,
        batchRows: opts.batchRows ?? 5000,
        batchBytes: opts.batchBytes ?? 16 * 1024 * 1024,
        onProgress: (t, d, n) => opts.onProgress?.('copy', t, d, n),
        onIndexes: () => opts.onPhase?.('indexes'),
      });
      ({ tables: copied, sequences, replaced, indexMs } = r);
    }
    const copyMs = Date.now() - copyStart;
    opts.onPhase?.('verify');
    const verifyStart = Date.now();
    const checks = await verifyAll(pool, source, plans, counts, (t, d, n) => opts.onProgress?.('verify', t, d, n));
    const tables = plans.map((p, i): TableReport => {
      const c = copied.find((x) => x.table === p.name);
      const { table: _t, ...verify } = checks[i]!;
      return { table: p.name, rows: counts[p.name] ?? 0, ...(c ? { copied: c.rows, copyMs: c.ms } : {}), verify };
    });
    return {
      from: source.file,
      to: redactUrl(opts.to),
      tables,
      skipped: [...SKIPPED_TABLES],
      replaced,
      sequences,
      migrationsApplied: applied,
      settingsAdded: added,
      copyMs,
      indexMs,
      verifyMs: Date.now() - verifyStart,
      ok: checks.every((c) => c.ok),
    };
  } finally {
    source.close();
    await pool?.end();
  }
}
