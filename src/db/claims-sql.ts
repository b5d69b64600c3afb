// The chunk claims and leases (src/store/claims.ts) over either engine: the statements are the
// same SQL on SQLite and PostgreSQL (upserts with `excluded`), so one implementation runs them
// through a two-method executor each engine supplies (claims-repository.ts, pg/claims.ts).
import { sql, type SQL } from 'drizzle-orm';
import type { ChunkClaims } from '../store/claims.js';

export interface SqlExec {
  /** Runs a write; resolves with the rows it changed. */
  run(q: SQL): Promise<number>;
  all<T>(q: SQL): Promise<T[]>;
}

export class SqlChunkClaims implements ChunkClaims {
  constructor(private readonly exec: SqlExec) {}

  async claim(hashes: string[], holder: string, ttlMs: number): Promise<void> {
    if (hashes.length === 0) return;
    const until = Date.now() + ttlMs;
    // Sorted: two gateways claiming overlapping sets lock rows in one order (no deadlock).
    const rows = [...new Set(hashes)].sort().map((h) => sql`(${h}, ${holder}, 'use', ${until})`);
    await this.exec.run(sql`insert into chunk_claims (hash, holder, kind, expires_at) values ${sql.join(rows, sql`, `)}
      on conflict (hash, holder, kind) do update set expires_at = excluded.expires_at`);
  }

  async release(hashes: string[], holder: string): Promise<void> {
    if (hashes.length === 0) return;
    const list = sql.join([...new Set(hashes)].map((h) => sql`${h}`), sql`, `);
    await this.exec.run(sql`delete from chunk_claims where kind = 'use' and holder = ${holder} and hash in (${list})`);
  }

  async beginDelete(hash: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    // Written (committed) before anything is read: the other half of the writers' rule.
    await this.exec.run(sql`insert into chunk_claims (hash, holder, kind, expires_at) values (${hash}, ${holder}, 'delete', ${now + ttlMs})
      on conflict (hash, holder, kind) do update set expires_at = excluded.expires_at`);
    const busy = await this.exec.all<{ one: number }>(sql`select 1 as one from chunk_claims where hash = ${hash} and kind = 'use' and expires_at > ${Date.now()}
      union all select 1 as one from chunks where hash = ${hash} limit 1`);
    if (busy.length === 0) return true;
    await this.endDelete(hash, holder);
    return false;
  }

  async endDelete(hash: string, holder: string): Promise<void> {
    await this.exec.run(sql`delete from chunk_claims where hash = ${hash} and holder = ${holder} and kind = 'delete'`);
  }

  async isBeingDeleted(hash: string): Promise<boolean> {
    return this.live(hash, 'delete');
  }

  async isClaimed(hash: string): Promise<boolean> {
    return this.live(hash, 'use');
  }

  private async live(hash: string, kind: 'use' | 'delete'): Promise<boolean> {
    const rows = await this.exec.all(sql`select 1 as one from chunk_claims where hash = ${hash} and kind = ${kind} and expires_at > ${Date.now()} limit 1`);
    return rows.length > 0;
  }

  expire(now = Date.now()): Promise<number> {
    return this.exec.run(sql`delete from chunk_claims where expires_at <= ${now}`);
  }

  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    await this.exec.run(sql`insert into leases (name, holder, expires_at) values (${name}, ${holder}, ${now + ttlMs})
      on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where leases.holder = excluded.holder or leases.expires_at <= ${now}`);
    const rows = await this.exec.all<{ holder: string }>(sql`select holder from leases where name = ${name}`);
    return rows[0]?.holder === holder;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const n = await this.exec.run(sql`update leases set expires_at = ${Date.now() + ttlMs} where name = ${name} and holder = ${holder}`);
    return n > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.exec.run(sql`delete from leases where name = ${name} and holder = ${holder}`);
  }
}
