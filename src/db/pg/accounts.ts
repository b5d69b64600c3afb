import type { AccountStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgAccountStore(db: PgDb): AccountStore {
  void db;
  return new Proxy({} as AccountStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgAccountStore.${String(name)}: not implemented yet`)) });
}
