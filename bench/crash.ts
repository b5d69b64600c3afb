// Crash campaign: the built server (`dist/cli.js serve`, default fsync durability) on one data dir,
// killed with SIGKILL at a random moment of a concurrent workload (PUTs, multipart uploads,
// CopyObject, DeleteObject(s), aborts of stale uploads, admin GC runs), then checked, cycle after
// cycle:
//   - server stopped: `cairn verify --json` exits 0 with nothing broken, `cairn gc --grace 0`
//     runs, then no tmp file is left, every file under chunks/ has a chunk row, every chunk row's
//     refcount equals its object/part references, and SQLite's integrity check passes;
//   - server restarted: no tmp file survives the start-up sweep; every acknowledged object reads
//     back byte-identical (SHA-256), every acknowledged delete stays deleted, every write in flight
//     at the kill is either absent (the old state) or whole, and the listing agrees.
// "Acknowledged" = the SDK (maxAttempts 1) returned success before the kill.
// Beside the plain bucket, the same workers drive a versioned bucket and an object-lock bucket
// (bench/crash-versions.ts: acknowledged versions, delete markers and locks survive the kills).
//
//   npm run crash                      200 cycles (npm run crash -- --cycles 50 --seed 7 --kill-after 30-1500)
//   npm run crash -- --buckets plain   only the plain bucket (plain, versioned, locked: any of them)
//   npm run crash -- --encryption sse-s3   every write sealed (key file + encryptAll); sse-c: over
//                                          https, the plain bucket's writes with a client key
//                                          (bench/crash-encryption.ts: no chunk in clear, no plaintext)
//   npm run crash -- --budget 1800     start no cycle after 30 min
//   npm run crash -- --metadata postgres   two or three gateways on PostgreSQL and one shared
//                                          chunk folder, one of them killed per cycle
//                                          (bench/crash-gateways.ts; --gateways 2|3, default 3)
//   test/integration/crash-campaign.test.ts runs a short campaign inside `npm test`.
//   CRASH_DEBUG=1 also logs every admin GC answer.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CRASH_ENCRYPTIONS, encryptionSetup, needlesOf, plaintextFound, postTls, unsealedChunks, type CrashEncryption, type EncryptionSetup } from './crash-encryption.js';
import { CLAIM_TTL_MS, CRASH_METADATA, checkShared, emptyGatewaysReport, filesUnder, formatGatewaysReport, prepareMetadata, restartChecked, resumeUpload, startFleet, type CrashMetadata, type GatewaysReport, type Interrupted } from './crash-gateways.js';
import { ADMIN_TOKEN, CHUNK, CLI, KEY_ID, SECRET, runCli } from './crash-server.js';
import { BUCKET_KINDS, VersionedWorkload, emptyVersionsReport, formatVersionsReport, type BucketKind, type VersionsReport } from './crash-versions.js';

const BUCKET = 'crash';
const KiB = 1024;
const MiB = 1024 * KiB;
const HASH_RE = /^[0-9a-f]{64}$/;
const ASIDE_RE = /^[0-9a-f]{64}\.gc-\d+-[0-9a-f]+$/;

export interface CampaignOptions {
  cycles: number;
  seed?: number;
  /** Concurrent workers driving the workload. */
  workers?: number;
  /** Size of the key space the workers share. */
  keys?: number;
  /** The kill comes this long after the workload starts (uniform, ms). */
  killAfterMs?: [number, number];
  /** Start no new cycle once this much time has passed (the short run inside `npm test`). */
  budgetMs?: number;
  /** Keep the data dir afterwards (its path is in the report). */
  keep?: boolean;
  /** The buckets the workload drives (default all three): plain, versioned, object-lock. */
  buckets?: readonly BucketKind[];
  /** Encrypted at rest: SSE-S3 everywhere, or SSE-C writes over https (bench/crash-encryption.ts). */
  encryption?: CrashEncryption;
  /** postgres: several gateways on one database and one chunk folder, one killed per cycle (bench/crash-gateways.ts). */
  metadata?: CrashMetadata;
  /** With postgres: how many gateways (default 3). */
  gateways?: number;
  /** With postgres: a database to use (its schema is migrated); default a throwaway cluster's. */
  metadataUrl?: string;
  log?: (line: string) => void;
}

