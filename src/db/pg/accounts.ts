import { asc, desc, eq, sql } from 'drizzle-orm';
import type { AccountStore } from '../../store/metadata-store.js';
import type { AccountRow } from '../../store/types.js';
import { AccountValidationError, newCanonicalId, validateNewAccount } from '../../store/accounts.js';
import { withTx, type PgDb } from './client.js';
import { accessKeys, accounts, buckets, keyGrants } from './schema.js';
import { uniqueViolation } from './sqlstate.js';
import { hasNul } from './commit.js';

// Accounts on PostgreSQL (the SQLite reference: accounts-repository.ts). SQLite's migration makes
// the root account; here the first gateway that needs it makes it: the account named 'root',
// inserted with `on conflict do nothing`, so gateways starting together end with one.

const ROOT = 'root';

export function pgAccountStore(db: PgDb): AccountStore {
  // Once there, the root account stays (delete refuses it): this remembers that, not a row.
  let rootMade: Promise<void> | undefined;
  const ensureRoot = (): Promise<void> =>
    (rootMade ??= (async () => {
      await db.insert(accounts).values({ id: newCanonicalId(), name: ROOT, email: null, createdAt: Date.now() }).onConflictDoNothing({ target: accounts.name });
    })().catch((err: unknown) => {
      rootMade = undefined;
      throw err;
    }));
  const one = async (where: ReturnType<typeof eq>): Promise<AccountRow | undefined> => (await db.select().from(accounts).where(where).limit(1))[0];

  const store: AccountStore = {
    list: async () => {
      await ensureRoot();
      // The root account first, as SQLite's (made by its migration, before any other).
      return db
        .select()
        .from(accounts)
        .orderBy(desc(sql`${accounts.name} = ${ROOT}`), asc(accounts.createdAt), asc(accounts.name));
    },
    get: async (id) => (hasNul(id) ? undefined : one(eq(accounts.id, id))),
    byName: async (name) => {
      if (hasNul(name)) return undefined;
      if (name === ROOT) await ensureRoot();
      return one(eq(accounts.name, name));
    },
    byEmail: async (email) => (hasNul(email) ? undefined : one(eq(accounts.email, email.toLowerCase()))),
    root: async () => {
      await ensureRoot();
      const row = await one(eq(accounts.name, ROOT));
      if (!row) throw new Error('the metadata has no root account');
      return row;
    },
    create: async (opts) => {
      const { name, email } = validateNewAccount(opts);
      // The name 'root' is taken from the start, as on SQLite.
      await ensureRoot();
      const row: AccountRow = { id: newCanonicalId(), name, email, createdAt: Date.now() };
      const taken = (field: 'name' | 'email') =>
        field === 'name'
          ? new AccountValidationError('name', `an account named '${name}' exists`, true)
          : new AccountValidationError('email', `an account with email '${email}' exists`, true);
      if (await store.byName(name)) throw taken('name');
      if (email !== null && (await store.byEmail(email))) throw taken('email');
      try {
        await db.insert(accounts).values(row);
      } catch (err) {
        // Another gateway took the name or email since the checks above.
        const constraint = uniqueViolation(err);
        if (constraint !== undefined) throw taken(constraint.includes('email') ? 'email' : 'name');
        throw err;
      }
      return row;
    },
    delete: async (id) =>
      hasNul(id)
        ? 'not-found'
        : withTx(db, async (tx) => {
        // Locked: a key being made for it (keys.ts, key share) waits, then finds no account.
        const [row] = await tx.select().from(accounts).where(eq(accounts.id, id)).for('update');
        if (!row) return 'not-found';
        if (row.name === ROOT) return 'root';
        if ((await tx.select({ id: buckets.id }).from(buckets).where(eq(buckets.ownerId, id)).limit(1)).length > 0) return 'owns-buckets';
        await tx.delete(keyGrants).where(sql`${keyGrants.accessKeyId} in (select ${accessKeys.id} from ${accessKeys} where ${accessKeys.accountId} = ${id})`);
        await tx.delete(accessKeys).where(eq(accessKeys.accountId, id));
        await tx.delete(accounts).where(eq(accounts.id, id));
        return 'deleted' as const;
      }),
  };
  return store;
}
