import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../client.js';
import { accounts } from '../schema.js';

// Owners in the records: an account's id and name, and the account an `owner` filter names.

/** The names of these accounts (ids with no account are left out). */
export function accountNames(db: Db, ids: Iterable<string>): Map<string, string> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  return new Map(db.select({ id: accounts.id, name: accounts.name }).from(accounts).where(inArray(accounts.id, unique)).all().map((a) => [a.id, a.name]));
}

import { isCanonicalId } from './assemble.js';

export { ownerRef } from './assemble.js';

/**
 * The id of the account named by its canonical id or its name (a name never looks like an id:
 * src/store/accounts.ts); undefined when there is none.
 */
export function accountIdOf(db: Db, idOrName: string): string | undefined {
  const column = isCanonicalId(idOrName) ? accounts.id : accounts.name;
  return db.select({ id: accounts.id }).from(accounts).where(eq(column, idOrName)).get()?.id;
}
