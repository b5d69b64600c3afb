// The ChunkClaims contract (src/store/claims.ts) as a suite each metadata engine runs.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkClaims } from '../../src/store/claims.js';

export interface ClaimsUnderTest {
  claims: ChunkClaims;
  /** Adds a chunks row for `hash` (a committed reference). */
  addChunkRow(hash: string): Promise<void>;
  cleanup(): Promise<void>;
}

const hex = () => randomBytes(32).toString('hex');

export function claimsContract(name: string, factory: () => Promise<ClaimsUnderTest>): void {
  describe(`ChunkClaims contract: ${name}`, () => {
    let t: ClaimsUnderTest;
    let c: ChunkClaims;
    beforeEach(async () => {
      t = await factory();
      c = t.claims;
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('claim, renew and release; one holder releases only its own claims', async () => {
      const [a, b] = [hex(), hex()];
      expect(await c.isClaimed(a)).toBe(false);
      await c.claim([a, b, a], 'gw1', 60_000);
      await c.claim([a], 'gw1', 120_000);
      await c.claim([a], 'gw2', 60_000);
      expect(await c.isClaimed(a)).toBe(true);
      await c.release([a, b], 'gw1');
      expect(await c.isClaimed(a)).toBe(true);
      expect(await c.isClaimed(b)).toBe(false);
      await c.release([a], 'gw2');
      expect(await c.isClaimed(a)).toBe(false);
      await c.claim([], 'gw1', 1000);
      await c.release([], 'gw1');
    });

    it('beginDelete goes ahead only with no live use claim and no chunk row, and leaves no row when refused', async () => {
      const [free, claimed, referenced] = [hex(), hex(), hex()];
      await c.claim([claimed], 'writer', 60_000);
      await t.addChunkRow(referenced);
      expect(await c.beginDelete(claimed, 'gc', 60_000)).toBe(false);
      expect(await c.isBeingDeleted(claimed)).toBe(false);
      expect(await c.beginDelete(referenced, 'gc', 60_000)).toBe(false);
      expect(await c.isBeingDeleted(referenced)).toBe(false);
      expect(await c.beginDelete(free, 'gc', 60_000)).toBe(true);
      expect(await c.isBeingDeleted(free)).toBe(true);
      await c.endDelete(free, 'gc');
      expect(await c.isBeingDeleted(free)).toBe(false);
    });

    it('expired claims count for nothing and expire() removes them', async () => {
      const [a, b] = [hex(), hex()];
      await c.claim([a], 'dead-gateway', -1);
      expect(await c.isClaimed(a)).toBe(false);
      expect(await c.beginDelete(a, 'gc', -1)).toBe(true);
      expect(await c.isBeingDeleted(a)).toBe(false);
      await c.claim([b], 'live', 60_000);
      expect(await c.expire()).toBe(2);
      expect(await c.isClaimed(b)).toBe(true);
    });

    it('leases: one holder at a time; renewed by its holder; free again when released or expired', async () => {
      const lease = `gc-${hex().slice(0, 6)}`;
      expect(await c.tryAcquire(lease, 'a', 60_000)).toBe(true);
      expect(await c.tryAcquire(lease, 'b', 60_000)).toBe(false);
      expect(await c.tryAcquire(lease, 'a', 60_000)).toBe(true);
      expect(await c.renew(lease, 'a', 60_000)).toBe(true);
      expect(await c.renew(lease, 'b', 60_000)).toBe(false);
      await c.releaseLease(lease, 'b');
      expect(await c.tryAcquire(lease, 'b', 60_000)).toBe(false);
      await c.releaseLease(lease, 'a');
      expect(await c.tryAcquire(lease, 'b', -1)).toBe(true);
      // b's lease expired at once: a takes it over.
      expect(await c.tryAcquire(lease, 'a', 60_000)).toBe(true);
      expect(await c.renew(lease, 'b', 60_000)).toBe(false);
    });

    it('a writer and a remover racing on one hash: at least one sees the other', async () => {
      for (let round = 0; round < 40; round++) {
        const hashes = Array.from({ length: 8 }, hex);
        const results = await Promise.all(
          hashes.map(async (h) => {
            const writer = (async () => {
              await c.claim([h], 'writer', 60_000);
              return c.isBeingDeleted(h);
            })();
            const remover = c.beginDelete(h, 'gc', 60_000);
            return { writerSawDelete: await writer, removerWent: await remover };
          }),
        );
        // The unsafe outcome: the remover went ahead and the writer trusts the chunk.
        for (const r of results) expect(r.removerWent && !r.writerSawDelete).toBe(false);
      }
    });
  });
}
