import type { MultipartStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgMultipartStore(db: PgDb): MultipartStore {
  void db;
  return new Proxy({} as MultipartStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgMultipartStore.${String(name)}: not implemented yet`)) });
}
