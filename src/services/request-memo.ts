import { AsyncLocalStorage } from 'node:async_hooks';
import type { BucketStore } from '../store/metadata-store.js';
import type { BucketRow } from '../store/types.js';

// On an engine that keeps no cache (PostgreSQL), a request would read its bucket's row twice:
// once to authorize it, once in its handler. Within one request the first read serves both; a
// bucket write made through the store in that request forgets what was read. Nothing outlives
// the request, so another gateway's change is seen by the next request, as without the memo.

const scope = new AsyncLocalStorage<Map<string, Promise<BucketRow | undefined>>>();

/** Runs one request's handling with its own memo of bucket rows. */
export function inRequestScope<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run(new Map(), fn);
}

/** `inner` with get() answered from the running request's memo; every other method clears it. */
export function memoizedBuckets(inner: BucketStore): BucketStore {
  const clear = () => scope.getStore()?.clear();
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(inner) as Array<keyof BucketStore>) {
    const fn = inner[name] as (...args: unknown[]) => Promise<unknown>;
    out[name] = async (...args: unknown[]) => {
      clear();
      try {
        return await fn(...args);
      } finally {
        clear();
      }
    };
  }
  out.get = (name: string) => {
    const memo = scope.getStore();
    if (!memo) return inner.get(name);
    let row = memo.get(name);
    if (!row) {
      row = inner.get(name);
      memo.set(name, row);
      row.catch(() => memo.delete(name));
    }
    return row;
  };
  return out as unknown as BucketStore;
}
