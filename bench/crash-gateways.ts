// The crash campaign on PostgreSQL (bench/crash.ts --metadata postgres): two or three gateways
// (`dist/cli.js serve`, CAIRN_METADATA_URL on one database, one shared data dir for chunks, each
// its CAIRN_GATEWAY_ID and so its temp folder tmp/<id>/), the workload spread over them, and each
// cycle kill -9 of ONE gateway. Before it restarts, from a surviving gateway: every acknowledged
// write reads back (bench/crash.ts's model) and an upload the kill interrupted completes there
// (UploadPart of the parts it lacks, Complete). On its restart: its temp folder is swept and no
// live gateway's temp file goes. Then, gateways idle: GC with grace 0 on a gateway (claim TTL
// and gateway timeout short, so the dead one's claims have lapsed), `cairn verify --metadata`,
// and in SQL: each chunk's refcount equals its object and part references, no reference without
// a chunk row, every chunk file has a row and every non-inline row a file.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CompleteMultipartUploadCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { migratePg, pgPool } from '../src/db/pg/client.js';
import { startCluster } from '../src/db/pg/cluster.js';
import { ADMIN_TOKEN, runCli, startServer, type Server } from './crash-server.js';

export type CrashMetadata = 'sqlite' | 'postgres';
export const CRASH_METADATA: readonly CrashMetadata[] = ['sqlite', 'postgres'];

/** How long a dead gateway's chunk claims and registry row last (kept short: the checks wait them out). */
export const CLAIM_TTL_MS = 2_000;
const GATEWAY_TIMEOUT_MS = 2_000;
const HASH_RE = /^[0-9a-f]{64}$/;
const ASIDE_RE = /^[0-9a-f]{64}\.gc-\d+-[0-9a-f]+$/;

export interface GatewaysReport {
  gateways: number;
  /** Kills per gateway. */
  kills: number[];
  /** Kills that cut an upload on the killed gateway between its parts. */
  killsDuringMultipart: number;
  /** Uploads interrupted on the killed gateway that completed through a surviving one. */
  uploadsResumed: number;
  /** A Complete in flight at the kill, sent again through a survivor: completed there / already done. */
  completesRetried: { completed: number; alreadyDone: number };
  /** Interrupted uploads a survivor could not complete. */
  resumeFailures: number;
  /** Temp files of live gateways removed by another gateway's start-up or by GC. */
  liveTmpRemoved: number;
  /** Chunk rows (not inline) whose file is missing. */
  missingChunks: number;
  /** GC runs of the checks that failed. */
  gcFailures: number;
  /** How the checks ran verify: `cairn verify --metadata`, or a gateway's admin API (GC: always the admin API). */
  jobsVia?: 'CLI' | 'admin API';
}

export function emptyGatewaysReport(n: number): GatewaysReport {
  return { gateways: n, kills: Array.from({ length: n }, () => 0), killsDuringMultipart: 0, uploadsResumed: 0, completesRetried: { completed: 0, alreadyDone: 0 }, resumeFailures: 0, liveTmpRemoved: 0, missingChunks: 0, gcFailures: 0 };
}

export function formatGatewaysReport(r: GatewaysReport): string[] {
  return [
    `gateways: ${r.gateways} on PostgreSQL; kills per gateway ${r.kills.join('/')} (${r.killsDuringMultipart} between the parts of an upload on the killed gateway)`,
    `interrupted uploads completed through a survivor: ${r.uploadsResumed} (failed: ${r.resumeFailures}); Completes in flight at the kill sent again: ${r.completesRetried.completed} completed, ${r.completesRetried.alreadyDone} already done`,
    `live gateways' temp files removed: ${r.liveTmpRemoved}; chunk rows without their file: ${r.missingChunks}; GC runs of the checks failed: ${r.gcFailures} (GC through a gateway's admin API, verify through the ${r.jobsVia ?? 'CLI'})`,
  ];
}

