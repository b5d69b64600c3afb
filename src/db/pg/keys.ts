import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { AccountStore, KeyStore } from '../../store/metadata-store.js';
import type { AccessKeyInfo, Grant } from '../../store/types.js';
import { KeyValidationError, keyInfo, newAccessKeyId, newSecret, validateImportedPair, validateNewKey } from '../../store/keys.js';
import { withTx, type PgDb } from './client.js';
import { accessKeys, accounts, keyGrants } from './schema.js';
import { pgAccountStore } from './accounts.js';
import { hasNul } from './commit.js';

// Access keys on PostgreSQL (the SQLite reference: keys-repository.ts; the validation is shared,
// src/store/keys.ts). No cache: a key revoked on one gateway stops working on every gateway at
// its next request.

// Grants in byte order of the bucket name (validateGrants's order); key_grants.bucket has the
// database's collation, which may order '*', '-' and '.' otherwise.
const byBucket = sql`${keyGrants.bucket} collate "C"`;

/** A key, its grants (byBucket's order) and its secret: one named statement, one round trip. */
const KEY_WITH_GRANTS = {
  name: 'cairn_key_with_grants',
  text: `select k.id, k.account_id as "accountId", k.description, k.created_at as "createdAt", k.secret,
      coalesce((select json_agg(json_build_object('bucket', g.bucket, 'permission', g.permission) order by g.bucket collate "C")
        from key_grants g where g.access_key_id = k.id), '[]') as grants
    from access_keys k where k.id = $1`,
};

export function pgKeyStore(db: PgDb, accountStore: AccountStore = pgAccountStore(db)): KeyStore {
  const grantsOf = async (ids: string[]): Promise<Map<string, Grant[]>> => {
    const byKey = new Map<string, Grant[]>();
    if (ids.length === 0) return byKey;
    for (const g of await db.select().from(keyGrants).where(inArray(keyGrants.accessKeyId, ids)).orderBy(byBucket)) {
      let list = byKey.get(g.accessKeyId);
      if (!list) byKey.set(g.accessKeyId, (list = []));
      list.push({ bucket: g.bucket, permission: g.permission });
    }
    return byKey;
  };

  const withSecret = async (id: string): Promise<{ key: AccessKeyInfo; secret: string } | undefined> => {
    if (hasNul(id)) return undefined;
    const row = (await db.$client.query({ ...KEY_WITH_GRANTS, values: [id] })).rows[0] as { id: string; accountId: string; description: string; createdAt: number; secret: string; grants: Grant[] } | undefined;
    return row && { key: keyInfo(row, row.grants), secret: row.secret };
  };

  return {
    withSecret,
    create: async (opts) => {
      const { description, grants } = validateNewKey(opts);
      const pair = validateImportedPair(opts);
      const accountId = opts.accountId ?? (await accountStore.root()).id;
      if (hasNul(accountId)) throw new KeyValidationError('account', 'there is no such account');
      const row = { id: pair?.id ?? newAccessKeyId(), secret: pair?.secret ?? newSecret(), description, createdAt: Date.now(), accountId };
      await withTx(db, async (tx) => {
        // Key share: an account delete on another gateway (for update) waits for this key, or this for it.
        const [account] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('key share');
        if (!account) throw new KeyValidationError('account', 'there is no such account');
        const inserted = await tx.insert(accessKeys).values(row).onConflictDoNothing({ target: accessKeys.id }).returning({ id: accessKeys.id });
        if (inserted.length === 0) throw new KeyValidationError('accessKeyId', `access key ${row.id} exists`, true);
        await tx.insert(keyGrants).values(grants.map((g) => ({ accessKeyId: row.id, bucket: g.bucket, permission: g.permission })));
      });
      return { ...keyInfo(row, grants), secret: row.secret };
    },

    list: async (accountId) => {
      if (accountId !== undefined && hasNul(accountId)) return [];
      const q = db.select().from(accessKeys);
      const rows = await (accountId === undefined ? q : q.where(eq(accessKeys.accountId, accountId))).orderBy(asc(accessKeys.createdAt), asc(accessKeys.id));
      const grants = await grantsOf(rows.map((r) => r.id));
      return rows.map((r) => keyInfo(r, grants.get(r.id) ?? []));
    },

    // An id holding NUL (a forged credential) is no key's; the server never sees it.
    get: async (id) => (await withSecret(id))?.key,
    secretFor: async (id) => (hasNul(id) ? undefined : (await db.select({ secret: accessKeys.secret }).from(accessKeys).where(eq(accessKeys.id, id)))[0]?.secret),

    revoke: async (id) =>
      !hasNul(id) &&
      withTx(db, async (tx) => {
        await tx.delete(keyGrants).where(eq(keyGrants.accessKeyId, id));
        return (await tx.delete(accessKeys).where(eq(accessKeys.id, id)).returning({ id: accessKeys.id })).length > 0;
      }),
  };
}
