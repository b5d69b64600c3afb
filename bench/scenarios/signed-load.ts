// SigV4-signed S3 request load from wrk, shared by the `small` and `responsive` scenarios. wrk
// (C, one thread) runs bench/scenarios/wrk-sigv4.lua, which signs every request as it is sent,
// as an SDK does, hashing with OpenSSL through LuaJIT's FFI. It replaced autocannon: on these two
// cores the generator shares the CPU with the server under test, and autocannon spent ~90 µs of
// CPU per request (64% of a core at 7,000 GET/s) where wrk spends ~30, so the faster a server
// was, the more CPU the generator took from it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type ObjectCannedACL } from '@aws-sdk/client-s3';
import { targetClient, type Target } from '../harness.js';
import { ROOT } from '../lib.js';

export const BUCKET = 'bench';
const REGION = 'us-east-1';
const SCRIPT = path.join(ROOT, 'bench/scenarios/wrk-sigv4.lua');
// One wrk thread drives 50,000 requests/s of Node's bare HTTP server here; a second would only
// take CPU from the server.
const THREADS = 1;

/** Puts `count` objects of `size` random bytes at keys made by `key(i)`, `concurrency` at a time, with canned ACL `acl` if given. */
export async function seedObjects(
  target: Target,
  count: number,
  size: number,
  key: (i: number) => string,
  concurrency = 16,
  acl?: ObjectCannedACL,
  /** More PutObject parameters (SSE-C's customer key). */
  params: Record<string, string> = {},
): Promise<void> {
  const s3 = targetClient(target, { maxSockets: concurrency });
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(i), Body: randomBytes(size), ACL: acl, ...params }));
        }
      }),
    );
  } finally {
    s3.destroy();
  }
}

/**
 * What each request is: GETs of `prefix + n`, or PUTs of `size`-byte bodies to `prefix + n`, n
 * walking 0..keys-1 over and over. PUT bodies never repeat (a random base per run with the
 * counter written into it): cairn stores chunks by content and skips writing one it already
 * has, so one fixed body would measure its dedup path instead of a durable write.
 */
export interface LoadSpec {
  method: 'GET' | 'PUT';
  prefix: string;
  keys: number;
  size?: number;
  /** A canned ACL sent as x-amz-acl (signed) with every request. */
  acl?: string;
  /** GETs sent unsigned, as an anonymous reader's. */
  anonymous?: boolean;
  /** More x-amz-* headers (lower-case names), sent and signed with every request: SSE-C's. */
  headers?: Record<string, string>;
}

export interface LoadOptions {
  connections: number;
  /** Load that is run but not counted (connections, JIT, server warm-up). */
  warmupSeconds: number;
  /** The longest counted window after the warm-up. */
  seconds: number;
  request: LoadSpec;
  /** Ends the counted window (and the load) early when it settles. */
  until?: Promise<unknown>;
}

export interface LoadFigures {
  /** 2xx responses per second within the counted window. */
  ops: number;
  /** Latency percentiles in ms of the responses within the window. */
  p50: number;
  p99: number;
  responses: number;
  /** Length of the counted window; shorter than asked if `until` settled first. */
  seconds: number;
  shortened: boolean;
  /** CPU used during the window, in cores (1 = one core busy all the time). */
  generatorCpu: number;
  serverCpu: number;
}

/** User+system CPU seconds of a process (all its threads), from /proc. */
function procCpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}


/** wrk-sigv4.lua's done() line. */
interface WrkReport {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
}

/** Fails at once, with what to do, where wrk is missing (rather than after the seeding). */
export function requireWrk(): void {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error) throw new Error(`wrk, the load generator of the small and responsive scenarios, is not installed (apt-get install wrk): ${r.error.message}`);
}

interface WrkRun {
  report: WrkReport;
  shortened: boolean;
  generatorCpu: number;
  serverCpu: number;
}

function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/**
 * One wrk run, ended with SIGINT after `seconds` or when `until` settles, whichever is first
 * (wrk stops its threads on SIGINT and reports what it has; requests then in flight are not
 * counted). Any connection error, timeout or non-2xx answer fails it: a benchmark that counts
 * errors as fast answers proves nothing.
 */