/** The metadata database: `url` as given (its schema is migrated here), else a throwaway cluster's. */
export async function prepareMetadata(url?: string): Promise<{ url: string; close(): Promise<void> }> {
  const cluster = url ? undefined : await startCluster({ maxConnections: 200 });
  const dbUrl = url ?? cluster!.urlFor('crash');
  if (cluster) {
    const c = new pg.Client(cluster.url);
    await c.connect();
    await c.query('create database crash').finally(() => c.end());
  }
  const pool = pgPool(dbUrl, 1);
  try {
    await migratePg(pool);
  } finally {
    await pool.end();
  }
  return { url: dbUrl, close: async () => cluster?.stop() };
}

export interface Fleet {
  readonly size: number;
  readonly ids: string[];
  /** Running gateways (undefined while killed). */
  readonly servers: Array<Server | undefined>;
  start(i: number): Promise<Server>;
  kill(i: number): Promise<void>;
  stopAll(): Promise<void>;
}

/** `n` gateways on one data dir; with a metadata URL each has its own id (so its own temp folder). */
export async function startFleet(o: { dataDir: string; n: number; metadataUrl?: string; env?: Record<string, string> }): Promise<Fleet> {
  const ids = Array.from({ length: o.n }, (_, i) => `crash-gw${i}`);
  const servers: Array<Server | undefined> = Array.from({ length: o.n }, () => undefined);
  const envOf = (i: number): Record<string, string> => ({
    ...o.env,
    ...(o.metadataUrl
      ? {
          CAIRN_METADATA_URL: o.metadataUrl,
          CAIRN_METADATA_POOL: '8',
          CAIRN_GATEWAY_ID: ids[i]!,
          CAIRN_GATEWAY_TIMEOUT: `${GATEWAY_TIMEOUT_MS}ms`,
          CAIRN_GC_CLAIM_TTL: `${CLAIM_TTL_MS}ms`,
        }
      : {}),
  });
  const fleet: Fleet = {
    size: o.n,
    ids,
    servers,
    start: async (i) => (servers[i] = await startServer(o.dataDir, envOf(i))),
    kill: async (i) => {
      const s = servers[i];
      if (!s) return;
      servers[i] = undefined;
      s.child.kill('SIGKILL');
      await s.exited;
    },
    stopAll: async () => {
      const up = servers.filter((s): s is Server => s !== undefined);
      servers.fill(undefined);
      for (const s of up) s.child.kill('SIGTERM');
      await Promise.all(up.map((s) => s.exited));
    },
  };
  // Started together: they race to register and to store the shared settings.
  const started = await Promise.allSettled(ids.map((_, i) => fleet.start(i)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await fleet.stopAll();
    throw failed.reason;
  }
  return fleet;
}

/** An upload the kill cut on the killed gateway, as the worker left it. */
export interface Interrupted {
  key: string;
  uploadId: string;
  parts: Buffer[];
  /** Parts whose UploadPart was answered. */
  done: Array<{ PartNumber: number; ETag: string }>;
  /** Its Complete was in flight at the kill. */
  completing: boolean;
}

/**
 * Completes `u` through a surviving gateway: UploadPart of every part not answered (the one in
 * flight at the kill again), then Complete. A Complete that was in flight is sent again as is:
 * NoSuchUpload then means the first one committed.
 */
export async function resumeUpload(s3: S3Client, bucket: string, u: Interrupted, sse: object): Promise<{ etag: string } | 'already-done'> {
  const parts = [...u.done];
  for (const [i, body] of u.parts.entries()) {
    if (parts.some((p) => p.PartNumber === i + 1)) continue;
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId, PartNumber: i + 1, Body: body, ...sse }));
    parts.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  try {
    const res = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId, MultipartUpload: { Parts: parts } }));
    return { etag: res.ETag! };
  } catch (err) {
    if (u.completing && (err as { name?: string }).name === 'NoSuchUpload') return 'already-done';
    throw err;
  }
}

