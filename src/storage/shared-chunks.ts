// ChunkStore's side of the chunk claims (src/store/claims.ts) when several gateways share chunk
// storage ("shared" mode: chunks on S3, or metadata on PostgreSQL). In-process pins still guard
// this process; these rows guard against every other gateway's collector:
// - a chunk this process is writing or reusing carries a 'use' claim from before it looks at
//   the stored chunk until its last pin goes (after the commit), renewed by the touch loop;
// - a chunk freed by a commit is not deleted inline (a GET on another gateway may be streaming
//   it): it gets a 'use' claim held by 'freed' for the grace period and the collector takes it;
// - the collector removes a chunk only between beginDelete() and endDelete().
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChunkClaims } from '../store/claims.js';

export interface SharedChunksOptions {
  claims: ChunkClaims;
  /** This gateway: the prefix of every claim it holds. */
  gatewayId: string;
  /** How long a claim lives unless renewed (the touch loop renews it well before). */
  claimTtlMs?: number;
  /** How long chunks freed by a commit stay claimed (GC's grace period). */
  freedTtlMs?: number;
}

/** Holder of the claims on chunks freed by commits (any gateway's). */
export const FREED_HOLDER = 'freed';
const DEFAULT_TTL_MS = 10 * 60_000;

export class SharedChunks {
  readonly claims: ChunkClaims;
  readonly gatewayId: string;
  readonly claimTtlMs: number;
  readonly freedTtlMs: number;
  // One claim per hash while it is pinned here; its holder is unique to that stretch, so a late
  // release of an earlier stretch never removes a later one's row (same primary key otherwise).
  private readonly held = new Map<string, { holder: string; ready: Promise<void> }>();
  private seq = 0;
  private readonly runId = randomBytes(3).toString('hex');

  constructor(opts: SharedChunksOptions) {
    this.claims = opts.claims;
    this.gatewayId = opts.gatewayId;
    this.claimTtlMs = opts.claimTtlMs ?? DEFAULT_TTL_MS;
    this.freedTtlMs = opts.freedTtlMs ?? DEFAULT_TTL_MS;
  }

  /**
   * Claims `hash` for this process (the caller pinned it first), then waits while another
   * gateway's removal of it is under way. Resolves once the caller may look at the stored chunk:
   * if a removal took it meanwhile, the caller finds it missing and writes it afresh.
   */
  async use(hash: string): Promise<void> {
    let entry = this.held.get(hash);
    if (!entry) {
      const holder = `${this.gatewayId}/${this.runId}.${++this.seq}`;
      const ready = this.claims.claim([hash], holder, this.claimTtlMs);
      entry = { holder, ready };
      this.held.set(hash, entry);
      ready.catch(() => {
        if (this.held.get(hash) === entry) this.held.delete(hash);
      });
    }
    await entry.ready;
    // Our claim is written: any removal starting from now sees it and backs off. One that
    // started before may still be running; its row expires if its gateway died.
    for (let wait = 10; await this.claims.isBeingDeleted(hash); wait = Math.min(wait * 2, 500)) await delay(wait);
  }

  /** The last pin of `hash` went: its claim goes too (expiry covers a failed release). */
  unused(hash: string): void {
    const entry = this.held.get(hash);
    if (!entry) return;
    this.held.delete(hash);
    void entry.ready.then(() => this.claims.release([hash], entry.holder)).catch(() => undefined);
  }

  /** Renews every claim this process holds (the touch loop). */
  async renew(): Promise<number> {
    let n = 0;
    for (const [hash, entry] of [...this.held]) {
      await entry.ready;
      await this.claims.claim([hash], entry.holder, this.claimTtlMs);
      n++;
    }
    return n;
  }

  /** Chunks a commit freed: left to the collector after the grace period. */
  freed(hashes: string[]): Promise<void> {
    return this.claims.claim(hashes, FREED_HOLDER, this.freedTtlMs);
  }

  /** Runs `remove` only while a 'delete' row of ours is on `hash` and no use or row was seen. */
  async removing<T>(hash: string, remove: () => Promise<T>, refused: T): Promise<T> {
    const holder = `${this.gatewayId}/gc`;
    if (!(await this.claims.beginDelete(hash, holder, this.claimTtlMs))) return refused;
    try {
      return await remove();
    } finally {
      await this.claims.endDelete(hash, holder).catch(() => undefined);
    }
  }
}