export interface CampaignReport {
  cycles: number;
  seed: number;
  durationMs: number;
  dataDir: string;
  /** Write operations the SDK saw succeed (each an object state the server must keep). */
  acknowledged: { put: number; multipart: number; copy: number; delete: number; total: number };
  /** Other operations that succeeded: aborts of stale uploads, admin GC runs. */
  aborts: number;
  /** Admin GC runs that finished (others were refused as one was running, or were cut by the kill). */
  gcRuns: number;
  gcRequests: number;
  /** Read-back checks after restarts of a key whose state came from an acknowledged write. */
  acknowledgedChecks: number;
  /** Of those, objects (not deletes) whose bytes were read back and hashed. */
  acknowledgedObjectsVerified: number;
  /** Writes in flight at a kill (no answer): found applied (whole) or not applied after restart. */
  inFlight: { applied: number; notApplied: number };
  lost: number;
  corrupt: number;
  /** Acknowledged deletes that came back. */
  resurrected: number;
  verifyFailures: number;
  /** Files under chunks/ with no chunk row after `cairn gc --grace 0`. */
  orphanChunks: number;
  /** Files a killed GC left moved aside (`<sha256>.gc-*`) still there after `cairn gc --grace 0`. */
  gcAsides: number;
  tmpFilesLeft: number;
  refcountMismatches: number;
  dbIntegrityFailures: number;
  /** Errors while the server was up (before the kill) that the workload did not expect. */
  unexpectedErrors: number;
  /** Orphan chunk files `cairn gc` removed after the kills (the crashes' leftovers). */
  orphansCollected: number;
  /** With encryption: chunk files or inline rows found unsealed; known plaintext slices found in the data dir at the end (of how many looked for). */
  encryption?: { mode: CrashEncryption; unsealedChunks: number; plaintextFound: number; needles: number; chunksChecked: number };
  /** The versioned and object-lock buckets (bench/crash-versions.ts). */
  versions: VersionsReport;
  /** With postgres: kills per gateway, interrupted uploads completed elsewhere, temp folders. */
  gateways?: GatewaysReport;
  failures: string[];
}

type State = { sha: string; size: number; etag: string } | null; // null: absent
type GatewayCounter = 'liveTmpRemoved' | 'missingChunks' | 'resumeFailures';
/** An upload the kill cut, with the object it makes. */
type Cut = Interrupted & { sha: string; size: number };
interface KeyModel {
  /** Possible states: one when known, more after a write whose answer the kill swallowed. */
  states: State[];
  /** The single state came from an acknowledged write (not from looking after a crash). */
  fromAck: boolean;
  busy: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const same = (a: State, b: State) => (a === null ? b === null : b !== null && a.sha === b.sha && a.size === b.size);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 4xx answer: the server looked at the request and refused it, so it changed nothing. */
const refused = (err: unknown) => {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
};

export async function runCampaign(opts: CampaignOptions): Promise<CampaignReport> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = mulberry32(seed);
  const rand = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const workers = opts.workers ?? 8;
  const keyCount = opts.keys ?? 24;
  const [killMin, killMax] = opts.killAfterMs ?? [30, 1500];
  const log = opts.log ?? (() => undefined);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-crash-campaign-'));
  const started = Date.now();

  const report: CampaignReport = {
    cycles: 0, seed, durationMs: 0, dataDir,
    acknowledged: { put: 0, multipart: 0, copy: 0, delete: 0, total: 0 },
    aborts: 0, gcRuns: 0, gcRequests: 0, acknowledgedChecks: 0, acknowledgedObjectsVerified: 0,
    inFlight: { applied: 0, notApplied: 0 },
    lost: 0, corrupt: 0, resurrected: 0, verifyFailures: 0, orphanChunks: 0, gcAsides: 0, tmpFilesLeft: 0,
    refcountMismatches: 0, dbIntegrityFailures: 0, unexpectedErrors: 0, orphansCollected: 0, versions: emptyVersionsReport(), failures: [],
  };
  const enc: EncryptionSetup | undefined = opts.encryption ? encryptionSetup(opts.encryption, `${dataDir}-keys`) : undefined;
  if (enc) report.encryption = { mode: enc.mode, unsealedChunks: 0, plaintextFound: 0, needles: 0, chunksChecked: 0 };
  const sseC = enc?.customer ?? {};
  /** Slices of bodies written (random ones too): none may be found in the data dir when encrypted. */
  const written: Buffer[] = [];
  type Counter = 'lost' | 'corrupt' | 'resurrected' | 'verifyFailures' | 'orphanChunks' | 'tmpFilesLeft' | 'refcountMismatches' | 'dbIntegrityFailures' | 'unexpectedErrors' | 'lockViolations' | 'plaintext' | GatewayCounter;
  const fail = (kind: Counter, msg: string, count = 1) => {
    if (kind === 'lockViolations') report.versions.lockViolations += count;
    else if (kind === 'liveTmpRemoved' || kind === 'missingChunks' || kind === 'resumeFailures') report.gateways![kind] += count;
    else if (kind !== 'plaintext') report[kind] += count;
    if (report.failures.length < 100) report.failures.push(`cycle ${report.cycles}: ${kind}: ${msg}`);
    log(`  FAIL ${kind}: ${msg}`);
  };

  const gcMs: number[] = [];
  const keys = Array.from({ length: keyCount }, (_, i) => `k/${String(i).padStart(2, '0')}`);
  const model = new Map<string, KeyModel>(keys.map((k) => [k, { states: [null], fromAck: true, busy: false }]));
  // Shared bytes: PUTs and parts built from these dedup onto stored chunks (and GC races them).
  const blobs = Array.from({ length: 6 }, (_, i) => randomBytes(i < 2 ? 5 * MiB : rand(256, 1024) * KiB));