/** Files under `dir` (relative paths), recursively; none when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

export type SharedFailure = 'tmpFilesLeft' | 'liveTmpRemoved' | 'orphanChunks' | 'refcountMismatches' | 'verifyFailures' | 'missingChunks' | 'unexpectedErrors';
type Fail = (kind: SharedFailure, msg: string, n?: number) => void;

/** A fresh temp file in the folder of each running gateway but `except`: what a live gateway is writing. */
function plantSentinels(fleet: Fleet, dataDir: string, except: string | undefined): string[] {
  const out: string[] = [];
  for (const [i, id] of fleet.ids.entries()) {
    if (id === except || !fleet.servers[i]) continue;
    const dir = path.join(dataDir, 'tmp', id);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `crash-sentinel-${Date.now()}-${i}`);
    fs.writeFileSync(file, 'a live gateway writing');
    out.push(file);
  }
  return out;
}

function checkSentinels(sentinels: string[], by: string, fail: Fail): void {
  const gone = sentinels.filter((f) => !fs.existsSync(f));
  if (gone.length > 0) fail('liveTmpRemoved', `${by} removed live gateways' temp files ${gone.map((f) => path.basename(path.dirname(f))).join(', ')}`, gone.length);
  for (const f of sentinels) fs.rmSync(f, { force: true });
}

/**
 * Restarts the killed gateway `victim` with a fresh temp file planted in each live gateway's
 * folder: its start-up must sweep its own folder and leave the others' files.
 */
export async function restartChecked(fleet: Fleet, victim: number, dataDir: string, fail: Fail): Promise<void> {
  const sentinels = plantSentinels(fleet, dataDir, fleet.ids[victim]);
  await fleet.start(victim);
  const own = filesUnder(path.join(dataDir, 'tmp', fleet.ids[victim]!));
  if (own.length > 0) fail('tmpFilesLeft', `after ${fleet.ids[victim]} restarted: its temp folder holds ${own.join(', ')}`, own.length);
  checkSentinels(sentinels, `${fleet.ids[victim]}'s start-up`, fail);
}

/**
 * GC through a gateway's admin API (the gateway collects in shared mode: claims and the GC lease;
 * the CLI's local gc does not take them), verify through `cairn verify --metadata` (or the admin
 * API when the CLI lacks --metadata).
 */
