import { S3Error } from './errors.js';
import type { LockColumns, LockMode } from '../store/types.js';

// Object lock's rules, shared by every path that removes a version or changes its retention
// (S3 handlers, the admin API and the CLI reach them through the store and the services).

export const LOCK_MODES: readonly LockMode[] = ['GOVERNANCE', 'COMPLIANCE'];

/** Why a version may not be removed now, or undefined when it may. */
export function removalBlockedBy(v: LockColumns, now: number, bypassGovernance: boolean): string | undefined {
  if (v.legalHold) return 'legal hold';
  if (v.lockMode && v.lockUntil !== null && v.lockUntil > now) {
    if (v.lockMode === 'COMPLIANCE') return 'COMPLIANCE retention';
    if (!bypassGovernance) return 'GOVERNANCE retention';
  }
  return undefined;
}

/** Throws AccessDenied when the version is locked against removal. */
export function checkRemovable(v: LockColumns, now: number, bypassGovernance: boolean): void {
  const blocked = removalBlockedBy(v, now, bypassGovernance);
  if (blocked) throw new S3Error('AccessDenied', {}, `Access Denied because object protected by object lock (${blocked}).`);
}

/**
 * Whether a retention may replace another: COMPLIANCE can only be extended, never shortened,
 * weakened or removed; an active GOVERNANCE retention can be extended (or made COMPLIANCE) by
 * anyone, and shortened or removed only with the bypass.
 */
export function checkRetentionChange(
  old: { lockMode: LockMode | null; lockUntil: number | null },
  next: { mode: LockMode; until: number } | null,
  now: number,
  bypassGovernance: boolean,
): void {
  if (!old.lockMode || old.lockUntil === null || old.lockUntil <= now) return;
  const extends_ = next !== null && next.until >= old.lockUntil;
  if (old.lockMode === 'COMPLIANCE') {
    if (next && next.mode === 'COMPLIANCE' && extends_) return;
    throw new S3Error('AccessDenied', {}, 'Access Denied because object protected by object lock (COMPLIANCE retention can only be extended).');
  }
  if (extends_ || bypassGovernance) return;
  throw new S3Error('AccessDenied', {}, 'Access Denied because object protected by object lock (GOVERNANCE retention; x-amz-bypass-governance-retention is needed).');
}

/** The retain-until date a bucket's default retention gives a version made at `now`. */
export function defaultRetention(
  b: { lockDefaultMode: LockMode | null; lockDefaultDays: number | null; lockDefaultYears: number | null },
  now: number,
): { lockMode: LockMode; lockUntil: number } | undefined {
  if (!b.lockDefaultMode) return undefined;
  const until = new Date(now);
  if (b.lockDefaultYears) until.setUTCFullYear(until.getUTCFullYear() + b.lockDefaultYears);
  else until.setTime(now + (b.lockDefaultDays ?? 0) * 86_400_000);
  return { lockMode: b.lockDefaultMode, lockUntil: until.getTime() };
}
