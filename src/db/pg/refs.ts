import pg from 'pg';
import { sql, type SQL } from 'drizzle-orm';
import type { PgTx } from './client.js';
import { run, Statement } from './run.js';
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
 * The upsert applying `d`, returning (hash, refcount, file) of every row it touched (file: its
 * bytes are a file, not inline): a CTE body or a statement of its own.
 */
export function refUpsert(q: Statement, d: RefDeltas, now: number): string {
  return `insert into chunks (hash, size, crc32c, refcount, created_at, data)
    select t.hash, t.size, t.crc, t.delta, ${q.p(now)}::int8, t.data
    from unnest(${q.p(d.hashes)}::text[], ${q.p(d.sizes)}::int8[], ${q.p(d.crcs)}::int8[], ${q.p(d.deltas)}::int8[], ${q.p(d.datas)}::bytea[]) as t(hash, size, crc, delta, data)
    order by t.hash collate "C"
    on conflict (hash) do update set refcount = chunks.refcount + excluded.refcount
    returning hash, refcount, data is null as file`;
}

/** From an upsert CTE named r: the rows it took to zero, as JSON [[hash, file], ...]. */
export const ZEROS = `(select coalesce(json_agg(json_build_array(hash, file)), '[]') from r where refcount <= 0) as zeros`;
export type Zero = [hash: string, file: boolean];

/**
 * A transaction that deletes the chunk rows left at zero with its COMMIT (key-tx.ts): one round
 * trip less. Safe to defer: this transaction updated those rows, so it holds their locks until then.
 */
export interface DeferringTx {
  /** Deleted, and the files among them claimed, with the COMMIT (zeroCleanup). */
  deferredZeros: string[];
}

/**
 * The claims that keep chunk files this commit frees out of every gateway's collector for the GC
 * grace (holder 'freed', as src/storage/shared-chunks.ts), written in the freeing transaction: a
 * GET on another gateway that began before the commit may still be streaming them. The grace is
 * the connection's `cairn.freed_ttl_ms` (set by PgStore), else an hour.
 */
export function freedClaimsSql(hashes: string[]): string {
  const list = hashes.map((h) => pg.escapeLiteral(h)).join(', ');
  return claimsFrom(`unnest(array[${list}]::text[]) as t(h)`);
}

function claimsFrom(source: string): string {
  return `insert into chunk_claims (hash, holder, kind, expires_at)
    select h, 'freed', 'use', (extract(epoch from clock_timestamp()) * 1000)::int8 + coalesce(nullif(current_setting('cairn.freed_ttl_ms', true), '')::int8, 3600000)
    from ${source}
    on conflict (hash, holder, kind) do update set expires_at = greatest(chunk_claims.expires_at, excluded.expires_at)`;
}

/**
 * One statement (key-tx.ts, with the COMMIT): deletes the rows among `candidates` (hashes whose
 * count this transaction lowered, so it holds their locks) left at zero, claims those that are
 * files as freedClaimsSql does, and returns them as `freed` (sorted).
 */
export function zeroCleanup(candidates: string[]): SQL {
  return sql`with z as (delete from chunks where hash = any(${sql.param(candidates)}::text[]) and refcount <= 0 returning hash, data is null as file),
      c as (${sql.raw(claimsFrom('z as t(h) where file'))})
    select coalesce(array_agg(hash order by hash collate "C") filter (where file), '{}') as freed from z`;
}

/**
 * Deletes the rows whose count reached zero (now, or with the COMMIT of a DeferringTx); returns
 * the hashes of those whose bytes are a file (not inline), sorted.
 */
export async function deleteUnused(tx: PgTx, zeros: Zero[]): Promise<string[]> {
  if (zeros.length === 0) return [];
  const hashes = zeros.map(([h]) => h).sort();
  const files = zeros.filter(([, file]) => file).map(([h]) => h).sort();
  const deferring = tx as unknown as Partial<DeferringTx>;
  if (deferring.deferredZeros) {
    deferring.deferredZeros.push(...hashes);
  } else {
    await run(tx, sql`delete from chunks where hash = any(${sql.param(hashes)}::text[]) and refcount <= 0`);
    if (files.length > 0) await run(tx, sql.raw(freedClaimsSql(files)));
  }
  return files;
}

/** Applies added and dropped references in this transaction; returns the hashes freed (files to remove). */
export async function changeRefs(tx: PgTx, add: ChunkPlacement[], drop: string[]): Promise<string[]> {
  const d = refDeltas(add, drop);
  if (d.hashes.length === 0) return [];
  const q = new Statement();
  q.text = refUpsert(q, d, Date.now());
  const r = await run<{ hash: string; refcount: number; file: boolean }>(tx, q);
  return deleteUnused(tx, r.filter((x) => x.refcount <= 0).map((x): Zero => [x.hash, x.file]));
}

/** One reference per placement (a chunk used twice in one list counts twice). */
export async function addRefs(tx: PgTx, placements: ChunkPlacement[]): Promise<void> {
  await changeRefs(tx, placements, []);
}

/** Drops one reference per entry; returns the hashes no longer referenced whose bytes are a file. */
export function dropRefs(tx: PgTx, hashes: string[]): Promise<string[]> {
  return changeRefs(tx, [], hashes);
}
