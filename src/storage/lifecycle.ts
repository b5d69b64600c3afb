// The lifecycle pass: one engine for the server's worker, the admin API and `cairn lifecycle run`.
// It walks each bucket that has Enabled rules in pages of keys, plans each key (lifecycle-plan.ts)
// and applies the plan through ObjectService.deleteObject and MultipartService.abort, the paths an
// S3 DELETE and AbortMultipartUpload take: the store checks object lock again in the commit, chunk
// references drop there, and freed chunk files are removed as for any delete. Changes go in
// batches (one group commit each) with a yield to the event loop between them, so requests are
// served meanwhile. One pass at a time per store.

import { S3Error } from '../s3/errors.js';
import { DAY_MS, dueAfterDays, ruleSelector, ruleUsesTags, storedLifecycle, type LifecycleRule } from '../s3/lifecycle.js';
import type { BucketRow, LifecycleCounts, LifecycleVersion, MetadataStore } from '../store/metadata-store.js';
import type { ObjectService } from './object-service.js';
import type { MultipartService } from './multipart-service.js';
import { commonPrefix, planKey, type LifecycleActionKind, type PlannedAction } from './lifecycle-plan.js';

export interface LifecycleDeps {
  meta: MetadataStore;
  objects: ObjectService;
  multipart: MultipartService;
}

export interface LifecycleOptions {
  trigger: 'worker' | 'cli';
  /** The clock the rules are evaluated at (default now). */
  now?: number;
  /** Length of a lifecycle day in ms (a testing aid shortens it; default 24 h). */
  dayMs?: number;
  dryRun?: boolean;
  /** Only this bucket. */
  bucket?: string;
  signal?: AbortSignal;
  /** Buckets done of total. */
  onProgress?: (done: number, total: number) => void;
  /** Changes per batch (group commits: the commit thread takes up to its batch size at once); default 1000. */
  batchSize?: number;
  /** Keys read per page; default 1000. */
  pageKeys?: number;
  /**
   * The share of time the pass may work (0 < duty <= 1): after each batch it pauses for the time
   * the batch took x (1 - duty) / duty, so requests keep most of the server (default 0.2,
   * bench/results/lifecycle.md).
   */
  duty?: number;
}

export interface LifecycleActionRecord {
  bucket: string;
  key: string;
  action: LifecycleActionKind;
  versionId?: string;
  uploadId?: string;
  bytes: number;
  ruleId: string;
}

export interface LifecycleResult extends LifecycleCounts {
  dryRun: boolean;
  /** ISO 8601: the clock the rules were evaluated at. */
  evaluatedAt: string;
  /** Buckets with Enabled rules walked. */
  buckets: number;
  durationMs: number;
  /** The first MAX_LISTED actions taken (or, dry run, that would be). */
  actions: LifecycleActionRecord[];
  /** Actions beyond those listed. */
  moreActions: number;
}

export const MAX_LISTED = 1000;

export class LifecycleBusyError extends Error {
  constructor() {
    super('a lifecycle pass is already running');
  }
}

const running = new WeakSet<MetadataStore>();

const zero = (): LifecycleCounts => ({ versionsExpired: 0, markersAdded: 0, markersRemoved: 0, uploadsAborted: 0, bytesExpired: 0, lockedKept: 0 });

