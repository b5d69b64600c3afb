import type { MaintenanceStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgMaintenanceStore(db: PgDb): MaintenanceStore {
  void db;
  return new Proxy({} as MaintenanceStore, { get: (_t, name) => () => Promise.reject(new Error(`pg pgMaintenanceStore.${String(name)}: not implemented yet`)) });
}
