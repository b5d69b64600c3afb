import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { TablePlan } from './import-plan.js';

// The SQLite side of moving a store to PostgreSQL: the data dir's cairn.db opened read-only,
// in one read transaction from open to close, so the copy and its verification see one
// snapshot of the file even if something wrote to it meanwhile (a server should be stopped;
// `liveHolders` catches one that is not).

/** The move cannot go ahead as asked; the message says why and what to do. */
export class ImportRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefusal';
  }
}

/** A row holding a NUL character in a text column: PostgreSQL text cannot store it. */
export interface NulRow {
  table: string;
  column: string;
  /** The row, by primary key (and bucket and key where the row has them), JSON-escaped. */
  row: string;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `<dir>/cairn.db`, or the file itself when given one. */
export function sqliteFileOf(from: string): string {
  const st = fs.statSync(from, { throwIfNoEntry: false });
  if (!st) throw new ImportRefusal(`${from} does not exist`);
  const file = st.isDirectory() ? path.join(from, 'cairn.db') : from;
  if (!fs.existsSync(file)) throw new ImportRefusal(`no cairn.db in ${from}: --from takes the data dir of a cairn server (CAIRN_DATA_DIR)`);
  return file;
}

/**
 * Processes other than this one that have the SQLite file open, read from /proc/locks (Linux;
 * 0 stands for one outside this PID namespace, e.g. the server's container beside this one):
 * every SQLite connection in WAL mode holds a shared lock on the -shm file while open, idle or
 * not. Empty where /proc/locks does not exist (the --help says to stop the server).
 */
export function liveHolders(file: string): number[] {
  let locks: string;
  try {
    locks = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const f of [file, `${file}-shm`, `${file}-wal`]) {
    const st = fs.statSync(f, { throwIfNoEntry: false, bigint: true });
    if (!st) continue;
    const dev = st.dev;
    const major = Number((dev >> 8n) & 0xfffn) | Number((dev >> 32n) & ~0xfffn);
    const minor = Number(dev & 0xffn) | Number((dev >> 12n) & ~0xffn);
    ids.add(`${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`);
  }
  const pids = new Set<number>();
  for (const line of locks.split('\n')) {
    const f = line.trim().split(/\s+/);
    // "1: POSIX  ADVISORY  READ 19316 fe:00:2148970 128 128" (a "->" marks a waiter).
    const at = f.indexOf('->') >= 0 ? 1 : 0;
    const pid = Number(f[4 + at]);
    // 0: a process outside this PID namespace (another container sharing the volume).
    if (ids.has(f[5 + at] ?? '') && pid !== process.pid && pid >= 0) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

export class SqliteSource {
  /** Rows the store holds outside the file (the data dir's root pair and admin token), by table. */
  private readonly extra = new Map<string, unknown[][]>();

  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens read-only and starts the read transaction; refuses a file another process has open. */
  static open(from: string): SqliteSource {
    const file = sqliteFileOf(from);
    const holders = liveHolders(file);
    if (holders.length > 0) {
      const who = holders.filter((p) => p > 0);
      const where = `${who.length > 0 ? `pid ${who.join(', ')}` : ''}${holders.includes(0) ? `${who.length > 0 ? '; ' : ''}a process of another container` : ''}`;
      throw new ImportRefusal(`${file} is open in another process (${where}): stop the cairn server (and any cairn command) using this data dir first`);
    }
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      db.exec('begin');
      // The snapshot starts with the first read.
      db.prepare('select count(*) from sqlite_master').get();
    } catch (err) {
      throw new ImportRefusal(`cannot read ${file}: ${(err as Error).message}`);
    }
    return new SqliteSource(file, db);
  }

  /** Refuses a file whose tables lack columns of this cairn's schema (written by an older cairn). */
  checkSchema(plans: TablePlan[]): void {
    const missing: string[] = [];
    for (const p of plans) {
      const have = new Set((this.db.prepare(`select name from pragma_table_info(?)`).all(p.name) as Array<{ name: string }>).map((r) => r.name));
      if (have.size === 0) missing.push(p.name);
      else for (const c of p.columns) if (!have.has(c.name)) missing.push(`${p.name}.${c.name}`);
    }
    if (missing.length > 0) {
      throw new ImportRefusal(
        `${this.file} lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}: it was written by an older cairn. ` +
          'Start this version of cairn on the data dir once (it upgrades the file), stop it, then migrate.',
      );
    }
  }

  count(table: string): number {
    return (this.db.prepare(`select count(*) as n from ${quote(table)}`).get() as { n: number }).n + (this.extra.get(table)?.length ?? 0);
  }

  /**
   * Adds rows to a table as if the file held them, unless a row with the same first primary key
   * column value is there already: copied and verified with the file's own rows.
   */
  addRows(plan: TablePlan, rows: Array<Record<string, unknown>>): number {
    const key = plan.primaryKey[0]!;
    const has = this.db.prepare(`select 1 from ${quote(plan.name)} where ${quote(key)} = ?`).raw(true);
    const fresh = rows.filter((r) => has.get(r[key]) === undefined);
    const list = this.extra.get(plan.name) ?? [];
    for (const r of fresh) list.push(plan.columns.map((c) => r[c.name] ?? null));
    this.extra.set(plan.name, list);
    return fresh.length;
  }

  /** The highest id ever handed out for an AUTOINCREMENT table (deleted rows included), 0 if none. */
  sequenceFloor(table: string): number {
    try {
      const r = this.db.prepare('select seq from sqlite_sequence where name = ?').get(table) as { seq: number } | undefined;
      return r?.seq ?? 0;
    } catch {
      return 0;
    }
  }

  /** Rows with a NUL in any text column (at most `limit`), named so the operator can find them. */
  nulRows(plans: TablePlan[], limit = 20): NulRow[] {
    const found: NulRow[] = [];
    for (const p of plans) {
      const texts = p.columns.filter((c) => c.kind === 'text').map((c) => c.name);
      if (texts.length === 0 || found.length >= limit) continue;
      const names = p.columns.map((c) => c.name);
      const bucket = names.includes('bucket_id') ? `, (select name from buckets b where b.id = t.bucket_id) as "bucket:"` : '';
      const where = texts.map((c) => `instr(cast(t.${quote(c)} as blob), x'00') > 0`).join(' or ');
      const rows = this.db.prepare(`select ${[...new Set([...p.primaryKey, ...texts])].map((c) => `t.${quote(c)}`).join(', ')}${bucket} from ${quote(p.name)} t where ${where} limit ?`).all(limit - found.length) as Array<Record<string, unknown>>;
      for (const r of rows) {
        const column = texts.find((c) => typeof r[c] === 'string' && (r[c] as string).includes('\u0000')) ?? texts[0]!;
        const id: Record<string, unknown> = {};
        for (const k of p.primaryKey) id[k] = r[k];
        if (bucket) id.bucket = r['bucket:'];
        if (names.includes('key')) id.key = r.key;
        found.push({ table: p.name, column, row: JSON.stringify(id) });
      }
    }
    return found;
  }

  /**
   * The table's rows as arrays in the plan's column order, in batches of at most `maxRows` rows
   * or about `maxBytes` of values: one table scan, streamed (memory holds one batch).
   */
  *batches(plan: TablePlan, maxRows: number, maxBytes = Infinity): Generator<unknown[][]> {
    const stmt = this.db.prepare(`select ${plan.columns.map((c) => quote(c.name)).join(', ')} from ${quote(plan.name)}`).raw(true);
    let batch: unknown[][] = [];
    let bytes = 0;
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      batch.push(row);
      if (maxBytes !== Infinity) for (const v of row) bytes += typeof v === 'string' || Buffer.isBuffer(v) ? v.length : 8;
      if (batch.length >= maxRows || bytes >= maxBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
    for (const row of this.extra.get(plan.name) ?? []) {
      batch.push(row);
      if (batch.length >= maxRows) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  close(): void {
    try {
      this.db.exec('commit');
    } catch {
      // Nothing was written: ending the read transaction cannot lose anything.
    }
    this.db.close();
  }
}
