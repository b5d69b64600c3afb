// Claims on chunk hashes and named leases, kept in the metadata engine so that every gateway
// sharing chunk storage sees them (tables chunk_claims and leases; docs/architecture.md,
// "Chunk claims"). In-process pins (ChunkStore) cannot protect a chunk from a collector in
// another gateway; these can, because both sides follow one rule: write your own row first,
// then look for the other side's.
//
// - A writer about to reference a chunk it found stored (dedup) or just wrote: claim() ('use'),
//   then isBeingDeleted(); if a removal is under way it waits for it to end (or expire) and
//   checks the chunk again (the removal may have taken it: the writer stores it afresh).
// - A remover: beginDelete() writes its 'delete' row and only then looks for live 'use' claims
//   and chunk rows; it goes ahead only when there are none, and endDelete() once done.
// Each side's write is committed before its read, so of two that race at least one sees the
// other. Every row carries an expiry: a gateway that dies holds nothing for longer than its ttl.
// Holders are strings naming who holds the row (a gateway id, with a suffix per use if needed).

export interface ChunkClaims {
  /** Writes (or renews) 'use' claims of `holder` on `hashes`, expiring `ttlMs` from now. */
  claim(hashes: string[], holder: string, ttlMs: number): Promise<void>;
  /** Drops `holder`'s 'use' claims on `hashes`. */
  release(hashes: string[], holder: string): Promise<void>;
  /**
   * Places `holder`'s 'delete' row on `hash`, then checks: true (go ahead) only if no live 'use'
   * claim by anyone and no chunks row refers to the hash. On false the 'delete' row is gone again.
   */
  beginDelete(hash: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Drops `holder`'s 'delete' row (the removal is over, done or not). */
  endDelete(hash: string, holder: string): Promise<void>;
  /** Whether a live 'delete' row (anyone's) is on `hash`. */
  isBeingDeleted(hash: string): Promise<boolean>;
  /** Whether a live 'use' claim (anyone's) is on `hash`. */
  isClaimed(hash: string): Promise<boolean>;
  /** Removes claims that expired at `now`; returns how many. */
  expire(now?: number): Promise<number>;
  /** Takes the lease `name` if it is free, expired or already `holder`'s (then renews it); true when held. */
  tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease `holder` holds; false when it lost it meanwhile. */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up (nothing if another holds it). */
  releaseLease(name: string, holder: string): Promise<void>;
}