async function job(which: 'gc' | 'verify', o: { dataDir: string; url: string; adminUrl: string; report: GatewaysReport }): Promise<{ ok: boolean; json?: unknown; error: string }> {
  if (which === 'verify' && o.report.jobsVia !== 'admin API') {
    const r = await runCli(['verify', '--no-quarantine', '--data-dir', o.dataDir, '--metadata', o.url, '--json', '--no-progress']);
    if (!/unknown option '--metadata'/.test(r.stderr)) {
      o.report.jobsVia = 'CLI';
      try {
        return { ok: r.code === 0, json: JSON.parse(r.stdout), error: `exit ${r.code}: ${r.stderr.slice(0, 500)}` };
      } catch {
        return { ok: false, error: `exit ${r.code}, unparsable output ${r.stdout.slice(0, 200)}: ${r.stderr.slice(0, 500)}` };
      }
    }
    o.report.jobsVia = 'admin API';
  }
  const res = await fetch(`${o.adminUrl}/v1/${which}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(which === 'gc' ? {} : { quarantine: false }),
  });
  const text = await res.text();
  try {
    return { ok: res.ok, json: JSON.parse(text), error: `${res.status} ${text.slice(0, 500)}` };
  } catch {
    return { ok: false, error: `${res.status} ${text.slice(0, 500)}` };
  }
}

/** GC with grace 0 (retried while another collector holds the lease), its orphan count. */
async function collect(o: { dataDir: string; url: string; adminUrl: string; report: GatewaysReport }, fail: Fail): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const r = await job('gc', o);
    const busy = r.ok && (r.json as { busy?: boolean }).busy === true;
    if (r.ok && !busy) return (r.json as { orphanChunks: number }).orphanChunks;
    // The GC lease of a gateway killed mid-run lapses after the claim TTL.
    if (attempt < 8 && (busy || /lease|another|already running|in progress|409/i.test(r.error))) {
      await new Promise((res) => setTimeout(res, CLAIM_TTL_MS / 2));
      continue;
    }
    o.report.gcFailures++;
    fail('unexpectedErrors', `gc --grace 0 (admin API): ${busy ? 'the GC lease stayed taken' : r.error}`);
    return 0;
  }
}

/**
 * Gateways all up and idle: GC, verify, the SQL audit and the chunk folder against the rows.
 * Waits first until `claimsLapseAt` (the kill + the claim TTL). Returns the orphans GC collected.
 */
export async function checkShared(o: { fleet: Fleet; dataDir: string; url: string; collector: number; claimsLapseAt: number; fail: Fail; report: GatewaysReport }): Promise<number> {
  const { dataDir, url, fail } = o;
  const wait = o.claimsLapseAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const adminUrl = o.fleet.servers[o.collector]!.adminUrl;
  // The collector's own folder is its to sweep (grace 0): sentinels in the other gateways' only.
  const sentinels = plantSentinels(o.fleet, dataDir, o.fleet.ids[o.collector]);
  const collected = await collect({ ...o, adminUrl }, fail);
  checkSentinels(sentinels, 'gc --grace 0', fail);
  const tmp = filesUnder(path.join(dataDir, 'tmp'));
  if (tmp.length > 0) fail('tmpFilesLeft', `after gc --grace 0 (gateways idle): tmp/ holds ${tmp.slice(0, 8).join(', ')}`, tmp.length);
  const verify = await job('verify', { ...o, adminUrl });
  const broken = verify.ok ? (verify.json as { broken: unknown[] }).broken : [verify.error];
  if (broken.length > 0) fail('verifyFailures', `verify (${o.report.jobsVia}): ${JSON.stringify(broken).slice(0, 1000)}`);
  await auditSql(dataDir, url, fail);
  return collected;
}

/** Refcounts against references, references against rows, rows against chunk files. */
async function auditSql(dataDir: string, url: string, fail: Fail): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    const bad = await c.query<{ hash: string; refcount: string; refs: string }>(
      `select c.hash, c.refcount, r.refs from chunks c
         cross join lateral (select (select count(*) from object_chunks o where o.chunk_hash = c.hash)
                                  + (select count(*) from part_chunks p where p.chunk_hash = c.hash) as refs) r
        where c.refcount <> r.refs`,
    );
    if (bad.rows.length > 0) fail('refcountMismatches', bad.rows.slice(0, 5).map((b) => `${b.hash.slice(0, 12)} refcount ${b.refcount} refs ${b.refs}`).join('; '), bad.rows.length);
    const dangling = await c.query<{ n: string }>(
      `select count(*) as n from (select chunk_hash from object_chunks union select chunk_hash from part_chunks) r
        where not exists (select 1 from chunks c where c.hash = r.chunk_hash)`,
    );
    const nDangling = Number(dangling.rows[0]!.n);
    if (nDangling > 0) fail('refcountMismatches', `${nDangling} chunk references without a chunk row`, nDangling);
    const rows = await c.query<{ hash: string; inline: boolean }>('select hash, data is not null as inline from chunks');
    const fileRows = new Set(rows.rows.filter((r) => !r.inline).map((r) => r.hash));
    const allRows = new Set(rows.rows.map((r) => r.hash));
    const files = new Set<string>();
    for (const f of filesUnder(path.join(dataDir, 'chunks'))) {
      const name = path.basename(f);
      if (ASIDE_RE.test(name)) fail('orphanChunks', `${name.slice(0, 12)}...${name.slice(64)} left moved aside after cairn gc --grace 0`);
      else if (!HASH_RE.test(name) || !allRows.has(name)) fail('orphanChunks', `chunks/${f} has no chunk row`);
      else files.add(name);
    }
    const missing = [...fileRows].filter((h) => !files.has(h));
    if (missing.length > 0) fail('missingChunks', `chunk rows without their file: ${missing.slice(0, 5).map((h) => h.slice(0, 12)).join(', ')}`, missing.length);
  } finally {
    await c.end();
  }
}
