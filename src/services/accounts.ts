import type { AccountResolver } from '../s3/acl.js';
import { AccountValidationError, CANONICAL_ID, NoSuchAccountError } from '../store/accounts.js';
import type { AccountStore } from '../store/metadata-store.js';
import type { AccountRow } from '../store/types.js';

export { AccountValidationError, NoSuchAccountError };

// Accounts: one rule per operation for the S3 handlers (owners, ACL grantees, policy principals),
// the admin API and the CLI. An account is named by its canonical id or its name everywhere.

/** How long display names and ids seen by listings may lag a change made by another process. */
const SNAPSHOT_MS = 1000;

/** An account as the admin API answers and the CLI prints it. */
export interface AccountInfo {
  id: string;
  name: string;
  email: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** The root key's account: it cannot be deleted. */
  root: boolean;
  /** Buckets it owns, and access keys acting for it. */
  buckets: number;
  keys: number;
}

/** AccountInfo of each row, counting the buckets and keys given (every bucket and key of the store). */
export function describeAccounts(rows: AccountRow[], rootId: string, buckets: ReadonlyArray<{ ownerId: string }>, keys: ReadonlyArray<{ accountId: string }>): AccountInfo[] {
  const count = <T>(items: ReadonlyArray<T>, of: (t: T) => string) => {
    const n = new Map<string, number>();
    for (const t of items) n.set(of(t), (n.get(of(t)) ?? 0) + 1);
    return n;
  };
  const owned = count(buckets, (b) => b.ownerId);
  const held = count(keys, (k) => k.accountId);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    email: r.email,
    createdAt: new Date(r.createdAt).toISOString(),
    root: r.id === rootId,
    buckets: owned.get(r.id) ?? 0,
    keys: held.get(r.id) ?? 0,
  }));
}

export interface AccountSnapshot extends AccountResolver {
  readonly byId: ReadonlyMap<string, AccountRow>;
}

export class AccountService {
  private snapshot?: { at: number; value: AccountSnapshot };

  constructor(private readonly store: AccountStore) {}

  list(): Promise<AccountRow[]> {
    return this.store.list();
  }

  root(): Promise<AccountRow> {
    return this.store.root();
  }

  /** The account named by canonical id or name; NoSuchAccountError. */
  async require(idOrName: string): Promise<AccountRow> {
    const row = CANONICAL_ID.test(idOrName) ? await this.store.get(idOrName) : await this.store.byName(idOrName);
    if (!row) throw new NoSuchAccountError(idOrName);
    return row;
  }

  /** Input untyped: it comes from JSON bodies and command lines (AccountValidationError). */
  async create(opts: { name?: unknown; email?: unknown }): Promise<AccountRow> {
    const row = await this.store.create(opts);
    this.snapshot = undefined;
    return row;
  }

  /** Deletes an account with its keys: not the root account, not one that owns a bucket. */
  async delete(idOrName: string): Promise<AccountRow> {
    const row = await this.require(idOrName);
    const result = await this.store.delete(row.id);
    if (result === 'not-found') throw new NoSuchAccountError(idOrName);
    if (result === 'root') throw new AccountValidationError('account', 'the root account (the root key acts for it) cannot be deleted', true);
    if (result === 'owns-buckets') throw new AccountValidationError('account', `account ${row.name} owns buckets: delete them first`, true);
    this.snapshot = undefined;
    return row;
  }

  /**
   * Every account, for resolving grantees and naming owners. `fresh` reads them now (a request
   * that sets an ACL must see an account made a moment ago); otherwise a copy up to SNAPSHOT_MS old.
   */
  async resolver(fresh = false): Promise<AccountSnapshot> {
    const now = Date.now();
    if (!fresh && this.snapshot && now - this.snapshot.at < SNAPSHOT_MS) return this.snapshot.value;
    const rows = await this.store.list();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const byEmail = new Map(rows.filter((r) => r.email !== null).map((r) => [r.email!, r.id]));
    const value: AccountSnapshot = {
      byId,
      exists: (id) => byId.has(id),
      byEmail: (email) => byEmail.get(email.toLowerCase()),
      displayName: (id) => byId.get(id)?.name,
    };
    this.snapshot = { at: now, value };
    return value;
  }

  /** Names owners for a listing: id -> Owner element (one snapshot for the whole page). */
  async namer(): Promise<(id: string) => { id: string; displayName: string }> {
    const snapshot = await this.resolver();
    return (id) => ({ id, displayName: snapshot.displayName(id) ?? '' });
  }

  /** The Owner element of an account: its id and display name. */
  async owner(id: string): Promise<{ id: string; displayName: string }> {
    return { id, displayName: (await this.resolver()).displayName(id) ?? '' };
  }
}