  function body(): Buffer {
    const r = rng();
    const size = r < 0.1 ? rand(0, 100) : r < 0.4 ? rand(1, 64 * KiB) : r < 0.85 ? rand(64 * KiB, 400 * KiB) : rand(400 * KiB, 1536 * KiB);
    const kind = rng();
    if (kind < 0.6) return randomBytes(size);
    const blob = pick(blobs.slice(2));
    if (kind < 0.8) return blob.subarray(0, Math.min(size, blob.length));
    const head = blob.subarray(0, Math.min(blob.length, Math.floor(size / CHUNK) * CHUNK));
    return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
  }
  function part5MiB(): Buffer {
    // Mostly a shared blob (dedup), with four fresh chunks somewhere in it.
    const b = Buffer.from(pick(blobs.slice(0, 2)));
    randomBytes(4 * CHUNK).copy(b, rand(0, 76) * CHUNK);
    return b;
  }

  const ack = (k: string, s: State, kind: 'put' | 'multipart' | 'copy' | 'delete') => {
    const m = model.get(k)!;
    m.states = [s];
    m.fromAck = true;
    report.acknowledged[kind]++;
    report.acknowledged.total++;
  };
  const maybe = (k: string, s: State) => {
    const m = model.get(k)!;
    if (!m.states.some((x) => same(x, s))) m.states.push(s);
    m.fromAck = false;
  };

