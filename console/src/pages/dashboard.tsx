import { useEffect, useRef, useState } from 'preact/hooks';
import type { BucketSummary, Gateway, LifecycleRun, StoreStats, VerifyState } from '../api.js';
import { formatAgo, formatBytes, formatDuration, formatRatio, plural, savedPercent } from '../lib/format.js';
import { byOperation, gauge, parsePrometheus, rates, requestTotals, type Rates, type RequestTotals, type Sample } from '../lib/metrics.js';
import { browseHref } from '../lib/paths.js';
import { ActionButton, ErrorBox, Loading, Notice, Progress, useLoad, useSession } from '../ui.js';

const POLL_MS = 5000;

export function DashboardPage() {
  const { api, config } = useSession();
  const buckets = useLoad(() => api.buckets(), []);
  const stats = useLoad<StoreStats | undefined>(() => (config.can.seeAll ? api.stats() : Promise.resolve(undefined)), []);
  const [samples, setSamples] = useState<Sample[]>();
  const [rate, setRate] = useState<Rates>();
  const [metricsError, setMetricsError] = useState<unknown>();
  const prev = useRef<RequestTotals | undefined>(undefined);

  useEffect(() => {
    if (!config.can.seeAll) return;
    let stopped = false;
    const poll = async () => {
      try {
        const s = parsePrometheus(await api.metrics());
        if (stopped) return;
        const totals = requestTotals(s, Date.now());
        if (prev.current) setRate(rates(prev.current, totals));
        prev.current = totals;
        setSamples(s);
        setMetricsError(undefined);
      } catch (e) {
        if (!stopped) setMetricsError(e);
      }
    };
    void poll();
    const t = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, []);

  const list = buckets.data ?? [];
  const totals = stats.data ?? {
    buckets: list.length,
    objects: list.reduce((a, b) => a + b.objects, 0),
    logicalBytes: list.reduce((a, b) => a + b.logicalBytes, 0),
    versions: list.reduce((a, b) => a + b.versions, 0),
    versionBytes: list.reduce((a, b) => a + b.versionBytes, 0),
    physicalBytes: list.reduce((a, b) => a + b.physicalBytes, 0),
  };
  // Dedup is what every version holds (older versions share chunks too) over what is on disk.
  const ratio = stats.data?.dedupRatio ?? (totals.physicalBytes > 0 ? totals.versionBytes / totals.physicalBytes : 1);
  const older = totals.versions - totals.objects;

  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <ErrorBox error={buckets.error ?? stats.error} />
      <div class="cards">
        <Card label="Objects" value={totals.objects.toLocaleString('en-US')} sub={`${plural(totals.buckets, 'bucket')}${older > 0 ? `, +${plural(older, 'older version')}` : ''}`} />
        <Card label="Logical size" value={formatBytes(totals.logicalBytes)} sub={older > 0 ? `current objects; ${formatBytes(totals.versionBytes)} with older versions` : 'what clients stored'} />
        <Card label="On disk" value={formatBytes(totals.physicalBytes)} sub={stats.data ? plural(stats.data.chunks, 'chunk') : 'chunks of your buckets'} />
        <Card label="Dedup ratio" value={formatRatio(ratio)} sub={`saves ${savedPercent(totals.versionBytes, totals.physicalBytes)}`} />
      </div>

      <h2>Usage per bucket</h2>
      {buckets.loading && !buckets.data && <Loading />}
      {buckets.data && <UsageChart buckets={list} />}

      {config.can.seeAll && (
        <>
          <h2>Requests</h2>
          <ErrorBox error={metricsError} />
          {!samples && !metricsError && <Loading what="Reading metrics" />}
          {samples && <Requests samples={samples} rate={rate} />}
          <h2>Maintenance</h2>
          {samples && <Maintenance samples={samples} lifecycle={stats.data?.lifecycle ?? null} />}
          {stats.data?.gateways && <Gateways gateways={stats.data.gateways} engine={stats.data.engine} />}
        </>
      )}
      {config.can.admin && <Verify />}
    </section>
  );
}

function Card({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
      {sub && <div class="card-sub muted">{sub}</div>}
    </div>
  );
}

