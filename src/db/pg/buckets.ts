import type { BucketStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgBucketStore(db: PgDb): BucketStore {
  void db;
  return new Proxy({} as BucketStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgBucketStore.${String(name)}: not implemented yet`)) });
}
