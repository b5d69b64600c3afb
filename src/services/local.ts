import os from 'node:os';
import type { Durability } from '../storage/chunk-store.js';
import { ChunkStore } from '../storage/chunk-store.js';
import { BufferPool } from '../storage/pool.js';
import { ObjectService } from '../storage/object-service.js';
import { MultipartService } from '../storage/multipart-service.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { BucketService } from './buckets.js';
import { KeyService } from './keys.js';
import { AccountService } from './accounts.js';
import { AccessControlService } from './access-control.js';
import { SINGLE_NODE_TMP_ID } from '../storage/tmp-folders.js';

// The domain services over a data dir, for a process that does not serve S3 (the CLI with
// --data-dir, tools): the same rules as the server's, e.g. a bucket deleted here aborts its
// uploads and removes the chunks they alone held. Nothing is received, so the write pool is one
// small buffer that is never taken. Never sweeps tmp/: a running server may be writing there.

export interface LocalServices {
  meta: MetadataStore;
  store: ChunkStore;
  objects: ObjectService;
  multipart: MultipartService;
  buckets: BucketService;
  keys: KeyService;
  accounts: AccountService;
  accessControl: AccessControlService;
}

/** `reserved`: access key ids no key may take (the root pair's, when the caller knows it). */
export function localServices(meta: MetadataStore, opts: { dataDir: string; durability: Durability; region: string; reserved?: (id: string) => boolean }): LocalServices {
  // Beside PostgreSQL gateways this process is one more gateway on the shared chunks: its GC takes
  // the collectors' lease and the claims protocol (shared-chunks.ts), its writes claim their chunks.
  const shared = meta.engine !== 'sqlite' ? { claims: meta.claims, gatewayId: `cli-${os.hostname()}-${process.pid}`.slice(0, 64) } : undefined;
  const store = new ChunkStore({ dataDir: opts.dataDir, durability: opts.durability, gatewayId: shared?.gatewayId ?? SINGLE_NODE_TMP_ID, shared });
  const objects = new ObjectService({ meta, store, pool: new BufferPool({ bufferSize: 64 * 1024, buffers: 1 }), maxBuffersPerRequest: 1 });
  const multipart = new MultipartService(meta, objects);
  const buckets = new BucketService(meta, opts.region, multipart);
  const accounts = new AccountService(meta.accounts);
  const accessControl = new AccessControlService(meta, buckets, objects, accounts);
  return { meta, store, objects, multipart, buckets, keys: new KeyService(meta.keys, { accounts, reserved: opts.reserved }), accounts, accessControl };
}
