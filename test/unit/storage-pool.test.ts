import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/storage/pool.js';

describe('BufferPool', () => {
  it('allocates lazily and reuses buffers', async () => {
    const pool = new BufferPool({ bufferSize: 1024, buffers: 3 });
    expect(pool.stats()).toMatchObject({ total: 3, free: 3, inUse: 0, waiters: 0, allocated: 0 });
    const a = await pool.acquire();
    expect(a.length).toBe(1024);
    pool.release(a);
    const b = await pool.acquire();
    expect(b).toBe(a);
    expect(pool.stats().allocated).toBe(1);
    pool.release(b);
  });

  it('never lends more than its size to 50 concurrent acquirers', async () => {
    const pool = new BufferPool({ bufferSize: 64, buffers: 4 });
    let inUse = 0;
    let peak = 0;
    const seen = new Set<Buffer>();
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        for (let round = 0; round < 5; round++) {
          const buf = await pool.acquire();
          seen.add(buf);
          inUse++;
          peak = Math.max(peak, inUse);
          expect(pool.stats().inUse).toBeLessThanOrEqual(4);
          await sleep(i % 3);
          inUse--;
          pool.release(buf);
        }
      }),
    );
    expect(peak).toBe(4);
    expect(seen.size).toBe(4);
    expect(pool.stats()).toMatchObject({ free: 4, inUse: 0, waiters: 0, allocated: 4 });
  });

  it('wakes waiters first in, first out', async () => {
    const pool = new BufferPool({ bufferSize: 8, buffers: 1 });
    const held = await pool.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      pool.acquire().then((b) => {
        order.push(n);
        pool.release(b);
      }),
    );
    expect(pool.stats().waiters).toBe(3);
    pool.release(held);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('a newcomer does not overtake queued waiters', async () => {
    const pool = new BufferPool({ bufferSize: 8, buffers: 1 });
    const held = await pool.acquire();
    const order: string[] = [];
    const first = pool.acquire().then((b) => (order.push('waiter'), b));
    pool.release(held);
    const late = pool.acquire().then((b) => (order.push('late'), pool.release(b)));
    pool.release(await first);
    await late;
    expect(order).toEqual(['waiter', 'late']);
  });

  it('rejects a waiter whose signal aborts, and forgets it', async () => {
    const pool = new BufferPool({ bufferSize: 8, buffers: 1 });
    const held = await pool.acquire();
    const ac = new AbortController();
    const waiting = pool.acquire(ac.signal);
    const next = pool.acquire();
    ac.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(pool.stats().waiters).toBe(1);
    pool.release(held);
    const b = await next;
    expect(b).toBe(held);
    pool.release(b);
    expect(pool.stats()).toMatchObject({ free: 1, inUse: 0, waiters: 0 });
    await expect(pool.acquire(AbortSignal.abort())).rejects.toThrow();
  });

  it('throws on double release and on foreign buffers', async () => {
    const pool = new BufferPool({ bufferSize: 8, buffers: 2 });
    const a = await pool.acquire();
    pool.release(a);
    expect(() => pool.release(a)).toThrow(/twice/);
    expect(() => pool.release(Buffer.alloc(8))).toThrow(/does not belong/);
    expect(pool.stats().inUse).toBe(0);
  });
});