/** Runs one pass; LifecycleBusyError when this store has one running. Real passes are recorded in lifecycle_runs. */
export async function runLifecycle(deps: LifecycleDeps, opts: LifecycleOptions): Promise<LifecycleResult> {
  if (running.has(deps.meta)) throw new LifecycleBusyError();
  running.add(deps.meta);
  const started = Date.now();
  const now = opts.now ?? started;
  const dryRun = opts.dryRun ?? false;
  const result: LifecycleResult = { ...zero(), dryRun, evaluatedAt: new Date(now).toISOString(), buckets: 0, durationMs: 0, actions: [], moreActions: 0 };
  let runId: number | undefined;
  try {
    const all = opts.bucket !== undefined ? [await deps.meta.buckets.get(opts.bucket)].filter((b) => b !== undefined) : await deps.meta.buckets.list();
    if (opts.bucket !== undefined && all.length === 0) throw new S3Error('NoSuchBucket', { BucketName: opts.bucket });
    const work = all.flatMap((b) => {
      const rules = storedLifecycle(b.lifecycle)?.rules.filter((r) => r.enabled) ?? [];
      return rules.length > 0 ? [{ bucket: b, rules }] : [];
    });
    // Recorded when there is something to evaluate: a server whose buckets have no rules writes nothing.
    if (!dryRun && work.length > 0) runId = await deps.meta.lifecycle.startRun({ startedAt: started, trigger: opts.trigger, evaluatedAt: now });
    opts.onProgress?.(0, work.length);
    for (const [i, w] of work.entries()) {
      if (opts.signal?.aborted) break;
      const pass = new BucketPass(deps, w.bucket, w.rules, { ...opts, now, dryRun, dayMs: opts.dayMs ?? DAY_MS }, result);
      await pass.objects();
      await pass.uploads();
      result.buckets++;
      opts.onProgress?.(i + 1, work.length);
    }
    result.durationMs = Date.now() - started;
    if (runId !== undefined) await deps.meta.lifecycle.finishRun(runId, countsOf(result), Date.now(), opts.signal?.aborted ? 'stopped' : null);
    return result;
  } catch (err) {
    if (runId !== undefined) await deps.meta.lifecycle.finishRun(runId, countsOf(result), Date.now(), (err as Error).message).catch(() => undefined);
    throw err;
  } finally {
    running.delete(deps.meta);
  }
}

function countsOf(r: LifecycleCounts): LifecycleCounts {
  const { versionsExpired, markersAdded, markersRemoved, uploadsAborted, bytesExpired, lockedKept } = r;
  return { versionsExpired, markersAdded, markersRemoved, uploadsAborted, bytesExpired, lockedKept };
}

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const DEFAULT_DUTY = 0.2;

type PassOptions = LifecycleOptions & { now: number; dryRun: boolean; dayMs: number };

/** One bucket's share of a pass. */
class BucketPass {
  private readonly batch: number;
  private readonly duty: number;
  /** When the work since the last pause began. */
  private workStart = performance.now();

  constructor(
    private readonly deps: LifecycleDeps,
    private readonly bucket: BucketRow,
    private readonly rules: LifecycleRule[],
    private readonly opts: PassOptions,
    private readonly result: LifecycleResult,
  ) {
    this.batch = opts.batchSize ?? 1000;
    this.duty = Math.min(1, Math.max(0.01, opts.duty ?? DEFAULT_DUTY));
  }

  /** Gives the event loop back, and then some (the duty cycle), after a stretch of work. */
  private async pace(): Promise<void> {
    const worked = performance.now() - this.workStart;
    if (this.duty < 1 && worked > 0) await sleep((worked * (1 - this.duty)) / this.duty);
    else await yieldToRequests();
    this.workStart = performance.now();
  }

  /** Current and noncurrent expiry and expired delete markers, a page of keys at a time. */
  async objects(): Promise<void> {
    const rules = this.rules.filter((r) => r.expiration || r.noncurrent);
    if (rules.length === 0) return;
    const prefix = commonPrefix(rules.map((r) => ruleSelector(r.filter).prefix));
    const needTags = rules.some(ruleUsesTags);
    const ctx = { rules, versioning: this.bucket.versioning, now: this.opts.now, dayMs: this.opts.dayMs, tags: new Map() };
    let after: string | undefined;
    for (;;) {
      if (this.opts.signal?.aborted) return;
      const rows = await this.deps.meta.lifecycle.versionPage(this.bucket.id, prefix, after, this.opts.pageKeys ?? 1000);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.key;
      ctx.tags = needTags ? await this.deps.meta.lifecycle.tags(rows.filter((r) => r.tagCount > 0).map((r) => r.id)) : new Map();
      const planned: PlannedAction[] = [];
      for (const versions of byKey(rows)) {
        const plan = planKey(versions, ctx);
        this.result.lockedKept += plan.lockedKept;
        planned.push(...plan.actions);
      }
      // A delete marker goes last, and only if it is still its key's only version (a removal
      // above may have been refused meanwhile: removing the marker would bring that version back).
      await this.apply(planned.filter((a) => a.kind !== 'remove-marker'));
      await this.apply(await this.stillAlone(planned.filter((a) => a.kind === 'remove-marker')));
      await this.pace();
    }
  }