/** Bars of logical and physical size per bucket: plain SVG bars, HTML labels (readable at any width). */
export function UsageChart({ buckets }: { buckets: BucketSummary[] }) {
  if (buckets.length === 0) return <p class="muted">No buckets yet.</p>;
  const rows = [...buckets].sort((a, b) => b.logicalBytes - a.logicalBytes).slice(0, 20);
  const max = Math.max(1, ...rows.map((b) => Math.max(b.logicalBytes, b.physicalBytes)));
  const pct = (n: number) => Math.max(0.3, (100 * n) / max);
  return (
    <figure class="chart">
      <ul class="chart-rows">
        {rows.map((b) => (
          <li key={b.name}>
            <div class="chart-label">
              <a href={browseHref(b.name)}>{b.name}</a>
              <span class="muted">
                {formatBytes(b.logicalBytes)} logical, {formatBytes(b.physicalBytes)} on disk
              </span>
            </div>
            <svg viewBox="0 0 100 18" preserveAspectRatio="none" role="img" aria-label={`${b.name}: ${formatBytes(b.logicalBytes)} logical, ${formatBytes(b.physicalBytes)} on disk`}>
              <rect x="0" y="0" width={pct(b.logicalBytes)} height="8" class="bar-logical" />
              <rect x="0" y="10" width={pct(b.physicalBytes)} height="8" class="bar-physical" />
            </svg>
          </li>
        ))}
      </ul>
      <figcaption>
        <span class="swatch logical" aria-hidden="true" /> logical (stored by clients) <span class="swatch physical" aria-hidden="true" /> physical (chunks on disk; a chunk shared between buckets counts in each).
        {buckets.length > rows.length && ` The ${rows.length} largest of ${buckets.length} buckets.`}
      </figcaption>
    </figure>
  );
}