async function runWrk(target: Target, connections: number, seconds: number, spec: LoadSpec, until?: Promise<unknown>): Promise<WrkRun> {
  // The script signs the path as it is: a key that needed URI encoding would fail every request.
  if (!/^[A-Za-z0-9._~/-]*$/.test(spec.prefix)) throw new Error(`wrk load: key prefix ${JSON.stringify(spec.prefix)} needs URI encoding, which wrk-sigv4.lua does not do`);
  const child = spawn('wrk', ['-t', String(THREADS), '-c', String(connections), '-d', `${Math.ceil(seconds) + 60}s`, '--timeout', '30s', '-s', SCRIPT, `${target.url}/`], {
    env: {
      ...process.env,
      CAIRN_WRK_METHOD: spec.method,
      CAIRN_WRK_BUCKET: BUCKET,
      CAIRN_WRK_PREFIX: spec.prefix,
      CAIRN_WRK_KEYS: String(spec.keys),
      CAIRN_WRK_SIZE: String(spec.size ?? 0),
      CAIRN_WRK_THREADS: String(THREADS),
      CAIRN_WRK_ACCESS_KEY: target.credentials.accessKeyId,
      CAIRN_WRK_SECRET: target.credentials.secretAccessKey,
      CAIRN_WRK_REGION: REGION,
      CAIRN_WRK_ACL: spec.acl ?? '',
      CAIRN_WRK_ANONYMOUS: spec.anonymous ? '1' : '',
      CAIRN_WRK_HEADERS: Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}:${v}`).join('\n'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = waitExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const cpuStart = { gen: procCpuSeconds(child.pid!), srv: procCpuSeconds(target.pid) };
  let cpuEnd = cpuStart;
  let stopped = false;
  let shortened = false;
  let backstop: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    cpuEnd = { gen: procCpuSeconds(child.pid!), srv: procCpuSeconds(target.pid) };
    child.kill('SIGINT');
    // wrk exits within a moment of SIGINT; one that does not is a hung generator, not a figure.
    backstop = setTimeout(() => child.kill('SIGKILL'), 30_000);
  };
  const timer = setTimeout(stop, seconds * 1000);
  void until?.then(
    () => {
      if (!stopped) shortened = true;
      stop();
    },
    () => stop(),
  );
  let code: number | null;
  try {
    code = await exited;
  } finally {
    clearTimeout(timer);
    clearTimeout(backstop);
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`${target.kind}: wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  const report = JSON.parse(line) as WrkReport;
  const errors = report.connect + report.read + report.write + report.status + report.timeout;
  if (errors > 0) {
    throw new Error(
      `${target.kind}: ${spec.method} load had errors: ${report.status} non-2xx, ${report.timeout} timeouts, ` +
        `${report.connect} connect / ${report.read} read / ${report.write} write errors, in ${report.requests} requests`,
    );
  }
  const window = report.durationUs / 1e6;
  return { report, shortened, generatorCpu: (cpuEnd.gen - cpuStart.gen) / window, serverCpu: (cpuEnd.srv - cpuStart.srv) / window };
}

/**
 * Runs signed requests against `target`: a warm-up run that is not counted (connections, JIT,
 * server caches), then the counted run. Figures are wrk's own: its request count over its own
 * clock, and latency percentiles from its histogram (µs resolution).
 */
export async function signedLoad(target: Target, opts: LoadOptions): Promise<LoadFigures> {
  let settled = false;
  void opts.until?.then(
    () => (settled = true),
    () => (settled = true),
  );
  if (opts.warmupSeconds > 0) await runWrk(target, opts.connections, opts.warmupSeconds, opts.request, opts.until);
  // The outside event came during the warm-up: nothing was counted.
  if (settled) return { ops: NaN, p50: NaN, p99: NaN, responses: 0, seconds: 0, shortened: true, generatorCpu: NaN, serverCpu: NaN };
  const run = await runWrk(target, opts.connections, opts.seconds, opts.request, opts.until);
  const seconds = run.report.durationUs / 1e6;
  return {
    ops: run.report.requests / seconds,
    p50: run.report.p50Us / 1000,
    p99: run.report.p99Us / 1000,
    responses: run.report.requests,
    seconds,
    shortened: run.shortened,
    generatorCpu: run.generatorCpu,
    serverCpu: run.serverCpu,
  };
}

/** GETs over `keys` seeded objects named `prefix + n`. */
export function rotatingGets(keys: number, prefix: string): LoadSpec {
  return { method: 'GET', prefix, keys };
}

/** PUTs of never-repeating `size`-byte bodies over `keys` keys named `prefix + n`. */
export function rotatingPuts(keys: number, size: number, prefix: string): LoadSpec {
  return { method: 'PUT', prefix, keys, size };
}
