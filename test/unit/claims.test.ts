// The chunk claims contract on both metadata engines (SQLite file, PostgreSQL test cluster).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDb } from '../../src/db/client.js';
import { sqliteClaims } from '../../src/db/claims-repository.js';
import { openPg } from '../../src/db/pg/client.js';
import { pgClaims } from '../../src/db/pg/claims.js';
import { claimsContract } from '../helpers/claims-contract.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

claimsContract('SQLite', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-claims-'));
  const opened = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  return {
    claims: sqliteClaims(opened.db),
    addChunkRow: async (hash) => void opened.db.run(sql`insert into chunks (hash, size, crc32c, refcount, created_at) values (${hash}, 1, 0, 1, 0)`),
    cleanup: async () => {
      opened.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

describePg('claims on PostgreSQL', () => {
  claimsContract('PostgreSQL', async () => {
    const database = await freshPgDatabase('claims', { migrated: true });
    const pg = await openPg({ url: database.url, migrate: false, poolSize: 8 });
    return {
      claims: pgClaims(pg.db),
      addChunkRow: async (hash) => void (await pg.db.execute(sql`insert into chunks (hash, size, crc32c, refcount, created_at) values (${hash}, 1, 0, 1, 0)`)),
      cleanup: async () => {
        await pg.close();
        await database.drop();
      },
    };
  });
});
