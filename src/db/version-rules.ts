import { S3Error } from '../s3/errors.js';
import { writeConditionHolds } from '../s3/conditional.js';
import { checkRemovable } from '../s3/object-lock.js';
import type { ObjectRow, WriteCondition } from '../store/types.js';

// The version rules of the commit path, for every engine: which row a write replaces or adds,
// whether its condition holds, what a removal promotes. Each engine answers the lookups its own
// way (SQLite: prepared statements run on demand; PostgreSQL: one query read under the key's lock).

/** What the commit path reads of a version: its identity, state, ETag and lock, not the whole row. */
export type VersionRef = Pick<ObjectRow, 'id' | 'versionId' | 'isCurrent' | 'deleteMarker' | 'etag' | 'lockMode' | 'lockUntil' | 'legalHold' | 'tagCount'>;

/** A key's versions as the rules ask for them. */
export interface VersionLookup {
  /** The current version (never a delete marker). */
  current(): VersionRef | undefined;
  /** The version with this id. */
  version(versionId: string): VersionRef | undefined;
  /** The newest row of the key (highest id), which may be a delete marker. */
  newest(): VersionRef | undefined;
}

/**
 * Checked at commit, against the current version as it is in this transaction. The caller
 * checked the same condition before receiving the body (412/404 there): failing now means
 * another write committed meanwhile, which S3 answers with 409.
 */
export function checkCondition(current: VersionRef | undefined, condition: WriteCondition | undefined): void {
  if (condition && writeConditionHolds(condition, current) !== 'ok') throw new S3Error('ConditionalRequestConflict');
}

/**
 * Where a new version goes. 'in-place': the key's null version is its newest row, and the
 * write rewrites it (same id: the bucket and key indexes are not touched, which is every
 * overwrite in an unversioned bucket). 'insert': a new row, after `retire` (an older null
 * version that a new null replaces) is removed and `demote` (the current version) stops being
 * current.
 */
export type Placement = { kind: 'in-place'; old: VersionRef } | { kind: 'insert'; retire?: VersionRef; demote?: VersionRef };

export function placementOf(look: VersionLookup, versionId: string, bypassGovernance: boolean, now: number): Placement {
  const current = look.current();
  if (versionId !== 'null') return { kind: 'insert', demote: current };
  const nul = current?.versionId === 'null' ? current : look.version('null');
  if (!nul) return { kind: 'insert', demote: current };
  checkRemovable(nul, now, bypassGovernance);
  if (nul.isCurrent) return { kind: 'in-place', old: nul };
  // A null delete marker is the newest row when nothing newer was written after it.
  const newest = look.newest();
  if (newest?.id === nul.id) return { kind: 'in-place', old: nul };
  return { kind: 'insert', retire: nul, demote: current };
}

/** After a version was removed: the newest remaining one, when it must become current. */
export function toPromote(newest: VersionRef | undefined): VersionRef | undefined {
  return newest && !newest.deleteMarker && !newest.isCurrent ? newest : undefined;
}
