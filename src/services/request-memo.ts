import { AsyncLocalStorage } from 'node:async_hooks';
import type { BucketStore, ObjectStore } from '../store/metadata-store.js';
import type { BucketRow, ObjectRow } from '../store/types.js';

// On an engine that keeps no cache (PostgreSQL), a request would read its bucket's row twice:
// once to authorize it, once in its handler. Within one request the first read serves both; a
// bucket write made through the store in that request forgets what was read. Nothing outlives
// the request, so another gateway's change is seen by the next request, as without the memo.
// A GET or HEAD of an object (hintObjectRead) reads its bucket and the key's current version in
// one statement where the engine can (BucketAndObject): the row is read after the request came,
// so it holds every write acknowledged before, as a read of its own would.

/** The bucket named `name` and, if it exists, the current version of `key` (one snapshot). */
export type BucketAndObject = (name: string, key: string) => Promise<{ bucket?: BucketRow; object?: ObjectRow }>;

interface Scope {
  buckets: Map<string, Promise<BucketRow | undefined>>;
  /** The object this request reads (GET/HEAD without a version), and the combined read once made. */
  read?: { bucket: string; key: string; got?: Promise<{ bucket?: BucketRow; object?: ObjectRow }> };
}

const scope = new AsyncLocalStorage<Scope>();

/** Runs one request's handling with its own memo of bucket rows. */
export function inRequestScope<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run({ buckets: new Map() }, fn);
}

/** Tells the running request's memo that it reads the current version of `key` in `bucket`. */
export function hintObjectRead(bucket: string, key: string): void {
  const s = scope.getStore();
  if (s) s.read = { bucket, key };
}

/** `inner` with get() answered from the running request's memo; every other method clears it. */
export function memoizedBuckets(inner: BucketStore, both?: BucketAndObject): BucketStore {
  const clear = () => {
    const s = scope.getStore();
    s?.buckets.clear();
    if (s) s.read = undefined;
  };
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
    const s = scope.getStore();
    if (!s) return inner.get(name);
    let row = s.buckets.get(name);
    if (!row) {
      const read = s.read;
      if (both && read && read.bucket === name && !read.got) {
        read.got = both(name, read.key);
        row = read.got.then((r) => r.bucket);
      } else {
        row = inner.get(name);
      }
      s.buckets.set(name, row);
      row.catch(() => {
        s.buckets.delete(name);
        if (s.read?.got) s.read = undefined;
      });
    }
    return row;
  };
  return out as unknown as BucketStore;
}

/** `inner` with getForRead() answered by the request's combined read when it is of that bucket and key. */
export function memoizedObjects<T extends Pick<ObjectStore, 'getForRead'>>(inner: T): T {
  const getForRead = async (bucketId: number, key: string): Promise<ObjectRow | undefined> => {
    const got = scope.getStore()?.read;
    if (got?.got && got.key === key) {
      const r = await got.got;
      if (r.bucket?.id === bucketId) return r.object;
    }
    return inner.getForRead(bucketId, key);
  };
  return { ...inner, getForRead };
}
