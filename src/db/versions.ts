import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { objects } from './schema.js';
import { checkCondition, placementOf, toPromote, type Placement, type VersionLookup } from './version-rules.js';
import type { WriteCondition } from '../store/types.js';

// The version rules of the commit path on SQLite: which row a write replaces or adds, which row
// is current, what a removal promotes. The repository runs them inside its transactions.

export type { VersionRef } from './version-rules.js';
const REF_COLUMNS = {
  id: objects.id,
  versionId: objects.versionId,
  isCurrent: objects.isCurrent,
  deleteMarker: objects.deleteMarker,
  etag: objects.etag,
  lockMode: objects.lockMode,
  lockUntil: objects.lockUntil,
  legalHold: objects.legalHold,
  // An overwrite in place removes the old version's tags only when it had some.
  tagCount: objects.tagCount,
};

/** Lookups of one key's versions, prepared once per connection: whole rows for reads, refs for commits. */
export function versionStatements(db: Db) {
  const p = sql.placeholder;
  const byKey = and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key')));
  // `is_current = 1` written out, so SQLite uses the partial index objects_current.
  const isCurrent = and(byKey, sql`is_current = 1`);
  const isVersion = and(byKey, eq(objects.versionId, p('versionId')));
  return {
    current: db.select().from(objects).where(isCurrent).prepare(),
    version: db.select().from(objects).where(isVersion).prepare(),
    newest: db.select().from(objects).where(byKey).orderBy(desc(objects.id)).limit(1).prepare(),
    currentRef: db.select(REF_COLUMNS).from(objects).where(isCurrent).prepare(),
    versionRef: db.select(REF_COLUMNS).from(objects).where(isVersion).prepare(),
    newestRef: db.select(REF_COLUMNS).from(objects).where(byKey).orderBy(desc(objects.id)).limit(1).prepare(),
    setState: db.$client.prepare('UPDATE objects SET is_current = ?, delete_marker = ? WHERE id = ?'),
    clearCurrent: db.$client.prepare('UPDATE objects SET is_current = 0 WHERE id = ?'),
  };
}
export type VersionStatements = ReturnType<typeof versionStatements>;

/** The SQLite lookups of the shared rules (version-rules.ts): each a prepared statement, run only when asked. */
function lookup(st: VersionStatements, bucketId: number, key: string): VersionLookup {
  return {
    current: () => st.currentRef.get({ bucketId, key }),
    version: (versionId) => st.versionRef.get({ bucketId, key, versionId }),
    newest: () => st.newestRef.get({ bucketId, key }),
  };
}

/** version-rules.ts checkCondition, against the current version in this transaction. */
export function checkAtCommit(st: VersionStatements, bucketId: number, key: string, condition: WriteCondition | undefined): void {
  if (!condition) return;
  checkCondition(st.currentRef.get({ bucketId, key }), condition);
}

export type { Placement } from './version-rules.js';

export function placementFor(st: VersionStatements, bucketId: number, key: string, versionId: string, bypassGovernance: boolean, now: number): Placement {
  return placementOf(lookup(st, bucketId, key), versionId, bypassGovernance, now);
}

/** After a version was removed: the newest remaining one becomes current unless it is a marker. */
export function promoteNewest(st: VersionStatements, bucketId: number, key: string): void {
  const newest = toPromote(st.newestRef.get({ bucketId, key }));
  if (newest) st.setState.run(1, 0, newest.id);
}
