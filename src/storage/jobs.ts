// The server's background maintenance: multipart expiry sweep, GC, a slow scrub, and the
// mtime heartbeat that keeps a GC in another process (the CLI) off chunks of slow uploads.
// Each job re-arms itself after it finishes, so a run never overlaps the previous one.
import type { Logger } from 'pino';
import type { MultipartService } from './multipart-service.js';
import { runGc, type GcDeps, type GcResult } from './gc.js';
import { runScrub, type ScrubResult } from './scrub.js';

export interface BackgroundJobsOptions {
  /** GC period (ms); 0 = off. The first run comes one period after start. */
  gcIntervalMs: number;
  gcGraceMs: number;
  /** Scrub period (ms), from the end of one scrub to the start of the next; 0 = off. */
  scrubIntervalMs: number;
  /** Pause between chunks of the background scrub (default 25 ms: a background trickle). */
  scrubPauseMs?: number;
  multipartExpiryMs: number;
  /** Heartbeat on pinned chunk files (default: a quarter of the grace period, 1 s to 60 s). */
  touchIntervalMs?: number;
  log: Logger;
  onGc?: (result: GcResult) => void;
  /** Lifecycle pass period (ms), from the end of one pass to the start of the next; 0 or absent = off. */
  lifecycleIntervalMs?: number;
  /** Runs one lifecycle pass (src/storage/lifecycle.ts; it records itself and reports to the metrics). */
  lifecycle?: (signal: AbortSignal) => Promise<unknown>;
  onScrub?: (result: ScrubResult) => void;
}

/** One lifecycle pass of the schedule; a failure is logged (the next pass comes at its time). */
async function lifecyclePass(opts: BackgroundJobsOptions, signal: AbortSignal): Promise<void> {
  try {
    await opts.lifecycle!(signal);
  } catch (err) {
    if (!signal.aborted) opts.log.error({ err }, 'lifecycle pass failed');
  }
}

export type StopBackgroundJobs = () => Promise<void>;

/** Starts the schedule; the returned function stops it and waits for a run in progress to end. */
export function startBackgroundJobs(deps: GcDeps & { multipart: MultipartService }, opts: BackgroundJobsOptions): StopBackgroundJobs {
  const { log } = opts;
  const stop = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();

  const track = (p: Promise<unknown>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
  };
  const every = (ms: number, first: number, job: () => Promise<unknown>) => {
    const arm = (delay: number) => {
      if (stop.signal.aborted) return;
      const t = setTimeout(() => {
        timers.delete(t);
        const p = job().finally(() => arm(ms));
        track(p);
      }, delay);
      t.unref();
      timers.add(t);
    };
    arm(first);
  };

  // Uploads never completed expire; swept at start-up and then hourly (or sooner for short expiries).
  const sweep = () =>
    deps.multipart.expire(opts.multipartExpiryMs).then(
      (n) => void (n > 0 && log.info({ expiredUploads: n }, 'removed expired multipart uploads')),
      (err) => log.warn({ err }, 'multipart expiry sweep failed'),
    );
  const sweepMs = Math.min(3_600_000, Math.max(1000, Math.floor(opts.multipartExpiryMs / 2)));
  track(sweep());
  every(sweepMs, sweepMs, sweep);

  if (opts.gcIntervalMs > 0) {
    every(opts.gcIntervalMs, opts.gcIntervalMs, async () => {
      try {
        const r = await runGc(deps, { graceMs: opts.gcGraceMs, multipartExpiryMs: opts.multipartExpiryMs, signal: stop.signal });
        const did = r.orphanChunks + r.tmpFiles + r.expiredUploads + r.chunkRowsRepaired > 0;
        log[did ? 'info' : 'debug']({ gc: r }, `gc: freed ${r.freedBytes} bytes (${r.orphanChunks} orphan chunks, ${r.tmpFiles} temp files, ${r.expiredUploads} expired uploads)`);
        if (r.chunkRowsRepaired > 0) log.warn({ chunkRowsRepaired: r.chunkRowsRepaired }, 'gc: repaired chunk rows with refcount <= 0');
        opts.onGc?.(r);
      } catch (err) {
        if (!stop.signal.aborted) log.error({ err }, 'gc failed');
      }
    });
  }

  if (opts.scrubIntervalMs > 0) {
    every(opts.scrubIntervalMs, opts.scrubIntervalMs, async () => {
      try {
        const r = await runScrub(deps, { pauseMs: opts.scrubPauseMs ?? 25, signal: stop.signal });
        for (const b of r.broken) {
          log.error(
            { sha256: b.sha256, problem: b.problem, quarantinedTo: b.quarantinedTo, objects: b.objects.slice(0, 20), objectCount: b.objectCount, uploads: b.uploads.slice(0, 20) },
            `scrub: ${b.problem} chunk breaks ${b.objectCount} object(s) and ${b.uploads.length} upload part(s)`,
          );
        }
        log[r.broken.length > 0 ? 'warn' : 'info']({ checked: r.checked, bytes: r.bytes, broken: r.broken.length, durationMs: r.durationMs }, `scrub: checked ${r.checked} chunks, ${r.broken.length} broken`);
        opts.onScrub?.(r);
      } catch (err) {
        if (!stop.signal.aborted) log.error({ err }, 'scrub failed');
      }
    });
  }

  const lifecycleMs = opts.lifecycle ? (opts.lifecycleIntervalMs ?? 0) : 0;
  // The first pass one period after start, as GC's (S3 itself applies rules about once a day).
  if (lifecycleMs > 0) every(lifecycleMs, lifecycleMs, () => lifecyclePass(opts, stop.signal));

  const touchMs = opts.touchIntervalMs ?? Math.max(1000, Math.min(60_000, Math.floor(opts.gcGraceMs / 4) || 60_000));
  every(touchMs, touchMs, () => deps.store.touchPinned().catch((err) => log.warn({ err }, 'touching pinned chunks failed')));

  return async () => {
    stop.abort();
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.allSettled([...running]);
  };
}
