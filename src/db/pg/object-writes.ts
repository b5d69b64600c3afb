import type { ObjectStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgObjectWrites(db: PgDb): Pick<ObjectStore, 'commit' | 'copy' | 'delete' | 'setRetention' | 'setLegalHold' | 'setAcl' | 'setTags'> {
  void db;
  return new Proxy({} as Pick<ObjectStore, 'commit' | 'copy' | 'delete' | 'setRetention' | 'setLegalHold' | 'setAcl' | 'setTags'>, { get: (_t, name) => () => Promise.reject(new Error(`pg pgObjectWrites.${String(name)}: not implemented yet`)) });
}
