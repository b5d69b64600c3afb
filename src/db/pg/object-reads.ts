import type { ObjectStore } from '../../store/metadata-store.js';
import type { PgDb } from './client.js';

// TODO(#22): to be written.
export function pgObjectReads(db: PgDb): Pick<ObjectStore, 'get' | 'getForRead' | 'getVersion' | 'latest' | 'listVersions' | 'chunksForRead' | 'chunksForRange' | 'chunkList' | 'parts' | 'part' | 'listPage' | 'listKeys' | 'getTags' | 'isChunkReferenced'> {
  void db;
  return new Proxy({} as Pick<ObjectStore, 'get' | 'getForRead' | 'getVersion' | 'latest' | 'listVersions' | 'chunksForRead' | 'chunksForRange' | 'chunkList' | 'parts' | 'part' | 'listPage' | 'listKeys' | 'getTags' | 'isChunkReferenced'>, { get: (_t, name) => () => Promise.reject(new Error(`pg pgObjectReads.${String(name)}: not implemented yet`)) });
}