  const kinds = opts.buckets ?? BUCKET_KINDS;
  const versioned = new VersionedWorkload({ kinds, rng, rand, fail, report: report.versions });
  const pgMode = opts.metadata === 'postgres';
  if (pgMode && enc) throw new Error('--encryption runs on SQLite metadata only (its checks read cairn.db)');
  const meta = pgMode ? await prepareMetadata(opts.metadataUrl) : undefined;
  const n = pgMode ? (opts.gateways ?? 3) : 1;
  if (pgMode) report.gateways = emptyGatewaysReport(n);
  const fleet = await startFleet({ dataDir, n, metadataUrl: meta?.url, env: enc?.env }).catch(async (err: unknown) => {
    await meta?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const clients: Array<S3Client | undefined> = fleet.servers.map((s) => client(s!.url));
  const reconnect = (i: number) => {
    clients[i]?.destroy();
    clients[i] = client(fleet.servers[i]!.url);
  };
  try {
    await clients[0]!.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await versioned.setup(clients[0]!);
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      if (opts.budgetMs !== undefined && cycle > 1 && Date.now() - started > opts.budgetMs) break;
      report.cycles = cycle;
      const before = { ...report.acknowledged };
      const { killedDuring, victim, interrupted, killedAt } = await workloadAndKill();
      clients[victim]?.destroy();
      clients[victim] = undefined;
      if (pgMode) await afterGatewayKill(victim, interrupted, killedAt);
      else {
        await checkStopped();
        await fleet.start(0);
        reconnect(0);
        const tmp = filesUnder(path.join(dataDir, 'tmp'));
        if (tmp.length > 0) fail('tmpFilesLeft', `after start-up: tmp/ holds ${tmp.length} files`, tmp.length);
        await checkRunning(clients[0]!);
      }
      const acked = report.acknowledged.total - before.total;
      log(`cycle ${cycle}/${opts.cycles}: killed${killedDuring}; ${acked} writes acknowledged; totals: lost ${report.lost}, corrupt ${report.corrupt}, orphans ${report.orphanChunks}, tmp ${report.tmpFilesLeft}; GC runs ${report.gcRuns} (median ${median(gcMs)} ms)`);
    }
    if (enc) checkNoPlaintext();
    // The control: without encryption the same scan must find the shared blobs in clear.
    else if (process.env.CRASH_PLAINTEXT_CONTROL) log(`plaintext control (no encryption): ${plaintextFound(dataDir, needlesOf(blobs, MiB)).length} of ${needlesOf(blobs, MiB).length} blob slices found in the data dir`);
  } finally {
    for (const c of clients) c?.destroy();
    await fleet.stopAll();
    await meta?.close();
    report.durationMs = Date.now() - started;
    if (!opts.keep) fs.rmSync(dataDir, { recursive: true, force: true });
    if (enc) fs.rmSync(`${dataDir}-keys`, { recursive: true, force: true });
  }
  return report;

  function client(url: string): S3Client {
    return new S3Client({
      endpoint: url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      requestHandler: { requestTimeout: 60_000, connectionTimeout: 10_000, ...(enc?.ca ? { httpsAgent: new https.Agent({ ca: enc.ca, keepAlive: true }) } : {}) },
    });
  }

  /** The data dir at the end (server stopped or not): none of the written slices, nor the shared blobs, in clear. */
  function checkNoPlaintext(): void {
    const needles = [...needlesOf(blobs, MiB), ...written];
    const found = plaintextFound(dataDir, needles);
    report.encryption!.needles = needles.length;
    report.encryption!.plaintextFound = found.length;
    if (found.length > 0) fail('plaintext', `plaintext in the data dir: ${found.slice(0, 5).join('; ')}`, 0);
  }

  // The workload's closure shares the campaign's model and counters; its parts are the S3 operations.
  // It is long because each operation's acknowledged / in-flight bookkeeping sits beside its request.
  async function workloadAndKill(): Promise<{ killedDuring: string; victim: number; interrupted: Cut[]; killedAt: number }> {
    let killed = false;
    /** The gateway the kill takes down (chosen at the kill; the only one on SQLite). */
    let victim = -1;
    versioned.killed = false;
    const cycleStart = new Date();
    const inFlight = new Map<number, { name: string; g: number }>();
    let opId = 0;
    const activeUploads = new Set<string>();
    /** Uploads between their parts, by gateway: the kill prefers to cut one. */
    const uploading = new Map<string, number>();
    const interrupted: Cut[] = [];
    const adminUrls = fleet.servers.map((s) => s!.adminUrl);
    const down = (g: number) => killed && (victim === -1 || victim === g);
    /** An error while its gateway is still up is a finding, unless the request was meant to be refused. */
    const unexpected = (g: number, err: unknown, what: string, allowed: string[] = []) => {
      if (down(g) || allowed.includes((err as { name?: string }).name ?? '')) return;
      fail('unexpectedErrors', `${what}${n > 1 ? ` (gateway ${g})` : ''}: ${(err as Error).name}: ${(err as Error).message}`);
    };

    /** Locks up to a few free keys, or returns undefined when all tries were busy. */
    const lock = (count: number): string[] | undefined => {
      const got: string[] = [];
      for (let tries = 0; tries < 8 && got.length < count; tries++) {
        const k = pick(keys);
        const m = model.get(k)!;
        if (!m.busy && !got.includes(k)) got.push(k);
      }
      if (got.length < count) return undefined;
      for (const k of got) model.get(k)!.busy = true;
      return got;
    };
    const unlock = (ks: string[]) => ks.forEach((k) => (model.get(k)!.busy = false));

    async function keyed(name: string, g: number, count: number, fn: (ks: string[], s3: S3Client) => Promise<void>) {
      const ks = lock(count);
      if (!ks) return new Promise((r) => setTimeout(r, 2));
      const id = ++opId;
      inFlight.set(id, { name: `${name} ${ks.join(',')}`, g });
      try {
        await fn(ks, clients[g]!);
      } finally {
        inFlight.delete(id);
        unlock(ks);
      }
    }

    const put = (g: number) =>
      keyed('put', g, 1, async ([k], s3) => {
        const b = body();
        const s: State = { sha: sha256(b), size: b.length, etag: `"${md5(b)}"` };
        if (enc && b.length >= 64 && written.length < 256) written.push(b.subarray(8, 56));
        try {
          const res = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: b, ...sseC }));
          // An SSE-C object's ETag is not the MD5 of its bytes (src/storage/encryption.ts).
          if (enc?.customer) s.etag = res.ETag!;
          else if (res.ETag !== s.etag) fail('corrupt', `PUT ${k} answered ETag ${res.ETag}, expected ${s.etag}`);
          ack(k, s, 'put');
        } catch (err) {
          unexpected(g, err, `PUT ${k}`);
          if (!refused(err)) maybe(k, s);
        }
      });

    const multipart = (g: number) =>
      keyed('multipart', g, 1, async ([k], s3) => {
        let uploadId: string | undefined;
        let completing = false;
        const count = rand(1, 3);
        const parts: Buffer[] = [];
        for (let i = 0; i < count; i++) parts.push(i < count - 1 ? part5MiB() : body());
        const whole = Buffer.concat(parts);
        const s: State = { sha: sha256(whole), size: whole.length, etag: '' };
        const done: Array<{ PartNumber: number; ETag: string }> = [];
        // Cut on the killed gateway: the checks complete it through a surviving one.
        const cut = () => {
          if (uploadId && killed && g === victim) interrupted.push({ key: k, uploadId, parts, done: [...done], completing, sha: s.sha, size: s.size });
        };
        try {
          uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: k, ...sseC }))).UploadId!;
          activeUploads.add(uploadId);
          uploading.set(uploadId, g);
          for (const [i, p] of parts.entries()) {
            if (killed) return cut();
            const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: k, UploadId: uploadId, PartNumber: i + 1, Body: p, ...sseC }));
            done.push({ PartNumber: i + 1, ETag: r.ETag! });
          }
          completing = true;
          uploading.delete(uploadId);
          const res = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: k, UploadId: uploadId, MultipartUpload: { Parts: done } }));
          ack(k, { ...s, etag: res.ETag! }, 'multipart');
        } catch (err) {
          unexpected(g, err, `multipart ${k}`);
          // Only a Complete whose answer was lost may have created the object.
          if (completing && !refused(err)) maybe(k, s);
          if (!refused(err)) cut();
        } finally {
          if (uploadId) {
            activeUploads.delete(uploadId);
            uploading.delete(uploadId);
          }
        }
      });

    const copy = (g: number) =>
      keyed('copy', g, 2, async ([src, dst], s3) => {
        const sources = model.get(src)!.states.filter((x): x is NonNullable<State> => x !== null);
        try {
          const res = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: dst, CopySource: `${BUCKET}/${src}`, ...sseC, ...(enc?.copySource ?? {}) }));
          const etag = res.CopyObjectResult?.ETag;
          // SSE-C: the copy is sealed anew (its ETag is its own); with one possible source state, that one.
          const s = enc?.customer ? (sources.length === 1 ? { ...sources[0]!, etag: etag! } : undefined) : sources.find((x) => x.etag === etag);
          if (!s && enc?.customer) {
            for (const x of sources) maybe(dst, x);
            return;
          }
          if (!s) {
            fail('corrupt', `CopyObject ${src} -> ${dst} answered ETag ${etag}, none of the source's (${sources.map((x) => x.etag).join(' ')})`);
            model.get(dst)!.states.push(...sources);
            return;
          }
          ack(dst, s, 'copy');
        } catch (err) {
          unexpected(g, err, `CopyObject ${src} -> ${dst}`, sources.length === 0 ? ['NoSuchKey'] : []);
          if (!refused(err)) for (const s of sources) maybe(dst, s);
        }
      });

    const del = (g: number) =>
      keyed('delete', g, 1, async ([k], s3) => {
        try {
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: k }));
          ack(k, null, 'delete');
        } catch (err) {
          unexpected(g, err, `DELETE ${k}`);
          if (!refused(err)) maybe(k, null);
        }
      });

    const delMany = (g: number) =>
      keyed('delete-objects', g, rand(2, 3), async (ks, s3) => {
        try {
          const res = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: ks.map((Key) => ({ Key })) } }));
          for (const d of res.Deleted ?? []) ack(d.Key!, null, 'delete');
          for (const e of res.Errors ?? []) fail('unexpectedErrors', `DeleteObjects: ${e.Key}: ${e.Code}`);
        } catch (err) {
          unexpected(g, err, `DeleteObjects ${ks.join(',')}`);
          if (!refused(err)) for (const k of ks) maybe(k, null);
        }
      });

    const gc = async (g: number) => {
      const id = ++opId;
      inFlight.set(id, { name: 'gc', g });
      report.gcRequests++;
      const t0 = Date.now();
      try {
        const res = enc?.ca
          ? await postTls(`${adminUrls[g]}/v1/gc`, ADMIN_TOKEN, enc.ca)
          : await fetch(`${adminUrls[g]}/v1/gc`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        const text = typeof res.text === 'string' ? res.text : await res.text();
        if (process.env.CRASH_DEBUG) log(`  gc ${res.status} after ${Date.now() - t0} ms: ${text.slice(0, 160)}`);
        if (res.ok) {
          report.gcRuns++;
          const r = JSON.parse(text) as { orphanChunks: number; durationMs: number };
          gcMs.push(r.durationMs);
        } else if (res.status !== 409 && !down(g)) fail('unexpectedErrors', `POST /v1/gc: ${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        if (!down(g)) fail('unexpectedErrors', `POST /v1/gc (gateway ${g}): ${(err as Error).message}`);
      } finally {
        inFlight.delete(id);
      }
    };

    const abortStale = async (g: number) => {
      try {
        const list = await clients[g]!.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
        // Uploads left by the previous cycles' kills (one started in this cycle may be in use; the
        // listing's Initiated has whole seconds, hence the margin).
        const stale = (list.Uploads ?? []).find((u) => u.Initiated!.getTime() < cycleStart.getTime() - 2000 && !activeUploads.has(u.UploadId!));
        if (!stale) return;
        await clients[g]!.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: stale.Key!, UploadId: stale.UploadId! }));
        report.aborts++;
      } catch {
        // killed meanwhile, or another worker aborted it first
      }
    };

    const track = (g: number) => (name: string) => {
      const id = ++opId;
      inFlight.set(id, { name, g });
      return () => inFlight.delete(id);
    };
    const worker = async () => {
      while (!killed) {
        // Each operation through any gateway: one key's writes and reads cross gateways.
        const g = rand(0, n - 1);
        // Without the plain bucket, every operation goes to the versioned ones.
        if (versioned.active && (!kinds.includes('plain') || rng() < 0.35)) {
          await versioned.op(clients[g]!, track(g));
          continue;
        }
        const r = rng();
        if (r < 0.42) await put(g);
        else if (r < 0.52) await multipart(g);
        else if (r < 0.68) await copy(g);
        else if (r < 0.82) await del(g);
        else if (r < 0.88) await delMany(g);
        else if (r < 0.94) await gc(g);
        else await abortStale(g);
      }
    };

    // Every cycle starts with a GC (grace 0) while the workers begin: it meets the last kill's
    // leftovers (orphan chunks, stale uploads' parts) and uploads of the same bytes in flight.
    const running = [gc(rand(0, n - 1)), ...Array.from({ length: workers }, () => worker())];
    // A quarter of the kills land just after a GC run starts, to catch GC halfway.
    const gcKill = rng() < 0.25;
    // Most kills early, some later (long multipart uploads finish, GC runs complete).
    const delay = rng() < 0.75 ? rand(killMin, killMax) : rand(killMax, 3 * killMax);
    await new Promise((r) => setTimeout(r, delay));
    // Several gateways: the first kill and half the others wait (a while) for an upload between
    // its parts, and mostly take down the gateway it runs on.
    if (n > 1 && (report.cycles === 1 || rng() < 0.5)) {
      const until = Date.now() + (report.cycles === 1 ? 15_000 : 3 * killMax);
      while (uploading.size === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    }
    const cutting = [...uploading.values()];
    const chosen = n === 1 ? 0 : cutting.length > 0 && (report.cycles === 1 || rng() < 0.7) ? pick(cutting) : rand(0, n - 1);
    if (gcKill) {
      void gc(chosen);
      await new Promise((r) => setTimeout(r, rand(0, 20)));
    }
    const during = [...new Set([...inFlight.values()].filter((o) => o.g === chosen).map((o) => o.name.split(' ')[0]))].sort().join('+') || 'idle';
    victim = chosen;
    killed = true;
    versioned.killed = true;
    const killedAt = Date.now();
    await fleet.kill(victim);
    await Promise.all(running);
    const where = n > 1 ? ` gateway ${victim}${cutting.length ? ` (uploads between parts on ${cutting.join(',')})` : ''}` : '';
    return { killedDuring: `${where} ${delay} ms in${gcKill ? ' (just after a GC started)' : ''}, during ${during}`, victim, interrupted, killedAt };
  }

  async function checkStopped(): Promise<void> {
    const verify = await runCli(['verify', '--data-dir', dataDir, '--json', '--no-quarantine', '--no-progress']);
    let broken: unknown[] = [];
    try {
      broken = (JSON.parse(verify.stdout) as { broken: unknown[] }).broken;
    } catch {
      broken = [`unparsable output: ${verify.stdout.slice(0, 200)} ${verify.stderr.slice(0, 500)}`];
    }
    if (verify.code !== 0 || broken.length > 0) fail('verifyFailures', `cairn verify exited ${verify.code}: ${JSON.stringify(broken).slice(0, 1000)}`);
    const gc = await runCli(['gc', '--data-dir', dataDir, '--grace', '0', '--json', '--no-progress']);
    try {
      if (gc.code !== 0) throw new Error(`exit ${gc.code}`);
      report.orphansCollected += (JSON.parse(gc.stdout) as { orphanChunks: number }).orphanChunks;
    } catch (e) {
      fail('unexpectedErrors', `cairn gc --grace 0: ${(e as Error).message}: ${gc.stderr.slice(0, 500)}`);
    }

    const tmp = filesUnder(path.join(dataDir, 'tmp'));
    if (tmp.length > 0) fail('tmpFilesLeft', `after cairn gc --grace 0: tmp/ holds ${tmp.join(', ')}`, tmp.length);

    const db = new Database(path.join(dataDir, 'cairn.db'));
    try {
      const integrity = db.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok') fail('dbIntegrityFailures', `integrity_check: ${String(integrity)}`);
      const fk = db.pragma('foreign_key_check') as unknown[];
      if (fk.length > 0) fail('dbIntegrityFailures', `foreign_key_check: ${JSON.stringify(fk).slice(0, 500)}`);
      const rows = new Set((db.prepare('SELECT hash FROM chunks').pluck().all() as string[]));
      const bad = db
        .prepare(
          `SELECT c.hash, c.refcount,
             (SELECT count(*) FROM object_chunks o WHERE o.chunk_hash = c.hash) + (SELECT count(*) FROM part_chunks p WHERE p.chunk_hash = c.hash) AS refs
           FROM chunks c WHERE c.refcount != refs`,
        )
        .all() as Array<{ hash: string; refcount: number; refs: number }>;
      if (bad.length > 0) fail('refcountMismatches', bad.slice(0, 5).map((b) => `${b.hash.slice(0, 12)} refcount ${b.refcount} refs ${b.refs}`).join('; '), bad.length);
      const dangling = db.prepare('SELECT count(*) FROM (SELECT chunk_hash FROM object_chunks UNION SELECT chunk_hash FROM part_chunks) WHERE chunk_hash NOT IN (SELECT hash FROM chunks)').pluck().get() as number;
      if (dangling > 0) fail('refcountMismatches', `${dangling} chunk references without a chunk row`, dangling);
      for (const entry of fs.readdirSync(path.join(dataDir, 'chunks'), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        if (ASIDE_RE.test(entry.name)) {
          // A GC killed mid-decision moved it aside; `gc --grace 0` must have put it back.
          report.gcAsides++;
          fail('orphanChunks', `${entry.name.slice(0, 12)}...${entry.name.slice(64)} left moved aside after cairn gc --grace 0`);
          continue;
        }
        if (!HASH_RE.test(entry.name) || !rows.has(entry.name)) fail('orphanChunks', `chunks/${path.relative(path.join(dataDir, 'chunks'), path.join(entry.parentPath, entry.name))} has no chunk row`);
      }
    } finally {
      db.close();
    }
    if (enc) {
      const { clear, checked } = unsealedChunks(dataDir);
      report.encryption!.chunksChecked += checked;
      report.encryption!.unsealedChunks += clear.length;
      if (clear.length > 0) fail('plaintext', `stored in clear: ${clear.slice(0, 5).join(', ')}`, 0);
    }
  }

  async function checkRunning(s3: S3Client): Promise<void> {
    const present = new Set<string>();
    for (const k of keys) {
      const m = model.get(k)!;
      let got: State;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: k, ...sseC }));
        const b = Buffer.from(await res.Body!.transformToByteArray());
        got = { sha: sha256(b), size: b.length, etag: res.ETag! };
        present.add(k);
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') got = null;
        else {
          fail('corrupt', `GET ${k}: ${(err as Error).message}`);
          continue;
        }
      }
      const exact = m.states.length === 1;
      const at = m.states.findIndex((s) => same(s, got));
      const match = at >= 0;
      if (exact && m.fromAck) {
        report.acknowledgedChecks++;
        if (match && got !== null) report.acknowledgedObjectsVerified++;
      }
      if (!match) {
        const expected = m.states.map((s) => (s ? `${s.sha.slice(0, 12)} (${s.size} B)` : 'absent')).join(' or ');
        const seen = got ? `${got.sha.slice(0, 12)} (${got.size} B)` : 'absent';
        if (got === null) fail('lost', `${k}: expected ${expected}, found absent`);
        else if (m.states.every((s) => s === null)) fail('resurrected', `${k}: deleted, found ${seen}`);
        else fail('corrupt', `${k}: expected ${expected}, found ${seen}`);
      } else if (!exact) {
        // The last state added is the write in flight at the kill.
        if (at === m.states.length - 1) report.inFlight.applied++;
        else report.inFlight.notApplied++;
      }
      // What is there now has survived a crash: the next cycles hold the server to it.
      if (!exact || !match) m.fromAck = false;
      m.states = [got];
    }
    const listed = new Set<string>();
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      for (const o of page.Contents ?? []) listed.add(o.Key!);
      token = page.NextContinuationToken;
    } while (token);
    const diff = [...new Set([...listed, ...present])].filter((k) => listed.has(k) !== present.has(k));
    if (diff.length > 0) fail('corrupt', `listing disagrees with GETs on ${diff.join(', ')}`);
    await versioned.check(s3);
  }

  /**
   * PostgreSQL, one gateway killed: from a survivor, every key against the model and the
   * interrupted uploads completed there; then the killed one restarts (temp folders), and with
   * every gateway idle: GC, verify and the SQL audit (bench/crash-gateways.ts).
   */
  async function afterGatewayKill(victim: number, interrupted: Cut[], killedAt: number): Promise<void> {
    const g = report.gateways!;
    g.kills[victim]++;
    if (interrupted.some((u) => !u.completing)) g.killsDuringMultipart++;
    const survivors = fleet.ids.map((_, i) => i).filter((i) => i !== victim);
    await checkRunning(clients[pick(survivors)]!);
    for (const u of interrupted) await resumeInterrupted(u, survivors);
    await restartChecked(fleet, victim, dataDir, fail);
    reconnect(victim);
    report.orphansCollected += await checkShared({ fleet, dataDir, url: meta!.url, collector: pick(survivors), claimsLapseAt: killedAt + CLAIM_TTL_MS + 500, fail, report: g });
  }

  /** Completes through one survivor an upload the kill cut, and reads the object back through another (if any). */
  async function resumeInterrupted(u: Cut, survivors: number[]): Promise<void> {
    const g = report.gateways!;
    const via = pick(survivors);
    const reader = survivors.find((i) => i !== via) ?? via;
    try {
      const r = await resumeUpload(clients[via]!, BUCKET, u, sseC);
      if (r === 'already-done') {
        g.completesRetried.alreadyDone++;
        return;
      }
      if (u.completing) g.completesRetried.completed++;
      else g.uploadsResumed++;
      ack(u.key, { sha: u.sha, size: u.size, etag: r.etag }, 'multipart');
      const res = await clients[reader]!.send(new GetObjectCommand({ Bucket: BUCKET, Key: u.key, ...sseC }));
      const b = Buffer.from(await res.Body!.transformToByteArray());
      if (sha256(b) !== u.sha || res.ETag !== r.etag) fail('corrupt', `${u.key}: completed through gateway ${via}, gateway ${reader} reads ${b.length} B ${sha256(b).slice(0, 12)} ${res.ETag}, expected ${u.size} B ${u.sha.slice(0, 12)} ${r.etag}`);
    } catch (err) {
      fail('resumeFailures', `upload ${u.uploadId} of ${u.key} (${u.done.length}/${u.parts.length} parts answered${u.completing ? ', Complete in flight' : ''}) through gateway ${via}: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

function formatReport(r: CampaignReport): string {
  const a = r.acknowledged;
  return [
    `cycles run: ${r.cycles} (seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s)`,
    `writes acknowledged: ${a.total} (put ${a.put}, multipart ${a.multipart}, copy ${a.copy}, delete ${a.delete}); aborts ${r.aborts}; admin GC runs finished ${r.gcRuns} of ${r.gcRequests} asked`,
    `acknowledged states checked after restarts: ${r.acknowledgedChecks} (objects read back and hashed: ${r.acknowledgedObjectsVerified}; the rest acknowledged deletes)`,
    `writes in flight at a kill: ${r.inFlight.applied} found applied (whole), ${r.inFlight.notApplied} not applied`,
    `lost: ${r.lost}, corrupt: ${r.corrupt}, resurrected deletes: ${r.resurrected}, verify failures: ${r.verifyFailures}`,
    `orphan chunk files after gc: ${r.orphanChunks}, tmp files left: ${r.tmpFilesLeft}, refcount mismatches: ${r.refcountMismatches}, DB integrity failures: ${r.dbIntegrityFailures}, unexpected errors: ${r.unexpectedErrors}`,
    `orphans collected by cairn gc after kills: ${r.orphansCollected}; files a killed GC left moved aside, after gc: ${r.gcAsides}`,
    ...(r.encryption
      ? [`encryption ${r.encryption.mode}: chunks stored in clear after the kills: ${r.encryption.unsealedChunks} (chunk-file checks: ${r.encryption.chunksChecked}); known plaintext slices found in the data dir at the end: ${r.encryption.plaintextFound} of ${r.encryption.needles} looked for`]
      : []),
    ...formatVersionsReport(r.versions),
    ...(r.gateways ? formatGatewaysReport(r.gateways) : []),
    ...(r.failures.length ? ['failures:', ...r.failures.map((f) => `  ${f}`)] : []),
  ].join('\n');
}

export function campaignClean(r: CampaignReport): boolean {
  return r.failures.length === 0 && r.lost + r.corrupt + r.resurrected + r.verifyFailures + r.orphanChunks + r.tmpFilesLeft + r.refcountMismatches + r.dbIntegrityFailures + r.unexpectedErrors + r.versions.lockViolations === 0 &&
    (r.encryption === undefined || r.encryption.unsealedChunks + r.encryption.plaintextFound === 0) &&
    (r.gateways === undefined || r.gateways.resumeFailures + r.gateways.liveTmpRemoved + r.gateways.missingChunks + r.gateways.gcFailures === 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const cycles = Number(arg('cycles') ?? 200);
  const seed = arg('seed') === undefined ? undefined : Number(arg('seed'));
  const kill = arg('kill-after')?.split('-').map(Number) as [number, number] | undefined;
  const buckets = arg('buckets')?.split(',') as BucketKind[] | undefined;
  if (buckets?.some((b) => !BUCKET_KINDS.includes(b))) throw new Error(`--buckets: expected a comma-separated list of ${BUCKET_KINDS.join(', ')}`);
  const encryption = arg('encryption') as CrashEncryption | undefined;
  if (encryption !== undefined && !CRASH_ENCRYPTIONS.includes(encryption)) throw new Error(`--encryption: expected one of ${CRASH_ENCRYPTIONS.join(', ')}`);
  const metadata = arg('metadata') as CrashMetadata | undefined;
  if (metadata !== undefined && !CRASH_METADATA.includes(metadata)) throw new Error(`--metadata: expected one of ${CRASH_METADATA.join(', ')}`);
  const gateways = arg('gateways') === undefined ? undefined : Number(arg('gateways'));
  if (gateways !== undefined && !(gateways >= 2 && gateways <= 8)) throw new Error('--gateways: 2 to 8 (with --metadata postgres)');
  const budgetMs = arg('budget') === undefined ? undefined : Number(arg('budget')) * 1000;
  const report = await runCampaign({ cycles, seed, killAfterMs: kill, buckets, encryption, metadata, gateways, metadataUrl: arg('metadata-url'), budgetMs, keep: process.argv.includes('--keep'), log: (l) => console.log(l) });
  console.log(`\n${formatReport(report)}`);
  console.log(`\n${JSON.stringify(report)}`);
  process.exitCode = campaignClean(report) ? 0 : 1;
}

export { formatReport };
