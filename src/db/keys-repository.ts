import { asc, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { accessKeys, accounts, keyGrants } from './schema.js';
import { AccountsRepository } from './accounts-repository.js';
import { KeyValidationError, keyInfo as info, newAccessKeyId, newSecret, validateImportedPair, validateNewKey } from '../store/keys.js';
import type { AccessKeyInfo, Grant, NewKeyOptions } from '../store/types.js';

// Access keys besides the root pair (docs/admin-contract.md). The S3 layer asks secretFor() to
// verify signatures and get() for the grants, on every request: a revoked key stops at once.

export type { AccessKeyInfo, Grant, Permission } from '../store/types.js';
export { KeyValidationError, MAX_DESCRIPTION_LENGTH, validateGrants } from '../store/keys.js';

type KeyRow = typeof accessKeys.$inferSelect;

export class KeysRepository {
  constructor(readonly db: Db) {}

  /**
   * Creates a key with a new id and secret, or the imported pair. The secret is returned here and
   * by secretFor() only. KeyValidationError for bad input, an unknown account or a taken id.
   */
  create(opts: NewKeyOptions): AccessKeyInfo & { secret: string } {
    const { description, grants } = validateNewKey(opts);
    const pair = validateImportedPair(opts);
    const accountId = opts.accountId ?? new AccountsRepository(this.db).root().id;
    const row: KeyRow = { id: pair?.id ?? newAccessKeyId(), secret: pair?.secret ?? newSecret(), description, createdAt: Date.now(), accountId };
    this.db.transaction((tx) => {
      if (!tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).get()) {
        throw new KeyValidationError('account', 'there is no such account');
      }
      if (tx.select({ id: accessKeys.id }).from(accessKeys).where(eq(accessKeys.id, row.id)).get()) {
        throw new KeyValidationError('accessKeyId', `access key ${row.id} exists`, true);
      }
      tx.insert(accessKeys).values(row).run();
      tx.insert(keyGrants)
        .values(grants.map((g) => ({ accessKeyId: row.id, bucket: g.bucket, permission: g.permission })))
        .run();
    }, { behavior: 'immediate' });
    return { ...info(row, grants), secret: row.secret };
  }

  /** Every key (or an account's), oldest first, without secrets. */
  list(accountId?: string): AccessKeyInfo[] {
    const all = this.db.select().from(accessKeys).orderBy(asc(accessKeys.createdAt), asc(accessKeys.id)).all();
    const rows = accountId === undefined ? all : all.filter((r) => r.accountId === accountId);
    const byKey = new Map<string, Grant[]>();
    for (const g of this.db.select().from(keyGrants).orderBy(asc(keyGrants.bucket)).all()) {
      let list = byKey.get(g.accessKeyId);
      if (!list) byKey.set(g.accessKeyId, (list = []));
      list.push({ bucket: g.bucket, permission: g.permission });
    }
    return rows.map((r) => info(r, byKey.get(r.id) ?? []));
  }

  get(id: string): AccessKeyInfo | undefined {
    const row = this.db.select().from(accessKeys).where(eq(accessKeys.id, id)).get();
    if (!row) return undefined;
    const grants = this.db
      .select({ bucket: keyGrants.bucket, permission: keyGrants.permission })
      .from(keyGrants)
      .where(eq(keyGrants.accessKeyId, id))
      .orderBy(asc(keyGrants.bucket))
      .all();
    return info(row, grants);
  }

  secretFor(id: string): string | undefined {
    return this.db.select({ secret: accessKeys.secret }).from(accessKeys).where(eq(accessKeys.id, id)).get()?.secret;
  }

  /** Deletes the key and its grants; false when there was no such key. */
  revoke(id: string): boolean {
    return this.db.transaction((tx) => {
      // The foreign key cascades too; deleting explicitly does not depend on PRAGMA foreign_keys.
      tx.delete(keyGrants).where(eq(keyGrants.accessKeyId, id)).run();
      return tx.delete(accessKeys).where(eq(accessKeys.id, id)).run().changes > 0;
    }, { behavior: 'immediate' });
  }
}
