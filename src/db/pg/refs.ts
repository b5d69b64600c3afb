import { sql, type SQL } from 'drizzle-orm';
import type { PgTx } from './client.js';
import { run } from './run.js';
import type { ChunkPlacement } from '../../store/types.js';

// Chunk reference counts on PostgreSQL. One statement changes every count a write touches: the
// references it adds and drops are netted per hash first (a rewrite that keeps a chunk changes
// nothing), then applied by one INSERT ... ON CONFLICT whose rows are fed in ascending hash order,
// so concurrent writers lock chunk rows in the same order and cannot deadlock on them. A count
// that reaches zero is deleted by a second statement (one statement cannot change a row twice).

/** The net change of each chunk's count, in ascending hash order, with what a new row needs. */
export interface RefDeltas {
  hashes: string[];
  sizes: number[];
  crcs: number[];
  deltas: number[];
  datas: (Buffer | null)[];
}

/** One reference per placement (a chunk used twice counts twice), minus one per dropped entry. */
export function refDeltas(add: ChunkPlacement[], drop: string[]): RefDeltas {
  const net = new Map<string, { size: number; crc: number; delta: number; data: Buffer | null }>();
  for (const c of add) {
    const e = net.get(c.hash);
    if (e) e.delta++;
    else net.set(c.hash, { size: c.storedSize ?? c.size, crc: c.crc32c, delta: 1, data: c.data ?? null });
  }
  // A dropped chunk's row exists (the reference being dropped holds it), so its insert values
  // are never used: ON CONFLICT always takes the update.
  for (const h of drop) {
    const e = net.get(h);
    if (e) e.delta--;
    else net.set(h, { size: 0, crc: 0, delta: -1, data: null });
  }
  const out: RefDeltas = { hashes: [], sizes: [], crcs: [], deltas: [], datas: [] };
  for (const hash of [...net.keys()].sort()) {
    const e = net.get(hash)!;
    if (e.delta === 0) continue;
    out.hashes.push(hash);
    out.sizes.push(e.size);
    out.crcs.push(e.crc);
    out.deltas.push(e.delta);
    out.datas.push(e.data);
  }
  return out;
}

/**
 * The upsert applying `d`, returning (hash, refcount) of every row it touched: a CTE body or a
 * statement of its own.
 */
export function refUpsert(d: RefDeltas, now: number): SQL {
  return sql`insert into chunks (hash, size, crc32c, refcount, created_at, data)
    select t.hash, t.size, t.crc, t.delta, ${now}::int8, t.data
    from unnest(${sql.param(d.hashes)}::text[], ${sql.param(d.sizes)}::int8[], ${sql.param(d.crcs)}::int8[], ${sql.param(d.deltas)}::int8[], ${sql.param(d.datas)}::bytea[]) as t(hash, size, crc, delta, data)
    order by t.hash collate "C"
    on conflict (hash) do update set refcount = chunks.refcount + excluded.refcount
    returning hash, refcount`;
}

/** Deletes the rows whose count reached zero; the hashes of those with a file (not inline bytes). */
export async function deleteUnused(tx: PgTx, zeros: string[]): Promise<string[]> {
  if (zeros.length === 0) return [];
  const r = await run<{ hash: string; file: boolean }>(
    tx,
    sql`delete from chunks where hash = any(${sql.param([...zeros].sort())}::text[]) and refcount <= 0 returning hash, data is null as file`,
  );
  return r.filter((x) => x.file).map((x) => x.hash).sort();
}

/** Applies added and dropped references in this transaction; returns the hashes freed (files to remove). */
export async function changeRefs(tx: PgTx, add: ChunkPlacement[], drop: string[]): Promise<string[]> {
  const d = refDeltas(add, drop);
  if (d.hashes.length === 0) return [];
  const r = await run<{ hash: string; refcount: number }>(tx, refUpsert(d, Date.now()));
  return deleteUnused(tx, r.filter((x) => x.refcount <= 0).map((x) => x.hash));
}

/** One reference per placement (a chunk used twice in one list counts twice). */
export async function addRefs(tx: PgTx, placements: ChunkPlacement[]): Promise<void> {
  await changeRefs(tx, placements, []);
}

/** Drops one reference per entry; returns the hashes no longer referenced whose bytes are a file. */
export function dropRefs(tx: PgTx, hashes: string[]): Promise<string[]> {
  return changeRefs(tx, [], hashes);
}
