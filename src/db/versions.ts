import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { objects } from './schema.js';
import { S3Error } from '../s3/errors.js';
import { writeConditionHolds } from '../s3/conditional.js';
import { checkRemovable } from '../s3/object-lock.js';
import type { ObjectRow, WriteCondition } from '../store/types.js';

// The version rules of the commit path on SQLite: which row a write replaces or adds, which row
// is current, what a removal promotes. The repository runs them inside its transactions.

/** What the commit path reads of a version: its identity, state, ETag and lock, not the whole row. */
export type VersionRef = Pick<ObjectRow, 'id' | 'versionId' | 'isCurrent' | 'deleteMarker' | 'etag' | 'lockMode' | 'lockUntil' | 'legalHold' | 'tagCount'>;
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

/**
 * Checked at commit, against the current version as it is in this transaction. The caller
 * checked the same condition before receiving the body (412/404 there): failing now means
 * another write committed meanwhile, which S3 answers with 409.
 */
export function checkAtCommit(st: VersionStatements, bucketId: number, key: string, condition: WriteCondition | undefined): void {
  if (!condition) return;
  const current = st.currentRef.get({ bucketId, key });
  if (writeConditionHolds(condition, current) !== 'ok') throw new S3Error('ConditionalRequestConflict');
}

/**
 * Where a new version goes. 'in-place': the key's null version is its newest row, and the
 * write rewrites it (same id: the bucket and key indexes are not touched, which is every
 * overwrite in an unversioned bucket). 'insert': a new row, after `retire` (an older null
 * version that a new null replaces) is removed and `demote` (the current version) stops being
 * current.
 */
export type Placement = { kind: 'in-place'; old: VersionRef } | { kind: 'insert'; retire?: VersionRef; demote?: VersionRef };

export function placementFor(st: VersionStatements, bucketId: number, key: string, versionId: string, bypassGovernance: boolean, now: number): Placement {
  const current = st.currentRef.get({ bucketId, key });
  if (versionId !== 'null') return { kind: 'insert', demote: current };
  const nul = current?.versionId === 'null' ? current : st.versionRef.get({ bucketId, key, versionId: 'null' });
  if (!nul) return { kind: 'insert', demote: current };
  checkRemovable(nul, now, bypassGovernance);
  if (nul.isCurrent) return { kind: 'in-place', old: nul };
  // A null delete marker is the newest row when nothing newer was written after it.
  const newest = st.newestRef.get({ bucketId, key });
  if (newest?.id === nul.id) return { kind: 'in-place', old: nul };
  return { kind: 'insert', retire: nul, demote: current };
}

/** After a version was removed: the newest remaining one becomes current unless it is a marker. */
export function promoteNewest(st: VersionStatements, bucketId: number, key: string): void {
  const newest = st.newestRef.get({ bucketId, key });
  if (newest && !newest.deleteMarker && !newest.isCurrent) st.setState.run(1, 0, newest.id);
}
