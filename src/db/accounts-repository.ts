import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { accessKeys, accounts, buckets, keyGrants } from './schema.js';
import { AccountValidationError, newCanonicalId, validateNewAccount } from '../store/accounts.js';
import type { AccountRow } from '../store/types.js';

// Accounts (docs/admin-contract.md): who owns buckets and objects. The first account, made by the
// migration that brought accounts, is the root key's.

export class AccountsRepository {
  constructor(readonly db: Db) {}

  list(): AccountRow[] {
    return this.db.select().from(accounts).orderBy(asc(accounts.createdAt), asc(accounts.name)).all();
  }

  get(id: string): AccountRow | undefined {
    return this.db.select().from(accounts).where(eq(accounts.id, id)).get();
  }

  byName(name: string): AccountRow | undefined {
    return this.db.select().from(accounts).where(eq(accounts.name, name)).get();
  }

  byEmail(email: string): AccountRow | undefined {
    return this.db.select().from(accounts).where(eq(accounts.email, email.toLowerCase())).get();
  }

  /** The first account: the root key acts for it. */
  root(): AccountRow {
    const row = this.db.select().from(accounts).orderBy(asc(sql`rowid`)).limit(1).get();
    if (!row) throw new Error('the metadata has no account: its migrations did not run');
    return row;
  }

  /** A new account with a new canonical id; AccountValidationError for bad input or a taken name or email. */
  create(opts: { name?: unknown; email?: unknown }): AccountRow {
    const { name, email } = validateNewAccount(opts);
    const row: AccountRow = { id: newCanonicalId(), name, email, createdAt: Date.now() };
    return this.db.$client.transaction(() => {
      if (this.byName(name)) throw new AccountValidationError('name', `an account named '${name}' exists`, true);
      if (email !== null && this.byEmail(email)) throw new AccountValidationError('email', `an account with email '${email}' exists`, true);
      this.db.insert(accounts).values(row).run();
      return row;
    }).immediate();
  }

  /**
   * Deletes an account and its keys. Not the root account, and not one that owns a bucket (its
   * objects would have no owner): those answer without change.
   */
  delete(id: string): 'deleted' | 'not-found' | 'owns-buckets' | 'root' {
    return this.db.$client.transaction(() => {
      if (!this.get(id)) return 'not-found';
      if (this.root().id === id) return 'root';
      if (this.db.select({ id: buckets.id }).from(buckets).where(eq(buckets.ownerId, id)).limit(1).get()) return 'owns-buckets';
      const keys = this.db.select({ id: accessKeys.id }).from(accessKeys).where(eq(accessKeys.accountId, id)).all();
      for (const k of keys) this.db.delete(keyGrants).where(eq(keyGrants.accessKeyId, k.id)).run();
      this.db.delete(accessKeys).where(eq(accessKeys.accountId, id)).run();
      this.db.delete(accounts).where(eq(accounts.id, id)).run();
      return 'deleted' as const;
    }).immediate();
  }
}
