import type { TagSet } from './types.js';

// What the lifecycle worker (src/storage/lifecycle.ts) reads of the metadata store beyond the
// object and multipart operations it acts through, and the record of its passes.

/** A version as the lifecycle rules look at it. */
export interface LifecycleVersion {
  id: number;
  key: string;
  versionId: string;
  size: number;
  etag: string;
  lastModified: number;
  isCurrent: boolean;
  deleteMarker: boolean;
  lockMode: 'GOVERNANCE' | 'COMPLIANCE' | null;
  lockUntil: number | null;
  legalHold: boolean;
  tagCount: number;
}

/** The objects columns a LifecycleVersion is made of (each engine selects these). */
export const LIFECYCLE_VERSION_FIELDS = [
  'id',
  'key',
  'versionId',
  'size',
  'etag',
  'lastModified',
  'isCurrent',
  'deleteMarker',
  'lockMode',
  'lockUntil',
  'legalHold',
  'tagCount',
] as const satisfies ReadonlyArray<keyof LifecycleVersion>;

/** `table`'s columns named by LIFECYCLE_VERSION_FIELDS, for a select. */
export function lifecycleVersionColumns<T extends Record<(typeof LIFECYCLE_VERSION_FIELDS)[number], unknown>>(table: T): Pick<T, (typeof LIFECYCLE_VERSION_FIELDS)[number]> {
  return Object.fromEntries(LIFECYCLE_VERSION_FIELDS.map((f) => [f, table[f]])) as Pick<T, (typeof LIFECYCLE_VERSION_FIELDS)[number]>;
}

/** What a pass did (lifecycle_runs' counters). */
export interface LifecycleCounts {
  /** Versions removed for good (current expiry on unversioned buckets, noncurrent expiry). */
  versionsExpired: number;
  /** Delete markers added (current expiry on versioned buckets). */
  markersAdded: number;
  /** Expired object delete markers removed. */
  markersRemoved: number;
  uploadsAborted: number;
  /** Bytes of the versions and upload parts removed. */
  bytesExpired: number;
  /** Versions a rule selected that retention or a legal hold kept. */
  lockedKept: number;
}

export interface LifecycleRunRow extends LifecycleCounts {
  id: number;
  startedAt: number;
  finishedAt: number | null;
  trigger: 'worker' | 'cli';
  evaluatedAt: number;
  error: string | null;
}

export interface LifecycleStore {
  /**
   * Every version of the first `limitKeys` keys after `afterKey` (all keys when undefined) that
   * start with `prefix`, by key in S3's order, each key's versions newest first.
   */
  versionPage(bucketId: number, prefix: string, afterKey: string | undefined, limitKeys: number): Promise<LifecycleVersion[]>;
  /** The tags of these versions (versions without tags are absent from the map). */
  tags(objectIds: number[]): Promise<Map<number, TagSet>>;
  /** Records the start of a pass; its id. */
  startRun(run: { startedAt: number; trigger: 'worker' | 'cli'; evaluatedAt: number }): Promise<number>;
  finishRun(id: number, counts: LifecycleCounts, finishedAt: number, error: string | null): Promise<void>;
  /** The latest pass (by start), finished or not. */
  lastRun(): Promise<LifecycleRunRow | undefined>;
}
