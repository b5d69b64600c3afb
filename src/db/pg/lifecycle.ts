import type { LifecycleStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgLifecycleStore(db: PgDb): LifecycleStore {
  void db;
  return new Proxy({} as LifecycleStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgLifecycleStore.${String(name)}: not implemented yet`)) });
}
