import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { storeContract, type StoreFactory } from '../helpers/store-contract.js';
import { storeVersionContract } from '../helpers/store-contract-versions.js';
import { storeAccountsContract } from '../helpers/store-contract-accounts.js';
import { storeEncryptionContract } from '../helpers/store-contract-encryption.js';
import { storeTagsContract } from '../helpers/store-contract-tags.js';
import { storeLifecycleContract } from '../helpers/store-contract-lifecycle.js';

// The store contract on SQLite, with each of its commit paths: the commit thread (the server's
// default) and group commit on the event loop's connection.

function sqlite(commitThread: boolean): StoreFactory {
  let dir: string | undefined;
  const open = () => SqliteStore.open({ file: path.join(dir!, 'cairn.db'), durability: 'fsync', commitThread });
  return {
    open: async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-store-'));
      return open();
    },
    reopen: async (store: MetadataStore) => {
      await store.close();
      return open();
    },
    cleanup: async () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

storeContract('sqlite, commit thread', sqlite(true));
storeContract('sqlite, group commit', sqlite(false));
storeVersionContract('sqlite, commit thread', sqlite(true));
storeVersionContract('sqlite, group commit', sqlite(false));
storeAccountsContract('sqlite, commit thread', sqlite(true));
storeAccountsContract('sqlite, group commit', sqlite(false));
storeEncryptionContract('sqlite, commit thread', sqlite(true));
storeEncryptionContract('sqlite, group commit', sqlite(false));
storeTagsContract('sqlite, commit thread', sqlite(true));
storeTagsContract('sqlite, group commit', sqlite(false));
storeLifecycleContract('sqlite, commit thread', sqlite(true));
storeLifecycleContract('sqlite, group commit', sqlite(false));
