import type { KeyStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgKeyStore(db: PgDb): KeyStore {
  void db;
  return new Proxy({} as KeyStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgKeyStore.${String(name)}: not implemented yet`)) });
}
