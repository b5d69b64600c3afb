import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LifecycleCounts } from '../store/lifecycle.js';
import type { StoreStats } from '../db/records/shapes.js';

// Prometheus metrics of one server. Each server owns its Registry (never prom-client's global
// one): tests start many servers in one process and each must count only its own traffic.

/** What the S3 app reports once per request, when the response closes. */
export interface RequestSample {
  operation: string | undefined;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** The written chunks of one payload; `created` false means the chunk existed already (dedup hit). */
export type ChunkSample = ReadonlyArray<{ size: number; created: boolean }>;

// Structural forms of GcResult / ScrubResult (src/storage/gc.ts, scrub.ts): the fields counted here.
export interface GcSample {
  dryRun: boolean;
  orphanChunks: number;
  orphanBytes: number;
  expiredUploads: number;
  tmpFiles: number;
  tmpBytes: number;
  freedBytes: number;
  durationMs: number;
}
export interface ScrubSample {
  checked: number;
  bytes: number;
  broken: Array<{ problem: 'corrupt' | 'missing' }>;
  durationMs: number;
}

/** LifecycleResult (src/storage/lifecycle.ts): the fields counted here. */
export type LifecycleSample = LifecycleCounts & { dryRun: boolean; durationMs: number };

/** The store totals counted at scrape time (the records' /v1/stats). */
export type StoreTotals = Pick<StoreStats, 'buckets' | 'objects' | 'logicalBytes' | 'versions' | 'deleteMarkers' | 'versionBytes' | 'physicalBytes' | 'chunks'>;

export interface MetricsOptions {
  pool?: PoolLike;
  totals?: () => Promise<StoreTotals>;
  /** 'sqlite' or 'postgres' (cairn_metadata_engine_info). */
  engine?: string;
  /** Gateways alive and dead in the registry (cairn_gateways). */
  gateways?: () => Promise<{ alive: number; dead: number }>;
  /** Retried transactions so far, by cause (cairn_metadata_retries_total). */
  retries?: () => { serialization: number; deadlock: number };
}

export interface PoolLike {
  readonly bufferSize: number;
  stats(): { total: number; inUse: number; waiters: number };
}

// Seconds: from a cached HEAD to a multi-GiB PUT.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'status'>;
  private readonly latency: Histogram<'operation'>;
  private readonly bytesIn: Counter<'operation'>;
  private readonly bytesOut: Counter<'operation'>;
  private readonly chunkWrites: Counter;
  private readonly chunkBytes: Counter;
  private readonly dedupHits: Counter;
  private readonly dedupBytes: Counter;
  private readonly gcRuns: Counter<'mode'>;
  private readonly gcOrphans: Counter;
  private readonly gcFreed: Counter;
  private readonly gcUploads: Counter;
  private readonly gcTmpFiles: Counter;
  private readonly gcLastRun: Gauge;
  private readonly gcLastDuration: Gauge;
  private readonly gcLastOrphans: Gauge;
  private readonly lifecycleRuns: Counter<'mode'>;
  private readonly lifecycleExpired: Counter<'action'>;
  private readonly lifecycleBytes: Counter;
  private readonly lifecycleLocked: Counter;
  private readonly lifecycleLastRun: Gauge;
  private readonly lifecycleLastDuration: Gauge;
  private readonly scrubRuns: Counter;
  private readonly scrubChecked: Counter;
  private readonly scrubBytes: Counter;
  private readonly scrubBroken: Counter<'problem'>;
  private readonly scrubLastRun: Gauge;
  private readonly scrubLastDuration: Gauge;
  private readonly scrubLastBroken: Gauge;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    // Node's own process metrics (RSS, heap, external/ArrayBuffer memory, event-loop lag, fds):
    // what an operator looks at first when memory or latency misbehaves.
    collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name, help, labelNames, registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });

    this.requests = counter('cairn_s3_requests_total', 'S3 requests by operation and HTTP status', ['operation', 'status']);
    this.latency = new Histogram({
      name: 'cairn_s3_request_duration_seconds',
      help: 'S3 request duration, from arrival to the response closing',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.bytesIn = counter('cairn_s3_received_bytes_total', 'Request body bytes received (as sent on the wire)', ['operation']);
    this.bytesOut = counter('cairn_s3_sent_bytes_total', 'Response body bytes sent', ['operation']);

    this.chunkWrites = counter('cairn_chunk_writes_total', 'Chunk files written (new content)');
    this.chunkBytes = counter('cairn_chunk_written_bytes_total', 'Bytes of chunk files written');
    this.dedupHits = counter('cairn_chunk_dedup_hits_total', 'Chunks received whose content was already stored (not written again)');
    this.dedupBytes = counter('cairn_chunk_dedup_bytes_total', 'Bytes received that dedup did not write again');

    this.gcRuns = counter('cairn_gc_runs_total', 'Garbage collections, by mode (run or dry_run)', ['mode']);
    this.gcOrphans = counter('cairn_gc_orphan_chunks_removed_total', 'Orphan chunk files removed by GC');
    this.gcFreed = counter('cairn_gc_freed_bytes_total', 'Bytes freed by GC (orphan chunks and temp files)');
    this.gcUploads = counter('cairn_gc_expired_uploads_total', 'Expired multipart uploads removed by GC');
    this.gcTmpFiles = counter('cairn_gc_tmp_files_removed_total', 'Stray temporary files removed by GC');
    this.gcLastRun = gauge('cairn_gc_last_run_timestamp_seconds', 'When the last GC (or dry run) finished');
    this.gcLastDuration = gauge('cairn_gc_last_duration_seconds', 'How long the last GC took');
    this.gcLastOrphans = gauge('cairn_gc_last_orphan_chunks', 'Orphan chunks found by the last GC (or dry run)');

    this.lifecycleRuns = counter('cairn_lifecycle_runs_total', 'Lifecycle passes, by mode (run or dry_run)', ['mode']);
    this.lifecycleExpired = counter('cairn_lifecycle_actions_total', 'Lifecycle actions taken, by action (version_removed, delete_marker_added, delete_marker_removed, upload_aborted)', ['action']);
    this.lifecycleBytes = counter('cairn_lifecycle_expired_bytes_total', 'Bytes of the versions and upload parts lifecycle removed');
    this.lifecycleLocked = counter('cairn_lifecycle_locked_kept_total', 'Versions a lifecycle rule selected that retention or a legal hold kept');
    this.lifecycleLastRun = gauge('cairn_lifecycle_last_run_timestamp_seconds', 'When the last lifecycle pass finished');
    this.lifecycleLastDuration = gauge('cairn_lifecycle_last_duration_seconds', 'How long the last lifecycle pass took');
    this.scrubRuns = counter('cairn_scrub_runs_total', 'Scrubs completed');
    this.scrubChecked = counter('cairn_scrub_checked_chunks_total', 'Chunks re-read and verified by scrubs');
    this.scrubBytes = counter('cairn_scrub_checked_bytes_total', 'Bytes re-read by scrubs');
    this.scrubBroken = counter('cairn_scrub_broken_chunks_total', 'Broken chunks found by scrubs, by problem (corrupt or missing)', ['problem']);
    this.scrubLastRun = gauge('cairn_scrub_last_run_timestamp_seconds', 'When the last scrub finished');
    this.scrubLastDuration = gauge('cairn_scrub_last_duration_seconds', 'How long the last scrub took');
    this.scrubLastBroken = gauge('cairn_scrub_last_broken_chunks', 'Broken chunks found by the last scrub');
    // Explicit zeros: an alert on "corrupt > 0" needs the series to exist before the first finding.
    this.scrubBroken.inc({ problem: 'corrupt' }, 0);
    this.scrubBroken.inc({ problem: 'missing' }, 0);

    const pool = opts.pool;
    if (pool) {
      // Read at scrape time: the pool is the source of truth, nothing to keep in sync.
      const poolGauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read());
          },
        });
      poolGauge('cairn_pool_buffers', 'Write buffers in the global pool (its capacity)', () => pool.stats().total);
      poolGauge('cairn_pool_buffers_in_use', 'Write buffers lent to uploads right now', () => pool.stats().inUse);
      poolGauge('cairn_pool_waiters', 'Uploads waiting for a write buffer right now', () => pool.stats().waiters);
      poolGauge('cairn_pool_buffer_size_bytes', 'Size of each write buffer (the chunk size)', () => pool.bufferSize);
    }
    if (opts.totals) this.storeGauges(opts.totals);
    this.metadataGauges(opts);
  }

  /** The metadata engine, the gateway registry and retried transactions, read at scrape time. */
  private metadataGauges(opts: MetricsOptions): void {
    const registers = [this.registry];
    if (opts.engine) new Gauge({ name: 'cairn_metadata_engine_info', help: 'The metadata engine this gateway runs on (value 1)', labelNames: ['engine'], registers }).set({ engine: opts.engine }, 1);
    const gateways = opts.gateways;
    if (gateways) {
      new Gauge({
        name: 'cairn_gateways',
        help: 'Gateways in the registry, by state (alive: heartbeat within --gateway-timeout)',
        labelNames: ['state'],
        registers,
        async collect() {
          const n = await gateways();
          this.set({ state: 'alive' }, n.alive);
          this.set({ state: 'dead' }, n.dead);
        },
      });
    }
    const retries = opts.retries ?? (() => ({ serialization: 0, deadlock: 0 }));
    new Counter({
      name: 'cairn_metadata_retries_total',
      help: 'Metadata transactions retried, by reason (serialization failure, deadlock); PostgreSQL only',
      labelNames: ['reason'],
      registers,
      collect() {
        const n = retries();
        this.reset();
        this.inc({ reason: 'serialization' }, n.serialization);
        this.inc({ reason: 'deadlock' }, n.deadlock);
      },
    });
  }

  /**
   * What is stored, read from the records' totals at scrape time (they run off the event loop):
   * one read per scrape, shared by the gauges.
   */
  private storeGauges(totals: () => Promise<StoreTotals>): void {
    let pending: { at: number; value: Promise<StoreTotals> } | undefined;
    const read = () => {
      if (!pending || Date.now() - pending.at > 1000) pending = { at: Date.now(), value: totals() };
      return pending.value;
    };
    const storeGauge = (name: string, help: string, field: keyof StoreTotals) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set((await read())[field]);
        },
      });
    storeGauge('cairn_store_buckets', 'Buckets', 'buckets');
    storeGauge('cairn_store_objects', 'Current objects (the newest version of a key, not a delete marker)', 'objects');
    storeGauge('cairn_store_object_bytes', 'Bytes of the current objects', 'logicalBytes');
    storeGauge('cairn_store_versions', 'Versions of every key, current and noncurrent (delete markers apart)', 'versions');
    storeGauge('cairn_store_version_bytes', 'Bytes every version holds (before dedup)', 'versionBytes');
    storeGauge('cairn_store_delete_markers', 'Delete markers', 'deleteMarkers');
    storeGauge('cairn_store_chunks', 'Chunks stored (each once, whatever shares it)', 'chunks');
    storeGauge('cairn_store_chunk_bytes', 'Bytes of the chunks stored', 'physicalBytes');
  }

  observeRequest(r: RequestSample): void {
    const operation = r.operation ?? 'Unknown';
    this.requests.inc({ operation, status: String(r.status) });
    this.latency.observe({ operation }, r.seconds);
    if (r.bytesIn > 0) this.bytesIn.inc({ operation }, r.bytesIn);
    if (r.bytesOut > 0) this.bytesOut.inc({ operation }, r.bytesOut);
  }

  recordChunks(chunks: ChunkSample): void {
    for (const c of chunks) {
      if (c.created) {
        this.chunkWrites.inc();
        this.chunkBytes.inc(c.size);
      } else {
        this.dedupHits.inc();
        this.dedupBytes.inc(c.size);
      }
    }
  }

  recordGc(result: GcSample): void {
    this.gcRuns.inc({ mode: result.dryRun ? 'dry_run' : 'run' });
    this.gcLastRun.set(Date.now() / 1000);
    this.gcLastDuration.set(result.durationMs / 1000);
    this.gcLastOrphans.set(result.orphanChunks);
    if (result.dryRun) return;
    this.gcOrphans.inc(result.orphanChunks);
    this.gcFreed.inc(result.freedBytes);
    this.gcUploads.inc(result.expiredUploads);
    this.gcTmpFiles.inc(result.tmpFiles);
  }

  /** A lifecycle pass (worker, admin API or CLI through it); dry runs only count as runs. */
  recordLifecycle(result: LifecycleSample): void {
    this.lifecycleRuns.inc({ mode: result.dryRun ? 'dry_run' : 'run' });
    if (result.dryRun) return;
    this.lifecycleLastRun.set(Date.now() / 1000);
    this.lifecycleLastDuration.set(result.durationMs / 1000);
    this.lifecycleExpired.inc({ action: 'version_removed' }, result.versionsExpired);
    this.lifecycleExpired.inc({ action: 'delete_marker_added' }, result.markersAdded);
    this.lifecycleExpired.inc({ action: 'delete_marker_removed' }, result.markersRemoved);
    this.lifecycleExpired.inc({ action: 'upload_aborted' }, result.uploadsAborted);
    this.lifecycleBytes.inc(result.bytesExpired);
    this.lifecycleLocked.inc(result.lockedKept);
  }

  recordScrub(result: ScrubSample): void {
    this.scrubRuns.inc();
    this.scrubChecked.inc(result.checked);
    this.scrubBytes.inc(result.bytes);
    for (const b of result.broken) this.scrubBroken.inc({ problem: b.problem });
    this.scrubLastRun.set(Date.now() / 1000);
    this.scrubLastDuration.set(result.durationMs / 1000);
    this.scrubLastBroken.set(result.broken.length);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
