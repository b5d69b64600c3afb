import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { objects } from './schema.js';
import { S3Error } from '../s3/errors.js';
import { writeConditionHolds } from '../s3/conditional.js';
import { checkRemovable } from '../s3/object-lock.js';
import type { ObjectRow, WriteCondition } from '../store/types.js';

// The version rules of the commit path on SQLite: which row a write replaces or adds, which row
// is current, what a removal promotes. The repository runs them inside its transactions.

/** Lookups of one key's versions, prepared once per connection. */
export function versionStatements(db: Db) {
  const p = sql.placeholder;
  const byKey = and(eq(objects.bucketId, p('bucketId')), eq(objects.key, p('key')));
  return {
    // `is_current = 1` written out, so SQLite uses the partial index objects_current.
    current: db.select().from(objects).where(and(byKey, sql`is_current = 1`)).prepare(),
    version: db.select().from(objects).where(and(byKey, eq(objects.versionId, p('versionId')))).prepare(),
    newest: db.select().from(objects).where(byKey).orderBy(desc(objects.id)).limit(1).prepare(),
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
  const current = st.current.get({ bucketId, key }) as ObjectRow | undefined;
  if (writeConditionHolds(condition, current) !== 'ok') throw new S3Error('ConditionalRequestConflict');
}

/**
 * Where a new version goes. 'in-place': the key's null version is its newest row, and the
 * write rewrites it (same id: the bucket and key indexes are not touched, which is every
 * overwrite in an unversioned bucket). 'insert': a new row, after `retire` (an older null
 * version that a new null replaces) is removed and `demote` (the current version) stops being
 * current.
 */
export type Placement = { kind: 'in-place'; old: ObjectRow } | { kind: 'insert'; retire?: ObjectRow; demote?: ObjectRow };

export function placementFor(st: VersionStatements, bucketId: number, key: string, versionId: string, bypassGovernance: boolean, now: number): Placement {
  const current = st.current.get({ bucketId, key }) as ObjectRow | undefined;
  if (versionId !== 'null') return { kind: 'insert', demote: current };
  const nul = current?.versionId === 'null' ? current : (st.version.get({ bucketId, key, versionId: 'null' }) as ObjectRow | undefined);
  if (!nul) return { kind: 'insert', demote: current };
  checkRemovable(nul, now, bypassGovernance);
  if (nul.isCurrent) return { kind: 'in-place', old: nul };
  // A null delete marker is the newest row when nothing newer was written after it.
  const newest = st.newest.get({ bucketId, key }) as ObjectRow | undefined;
  if (newest?.id === nul.id) return { kind: 'in-place', old: nul };
  return { kind: 'insert', retire: nul, demote: current };
}

/** After a version was removed: the newest remaining one becomes current unless it is a marker. */
export function promoteNewest(st: VersionStatements, bucketId: number, key: string): void {
  const newest = st.newest.get({ bucketId, key }) as ObjectRow | undefined;
  if (newest && !newest.deleteMarker && !newest.isCurrent) st.setState.run(1, 0, newest.id);
}
