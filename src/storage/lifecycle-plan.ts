// What the lifecycle rules do to one key's versions at a given time: pure, so the worker, the
// dry run and the tests share one answer. The worker (lifecycle.ts) applies the plan through the
// object store's own delete, which checks object lock again at commit.

import { currentExpiry, dueAfterDays, ruleSelects, type LifecycleRule } from '../s3/lifecycle.js';
import type { LifecycleVersion, TagSet, VersioningStatus } from '../store/metadata-store.js';

export type LifecycleActionKind =
  /** Current version expired: removed (unversioned) or hidden by a delete marker (versioned). */
  | 'expire-current'
  /** A noncurrent version removed for good. */
  | 'expire-noncurrent'
  /** A delete marker that was the key's only version, removed. */
  | 'remove-marker'
  | 'abort-upload';

export interface PlannedAction {
  kind: LifecycleActionKind;
  key: string;
  /** The version removed (absent for expire-current: the current one, whatever its id). */
  versionId?: string;
  uploadId?: string;
  /** The current version's ETag (expire-current applies only while it is still that version). */
  etag?: string;
  /** Bytes the action frees (0 when it adds a delete marker). */
  bytes: number;
  ruleId: string;
}

export interface PlanContext {
  rules: LifecycleRule[];
  versioning: VersioningStatus | null;
  now: number;
  dayMs: number;
  tags: Map<number, TagSet>;
}

/** Retention in force or a legal hold: the version may not be removed. */
export function isLocked(v: Pick<LifecycleVersion, 'legalHold' | 'lockMode' | 'lockUntil'>, now: number): boolean {
  return v.legalHold || (v.lockMode !== null && v.lockUntil !== null && v.lockUntil > now);
}

function currentAction(newest: LifecycleVersion, ctx: PlanContext): PlannedAction | undefined {
  for (const r of ctx.rules) {
    const at = currentExpiry(r, newest.lastModified, ctx.dayMs);
    if (at === undefined || at > ctx.now || !ruleSelects(r, newest, ctx.tags.get(newest.id))) continue;
    // A delete marker frees nothing, except on a suspended bucket where it replaces the null version.
    const frees = ctx.versioning === null || (ctx.versioning === 'Suspended' && newest.versionId === 'null');
    return { kind: 'expire-current', key: newest.key, etag: newest.etag, bytes: frees ? newest.size : 0, ruleId: r.id };
  }
  return undefined;
}

/**
 * The actions on one key (its versions newest first), and how many versions a lock kept. A
 * noncurrent version counts its days from when it became noncurrent: its successor's
 * lastModified. NewerNoncurrentVersions keeps that many of the newest noncurrent versions.
 */
export function planKey(versions: LifecycleVersion[], ctx: PlanContext): { actions: PlannedAction[]; lockedKept: number } {
  const actions: PlannedAction[] = [];
  let lockedKept = 0;
  const newest = versions[0];
  if (!newest) return { actions, lockedKept };
  if (!newest.deleteMarker) {
    const a = currentAction(newest, ctx);
    // The marker goes over a locked version too (S3 does): only removing a locked version is refused.
    if (a && ctx.versioning === 'Suspended' && newest.versionId === 'null' && isLocked(newest, ctx.now)) lockedKept++;
    else if (a) actions.push(a);
  }
  let remaining = versions.length;
  for (let i = 1; i < versions.length; i++) {
    const v = versions[i]!;
    const becameNoncurrent = versions[i - 1]!.lastModified;
    const rule = ctx.rules.find(
      (r) => r.noncurrent && (r.noncurrent.newer === undefined || i - 1 >= r.noncurrent.newer) && dueAfterDays(becameNoncurrent, r.noncurrent.days, ctx.dayMs) <= ctx.now && ruleSelects(r, v, ctx.tags.get(v.id)),
    );
    if (!rule) continue;
    if (isLocked(v, ctx.now)) {
      lockedKept++;
      continue;
    }
    actions.push({ kind: 'expire-noncurrent', key: v.key, versionId: v.versionId, bytes: v.size, ruleId: rule.id });
    remaining--;
  }
  // An expired object delete marker: the only version left (noncurrent ones expired above count as gone).
  if (newest.deleteMarker && remaining === 1) {
    const rule = ctx.rules.find((r) => r.expiration?.expiredObjectDeleteMarker === true && ruleSelects(r, newest, undefined));
    if (rule) actions.push({ kind: 'remove-marker', key: newest.key, versionId: newest.versionId, bytes: 0, ruleId: rule.id });
  }
  return { actions, lockedKept };
}

/** The longest prefix every rule's keys share (where a walk of the bucket starts and ends). */
export function commonPrefix(prefixes: string[]): string {
  if (prefixes.length === 0) return '';
  let p = prefixes[0]!;
  for (const q of prefixes) {
    while (!q.startsWith(p)) p = p.slice(0, -1);
  }
  // Never end inside a surrogate pair.
  return /[\ud800-\udbff]$/.test(p) ? p.slice(0, -1) : p;
}