function Requests({ samples, rate }: { samples: Sample[]; rate?: Rates }) {
  const t = requestTotals(samples, 0);
  const ops = byOperation(samples).slice(0, 8);
  return (
    <>
      <div class="cards">
        <Card label="Request rate" value={rate ? `${rate.requestsPerSecond.toFixed(1)}/s` : '…'} sub={`${t.requests.toLocaleString('en-US')} since start`} />
        <Card label="Error rate" value={rate ? `${rate.errorsPerSecond.toFixed(2)}/s` : '…'} sub={rate ? `${(rate.errorShare * 100).toFixed(1)}% of recent requests` : 'measuring'} />
        <Card label="Client errors (4xx)" value={t.clientErrors.toLocaleString('en-US')} sub="since start" />
        <Card label="Server errors (5xx)" value={t.serverErrors.toLocaleString('en-US')} sub="since start" />
      </div>
      {ops.length > 0 && (
        <div class="table-wrap">
          <table class="ops">
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col" class="num">Requests</th>
                <th scope="col" class="num">Errors</th>
              </tr>
            </thead>
            <tbody>
              {ops.map((o) => (
                <tr key={o.operation}>
                  <td>{o.operation}</td>
                  <td class="num">{o.requests.toLocaleString('en-US')}</td>
                  <td class="num">{o.errors.toLocaleString('en-US')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** What the last lifecycle pass did, in a card's words. */
function lifecycleSub(run: LifecycleRun): string {
  if (run.finishedAt === null) return 'running now';
  if (run.error) return `stopped: ${run.error}`;
  const objects = run.versionsExpired + run.markersAdded + run.markersRemoved;
  const uploads = run.uploadsAborted > 0 ? `, ${plural(run.uploadsAborted, 'upload')} aborted` : '';
  const locked = run.lockedKept > 0 ? `, ${run.lockedKept} kept by object lock` : '';
  return `${plural(objects, 'object')} expired (${formatBytes(run.bytesExpired)})${uploads}${locked}, took ${formatDuration(run.finishedAt - run.startedAt)}`;
}

function Maintenance({ samples, lifecycle }: { samples: Sample[]; lifecycle: LifecycleRun | null }) {
  const gcAt = gauge(samples, 'cairn_gc_last_run_timestamp_seconds') ?? 0;
  const scrubAt = gauge(samples, 'cairn_scrub_last_run_timestamp_seconds') ?? 0;
  const broken = gauge(samples, 'cairn_scrub_last_broken_chunks') ?? 0;
  return (
    <div class="cards">
      <Card
        label="Last GC"
        value={gcAt > 0 ? formatAgo(gcAt * 1000) : 'not yet'}
        sub={gcAt > 0 ? `${plural(gauge(samples, 'cairn_gc_last_orphan_chunks') ?? 0, 'orphan chunk')} found, took ${formatDuration((gauge(samples, 'cairn_gc_last_duration_seconds') ?? 0) * 1000)}` : 'runs hourly by default'}
      />
      <Card
        label="Last scrub"
        value={scrubAt > 0 ? formatAgo(scrubAt * 1000) : 'not yet'}
        sub={scrubAt > 0 ? (broken > 0 ? `${plural(broken, 'broken chunk')} found!` : `no broken chunks, took ${formatDuration((gauge(samples, 'cairn_scrub_last_duration_seconds') ?? 0) * 1000)}`) : 'runs daily by default'}
      />
      <Card
        label="Last lifecycle pass"
        value={lifecycle ? formatAgo(lifecycle.startedAt) : 'not yet'}
        sub={lifecycle ? lifecycleSub(lifecycle) : 'applies bucket expiry rules hourly by default'}
      />
    </div>
  );
}

/** The gateway registry (docs/postgresql.md): one card with the count, one row per gateway. */
function Gateways({ gateways, engine }: { gateways: Gateway[]; engine?: string }) {
  const alive = gateways.filter((g) => g.state === 'alive').length;
  return (
    <>
      <h2>Gateways</h2>
      <div class="cards">
        <Card label="Gateways" value={`${alive} alive`} sub={`${gateways.length - alive} dead; metadata on ${engine === 'postgres' ? 'PostgreSQL' : 'SQLite'}`} />
      </div>
      <div class="table-wrap">
        <table class="ops" data-testid="gateways">
          <thead>
            <tr>
              <th scope="col">Gateway</th>
              <th scope="col">State</th>
              <th scope="col">Host</th>
              <th scope="col">S3 endpoint</th>
              <th scope="col">Started</th>
              <th scope="col">Heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {gateways.map((g) => (
              <tr key={g.id}>
                <td>{g.id}</td>
                <td>{g.state}</td>
                <td>
                  {g.host} (pid {g.pid})
                </td>
                <td>{g.s3Url}</td>
                <td>{formatAgo(g.startedAt)}</td>
                <td>{formatAgo(g.heartbeatAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Verify() {
  const { api } = useSession();
  const [state, setState] = useState<VerifyState>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    api.verifyState().then(setState, setError);
  }, []);
  useEffect(() => {
    if (!state?.running) return;
    const t = setTimeout(() => api.verifyState().then(setState, setError), 500);
    return () => clearTimeout(t);
  }, [state]);
  const r = state?.result;
  return (
    <div class="verify">
      <h2>Verify</h2>
      <p class="muted small">Re-reads every chunk and checks its CRC32C and SHA-256 (what `cairn verify` does). Broken chunks are moved to quarantine.</p>
      <ActionButton class="primary" disabled={state?.running} onClick={async () => setState(await api.startVerify())} onError={setError}>
        {state?.running ? 'Verifying…' : 'Verify all chunks now'}
      </ActionButton>
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      {state?.running && (
        <div aria-live="polite">
          <Progress value={state.done} max={state.total} label="Verify progress" />
          <p class="small">
            {state.done.toLocaleString('en-US')} of {state.total.toLocaleString('en-US')} chunks checked
          </p>
        </div>
      )}
      {state?.error && <ErrorBox error={new Error(`Verify failed: ${state.error}`)} />}
      {!state?.running && r && (
        <Notice kind={r.broken.length ? 'warn' : 'ok'}>
          <span data-testid="verify-result">
            Verified {plural(r.checked, 'chunk')} ({formatBytes(r.bytes)}) in {formatDuration(r.durationMs)}:{' '}
            {r.broken.length === 0 ? 'no problems found.' : `${plural(r.broken.length, 'broken chunk')}, affecting ${r.broken.map((b) => b.objects.map((o) => `${o.bucket}/${o.key}`).join(', ')).join('; ')}.`}
          </span>
        </Notice>
      )}
    </div>
  );
}
