import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { TablePlan } from './import-plan.js';
import type { SqliteSource } from './import-source.js';

// The verification after a move: for each table, the row count and an order-independent
// checksum of every column of every row, computed in this process over one canonical encoding
// of the values read from each side. Engine-neutral: a boolean is the integer 0 or 1 whether
// SQLite stored 0/1 or PostgreSQL returns true/false, so the check does not reuse (and cannot
// share a mistake with) the copy's conversions. Order-independent because the two engines do
// not order text keys alike (PostgreSQL's default collation on some primary keys) and a table
// scan in storage order is the cheapest read: the checksum is the sum, modulo 2^128, of the
// rows' SHA-256 digests (truncated to 128 bits).

const MASK = (1n << 128n) - 1n;
const FETCH = 2000;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

/** Digest of one row's values in the canonical encoding (type tag, length where variable). */
export function rowDigest(row: readonly unknown[]): bigint {
  const h = createHash('sha256');
  let text = '';
  for (const v of row) {
    if (v === null || v === undefined) text += 'N;';
    else if (typeof v === 'boolean') text += v ? 'I1;' : 'I0;';
    else if (typeof v === 'number' || typeof v === 'bigint') text += `I${v};`;
    else if (typeof v === 'string') text += `S${v.length}:${v}`;
    else if (Buffer.isBuffer(v)) {
      h.update(text + `B${v.length}:`);
      h.update(v);
      text = '';
    } else text += `?${String(v)};`;
  }
  h.update(text);
  const d = h.digest();
  return (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
}

class Sum {
  rows = 0;
  private sum = 0n;
  add(row: readonly unknown[]): void {
    this.sum = (this.sum + rowDigest(row)) & MASK;
    this.rows++;
  }
  get hex(): string {
    return this.sum.toString(16).padStart(32, '0');
  }
}

type Progress = (table: string, done: number, total: number) => void;

/** The target's side of one table: a server-side cursor in one read-only snapshot, the next page fetched while this one is hashed. */
async function targetSum(client: pg.PoolClient, plan: TablePlan, tick: (n: number) => void): Promise<Sum> {
  const sum = new Sum();
  await client.query(`declare c no scroll cursor for select ${plan.columns.map((c) => quote(c.name)).join(', ')} from ${quote(plan.name)}`);
  const fetch = () => client.query({ text: `fetch forward ${FETCH} from c`, rowMode: 'array' });
  let page = await fetch();
  while (page.rows.length > 0) {
    const next = page.rows.length === FETCH ? fetch() : undefined;
    next?.catch(() => undefined);
    for (const row of page.rows as unknown[][]) sum.add(row);
    tick(page.rows.length);
    if (!next) break;
    page = await next;
  }
  await client.query('close c');
  return sum;
}

async function sourceSum(source: SqliteSource, plan: TablePlan, tick: (n: number) => void): Promise<Sum> {
  const sum = new Sum();
  for (const rows of source.batches(plan, FETCH)) {
    for (const row of rows) sum.add(row);
    tick(rows.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sum;
}

/** Compares every planned table of the source with the target; reports each table. */
export async function verifyAll(pool: pg.Pool, source: SqliteSource, plans: TablePlan[], counts: Record<string, number>, onProgress?: Progress): Promise<TableCheck[]> {
  const client = await pool.connect();
  const checks: TableCheck[] = [];
  try {
    await client.query('begin isolation level repeatable read read only');
    for (const plan of plans) {
      const total = 2 * (counts[plan.name] ?? 0);
      let done = 0;
      const tick = (n: number) => {
        done += n;
        onProgress?.(plan.name, done, Math.max(total, done));
      };
      onProgress?.(plan.name, 0, total);
      // Both sides at once: the SQLite side yields between batches, so PostgreSQL's pages
      // arrive (and the server reads the next) while this process hashes.
      const [src, dst] = await Promise.all([sourceSum(source, plan, tick), targetSum(client, plan, tick)]);
      checks.push({ table: plan.name, sourceRows: src.rows, targetRows: dst.rows, sourceChecksum: src.hex, targetChecksum: dst.hex, ok: src.rows === dst.rows && src.hex === dst.hex });
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return checks;
}
