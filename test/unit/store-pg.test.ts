import { PgStore } from '../../src/db/pg/pg-store.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { storeContract, type StoreFactory } from '../helpers/store-contract.js';
import { storeVersionContract } from '../helpers/store-contract-versions.js';
import { storeAccountsContract } from '../helpers/store-contract-accounts.js';
import { storeEncryptionContract } from '../helpers/store-contract-encryption.js';
import { storeTagsContract } from '../helpers/store-contract-tags.js';
import { storeLifecycleContract } from '../helpers/store-contract-lifecycle.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

// The store contract on PostgreSQL: each test gets its own database in the run's throwaway
// cluster (a copy of a migrated template), opened through PgStore as a gateway opens it.

function postgres(): StoreFactory {
  let db: Awaited<ReturnType<typeof freshPgDatabase>> | undefined;
  const open = () => PgStore.open({ url: db!.url, poolSize: 4 });
  return {
    open: async () => {
      db = await freshPgDatabase('contract', { migrated: true });
      return open();
    },
    reopen: async (store: MetadataStore) => {
      await store.close();
      return open();
    },
    cleanup: async () => {
      await db?.drop();
      db = undefined;
    },
  };
}

describePg('PostgreSQL engine', () => {
  storeContract('postgres', postgres());
  storeVersionContract('postgres', postgres());
  storeAccountsContract('postgres', postgres());
  storeEncryptionContract('postgres', postgres());
  storeTagsContract('postgres', postgres());
  storeLifecycleContract('postgres', postgres());
});
