import type { MetadataStore } from '../../store/metadata-store.js';
import { openPg, type OpenedPg, type PgConnectOptions } from './client.js';
import { pgBucketStore } from './buckets.js';
import { pgObjectReads } from './object-reads.js';
import { pgObjectWrites } from './object-writes.js';
import { pgMultipartStore } from './multipart.js';
import { pgKeyStore } from './keys.js';
import { pgAccountStore } from './accounts.js';
import { pgMaintenanceStore } from './maintenance.js';
import { pgRecordsStore } from './records.js';
import { pgLifecycleStore } from './lifecycle.js';
import { pgGateways, pgSettings } from './settings.js';

// The PostgreSQL engine of the metadata store (docs/postgresql.md). Stateless by design: it
// keeps no cache of rows, so every gateway on the same database reads what any of them wrote
// (read-after-write across gateways). Writes that touch a key take a transaction-scoped
// advisory lock on (bucket, key) first, so writers of one key queue up instead of racing;
// chunk reference counts change in hash order; serialization failures and deadlocks are
// retried (client.ts withTx) and counted.

export interface PgStore extends MetadataStore {
  readonly engine: 'postgres';
  readonly pg: OpenedPg;
}

export const PgStore = {
  async open(opts: PgConnectOptions): Promise<PgStore> {
    const pg = await openPg(opts);
    const db = pg.db;
    return {
      engine: 'postgres',
      pg,
      buckets: pgBucketStore(db),
      objects: { ...pgObjectReads(db), ...pgObjectWrites(db) },
      multipart: pgMultipartStore(db),
      keys: pgKeyStore(db),
      accounts: pgAccountStore(db),
      maintenance: pgMaintenanceStore(db),
      records: pgRecordsStore(db),
      lifecycle: pgLifecycleStore(db),
      settings: pgSettings(db),
      gateways: pgGateways(db),
      close: () => pg.close(),
    };
  },
};