  private async stillAlone(markers: PlannedAction[]): Promise<PlannedAction[]> {
    if (this.opts.dryRun) return markers;
    const alone: PlannedAction[] = [];
    for (const m of markers) {
      const rows = await this.deps.meta.lifecycle.versionPage(this.bucket.id, m.key, undefined, 1);
      if (rows.length === 1 && rows[0]!.key === m.key && rows[0]!.deleteMarker && rows[0]!.versionId === m.versionId) alone.push(m);
    }
    return alone;
  }

  /** AbortIncompleteMultipartUpload: each rule's uploads initiated long enough ago. */
  async uploads(): Promise<void> {
    const seen = new Set<string>();
    for (const r of this.rules) {
      if (r.abortDays === undefined) continue;
      let after: { key: string; uploadId: string } | undefined;
      for (;;) {
        if (this.opts.signal?.aborted) return;
        const page = await this.deps.meta.multipart.list(this.bucket.id, ruleSelector(r.filter).prefix, after, 1000);
        if (page.length === 0) break;
        after = { key: page[page.length - 1]!.key, uploadId: page[page.length - 1]!.id };
        const planned: PlannedAction[] = [];
        for (const u of page) {
          // Due at the first "midnight" DaysAfterInitiation days after it began (S3's rounding).
          if (seen.has(u.id) || dueAfterDays(u.initiated, r.abortDays, this.opts.dayMs) > this.opts.now) continue;
          seen.add(u.id);
          const parts = await this.deps.meta.multipart.allParts(u.id);
          planned.push({ kind: 'abort-upload', key: u.key, uploadId: u.id, bytes: parts.reduce((n, p) => n + p.size, 0), ruleId: r.id });
        }
        await this.apply(planned);
        await this.pace();
      }
    }
  }

  /** Applies actions in batches (a group commit each), yielding between them. */
  private async apply(planned: PlannedAction[]): Promise<void> {
    for (let i = 0; i < planned.length; i += this.batch) {
      const slice = planned.slice(i, i + this.batch);
      const done = this.opts.dryRun ? slice.map(() => true) : await Promise.all(slice.map((a) => this.applyOne(a)));
      slice.forEach((a, j) => done[j] && this.count(a));
      if (i + this.batch < planned.length) await this.pace();
    }
  }

  /** True when it took effect; a locked version counts in lockedKept, a changed key is left alone. */
  private async applyOne(a: PlannedAction): Promise<boolean> {
    try {
      if (a.kind === 'abort-upload') {
        await this.deps.multipart.abort(this.bucket, a.key, a.uploadId!);
        return true;
      }
      const condition = a.kind === 'expire-current' ? { ifMatch: a.etag } : undefined;
      const r = await this.deps.objects.deleteObject(this.bucket, a.key, { versionId: a.versionId, condition });
      return r.deleted;
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      if (err.code === 'AccessDenied') this.result.lockedKept++;
      // ConditionalRequestConflict (a new version came), NoSuchUpload (completed or aborted meanwhile): nothing to do.
      return false;
    }
  }

  private count(a: PlannedAction): void {
    const r = this.result;
    if (a.kind === 'expire-current') {
      if (this.bucket.versioning === null) r.versionsExpired++;
      else r.markersAdded++;
    } else if (a.kind === 'expire-noncurrent') r.versionsExpired++;
    else if (a.kind === 'remove-marker') r.markersRemoved++;
    else r.uploadsAborted++;
    r.bytesExpired += a.bytes;
    if (r.actions.length < MAX_LISTED) {
      r.actions.push({ bucket: this.bucket.name, key: a.key, action: a.kind, versionId: a.versionId, uploadId: a.uploadId, bytes: a.bytes, ruleId: a.ruleId });
    } else r.moreActions++;
  }
}

/** Rows of a page (by key, newest first) grouped per key. */
function* byKey(rows: LifecycleVersion[]): Generator<LifecycleVersion[]> {
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i === rows.length || rows[i]!.key !== rows[start]!.key) {
      yield rows.slice(start, i);
      start = i;
    }
  }
}
