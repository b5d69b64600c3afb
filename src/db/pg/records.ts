import type { RecordsStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgRecordsStore(db: PgDb): RecordsStore {
  void db;
  return new Proxy({} as RecordsStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgRecordsStore.${String(name)}: not implemented yet`)) });
}
