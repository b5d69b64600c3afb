// What every scenario of `npm run bench` shares: the servers under test (cairn, s3rver and the
// two ceilings, each in its own process on loopback), figures (median/min/max), RSS sampling
// and the result files (bench/results/<scenario>.md and .svg).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { BENCH_KEY, BENCH_SECRET, ROOT, freePort, machine, startCairn } from './lib.js';

export type TargetKind = 'cairn' | 's3rver' | 'md5-ceiling' | 'file-ceiling' | 'http-floor';

export interface Target {
  kind: TargetKind;
  url: string;
  pid: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** cairn only: the data directory (for chunk and db sizes) and the admin listener. */
  dataDir?: string;
  adminUrl?: string;
  adminToken?: string;
  /** Over https: the PEM certificate to trust (self-signed, its own CA). */
  ca?: string;
  stop(): Promise<void>;
}

export interface ScenarioContext {
  /** Tiny sizes and one round: what `npm test` runs so no scenario rots. */
  smoke: boolean;
  /** Where the .md/.svg go (bench/results, or a temp dir for smoke runs). */
  outDir: string;
  log(msg: string): void;
}

export interface TargetCheck {
  what: string;
  /** The measured ratio and the one it must reach (>= unless `atMost`). */
  ratio: number;
  goal: number;
  atMost?: boolean;
}

export interface ScenarioResult {
  /** Markdown body after the common heading (tables, notes). */
  markdown: string;
  svg?: string;
  targets?: TargetCheck[];
}

export interface Scenario {
  name: string;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export const met = (t: TargetCheck) => (t.atMost ? t.ratio <= t.goal : t.ratio >= t.goal);

/** Spawns `node --import tsx <script> ...args` and resolves once it prints "ready". */
async function spawnReady(script: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 30 s`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
  child.stdout!.resume();
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts one server under test. cairn runs `dist/cli.js serve` with its defaults (fsync
 * durability) unless `env` says otherwise; the bucket "bench" exists on every target.
 * `file` is what the file ceiling serves.
 */
export async function startTarget(kind: TargetKind, opts: { env?: Record<string, string>; file?: string } = {}): Promise<Target> {
  if (kind === 'cairn') {
    const cairn = await startCairn(opts.env);
    const target: Target = {
      kind,
      url: cairn.url,
      pid: cairn.child.pid!,
      credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET },
      dataDir: cairn.dataDir,
      adminUrl: cairn.adminUrl,
      adminToken: cairn.adminToken,
      stop: () => cairn.stop(),
    };
    await createBucket(target, 'bench');
    return target;
  }
  const port = await freePort();
  if (kind === 's3rver') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-bench-'));
    const child = await spawnReady('bench/servers/s3rver.ts', [String(port), dir]);
    return {
      kind,
      url: `http://127.0.0.1:${port}`,
      pid: child.pid!,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      stop: async () => {
        await stopChild(child);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const args = kind === 'md5-ceiling' ? ['md5', String(port)] : kind === 'http-floor' ? ['floor', String(port)] : ['file', String(port), opts.file ?? ''];
  const child = await spawnReady('bench/servers/ceiling.ts', args);
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    credentials: { accessKeyId: 'ceiling', secretAccessKey: 'ceiling' },
    stop: () => stopChild(child),
  };
}

export async function createBucket(target: Target, bucket: string): Promise<void> {
  const s3 = targetClient(target);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou' && (err as { name?: string }).name !== 'BucketAlreadyExists') throw err;
  } finally {
    s3.destroy();
  }
}

/** PutBucketVersioning Enabled (cairn only: s3rver keeps no versions). */
export async function enableVersioning(target: Target, bucket: string): Promise<void> {
  const s3 = targetClient(target);
  try {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  } finally {
    s3.destroy();
  }
}

/**
 * An SDK v3 client for a target. Checksums WHEN_REQUIRED by default so every target (s3rver
 * knows no aws-chunked trailers) gets the same plain signed requests; `sdkDefaults` keeps the
 * SDK's own defaults (CRC32 trailer, aws-chunked) for cairn-only figures.
 */
export function targetClient(target: Target, opts: { sdkDefaults?: boolean; maxSockets?: number } = {}): S3Client {
  return new S3Client({
    endpoint: target.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: target.credentials,
    maxAttempts: 1,
    ...(opts.sdkDefaults ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    ...(opts.maxSockets || target.ca ? { requestHandler: agents(target, opts.maxSockets) } : {}),
  });
}

/** The SDK's agents: a socket cap, and over https trust in the target's certificate. */
function agents(target: Target, maxSockets?: number) {
  const options = { keepAlive: true, ...(maxSockets ? { maxSockets } : {}) };
  return target.ca ? { httpsAgent: new https.Agent({ ...options, ca: fs.readFileSync(target.ca) }) } : { httpAgent: options };
}

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(xs: number[]): Stat {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** "451 (440–620)" with `digits` decimals. */
export function fmtStat(s: Stat, digits = 0): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** VmRSS and VmHWM (peak) of a process, in bytes; undefined once it is gone. */
export function procMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(/^(\w+):\s+(\d+) kB/m.exec(status.split('\n').find((l) => l.startsWith(field + ':')) ?? '')?.[2] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the samples. */
export function sampleRss(pid: number, everyMs = 200): { stop(): { peak: number; samples: number[] } } {
  const samples: number[] = [];
  let peak = 0;
  const take = () => {
    const m = procMemory(pid);
    if (!m) return;
    samples.push(m.rss);
    peak = Math.max(peak, m.rss, m.peak);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      take();
      clearInterval(timer);
      return { peak, samples };
    },
  };
}

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** Writes <outDir>/<name>.md (with the machine, date and commit) and the .svg if any. */
export function writeResult(ctx: ScenarioContext, scenario: Scenario, result: ScenarioResult, command: string): string {
  fs.mkdirSync(ctx.outDir, { recursive: true });
  const lines = [`# ${scenario.title}`, '', `Machine: ${machine()}`, '', `Command: \`${command}\``, ''];
  if (ctx.smoke) lines.push('**Smoke run** (tiny sizes, one round): checks the scenario works, its figures mean nothing.', '');
  if (result.svg) {
    fs.writeFileSync(path.join(ctx.outDir, `${scenario.name}.svg`), result.svg);
    lines.push(`![${scenario.title}](${scenario.name}.svg)`, '');
  }
  lines.push(result.markdown.trim(), '');
  if (result.targets?.length) {
    lines.push('## Targets', '', '| target | measured | goal | |', '|---|---|---|---|');
    for (const t of result.targets) lines.push(`| ${t.what} | ${fmtRatio(t.ratio)} | ${t.atMost ? '≤' : '≥'} ${t.goal}× | ${met(t) ? 'met' : '**missed**'} |`);
    lines.push('');
  }
  const md = lines.join('\n');
  fs.writeFileSync(path.join(ctx.outDir, `${scenario.name}.md`), md);
  return md;
}
