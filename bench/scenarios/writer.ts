// "The seed's table": the bounded chunk writer on its own, in process, no HTTP. One stream of
// random bytes goes through writeChunks with N pool buffers (N also the per-request cap, so N
// chunk writes are in flight: the original Go benchmark's N concurrent chunk writers of one
// stream); we report MB/s and the memory one operation takes, which the design says is
// N x chunk size. Then the N = 6 case in a child process under a 512 MiB memory cap.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MiB, fmtStat, stat, type Scenario } from '../harness.js';
import { ROOT, randomFile } from '../lib.js';
import { barChart } from '../svg.js';
import { createMemoryCap, type MemoryCap } from './writer-cgroup.js';
import { measureWrite, startHashPool, type WriteMeasure } from './writer-op.js';

const CHUNK = 10 * MiB;
const PIECE = MiB;
const WRITERS = [1, 4, 6];
// The table's rows: each N with slices of the source (no allocation per piece), and N = 6 once
// more with every piece copied into a fresh buffer, as a socket hands a request body over: what
// the writer holds on to is then visible in memory, as it is in the server.
const VARIANTS: Array<{ n: number; fresh: boolean }> = [...WRITERS.map((n) => ({ n, fresh: false })), { n: 6, fresh: true }];
const CAP_WRITERS = 6;
const CAP_BYTES = 512 * MiB;
const DURABILITY = 'fsync' as const;

const mb = (bytes: number) => (bytes / MiB).toFixed(1);
const mbps = (m: WriteMeasure) => m.bytes / 1e6 / m.seconds;

function* pieces(data: Buffer, fresh: boolean): Generator<Buffer> {
  for (let at = 0; at < data.length; at += PIECE) yield fresh ? Buffer.from(data.subarray(at, at + PIECE)) : data.subarray(at, at + PIECE);
}

const variantLabel = (v: { n: number; fresh: boolean }) => (v.fresh ? `${v.n}, fresh buffer per piece` : String(v.n));

interface ChildRun {
  label: string;
  results?: WriteMeasure[];
  outcome: string;
  cgroup?: ReturnType<MemoryCap['stats']>;
}

/** Runs writer-child.ts (optionally inside `cap`, or with extra node flags) and collects its JSON line. */
async function runChild(label: string, args: string[], opts: { cap?: MemoryCap; nodeFlags?: string[] } = {}): Promise<ChildRun> {
  // The child's data dirs live here, so a child killed mid-write leaves nothing behind.
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-writer-child-'));
  try {
    return await runChildIn(tmpRoot, label, args, opts);
  } finally {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}

async function runChildIn(tmpRoot: string, label: string, args: string[], opts: { cap?: MemoryCap; nodeFlags?: string[] }): Promise<ChildRun> {
  const node = [process.execPath, ...(opts.nodeFlags ?? []), '--import', 'tsx', path.join(ROOT, 'bench/scenarios/writer-child.ts'), ...args, tmpRoot];
  // The shell joins the group before exec'ing node, so every byte node ever maps is charged to it.
  const [cmd, ...argv] = opts.cap ? ['/bin/sh', '-c', 'echo $$ > "$CAIRN_BENCH_CGROUP_PROCS" && exec "$@"', 'sh', ...node] : node;
  const child = spawn(cmd!, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.cap ? { CAIRN_BENCH_CGROUP_PROCS: path.join(opts.cap.dir, 'cgroup.procs') } : {}) },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  const cgroup = opts.cap?.stats();
  if (code === 0) {
    const line = out.trim().split('\n').at(-1) ?? '';
    return { label, results: JSON.parse(line) as WriteMeasure[], outcome: 'completed', cgroup };
  }
  const why = signal ? `killed by ${signal}${signal === 'SIGKILL' && cgroup?.oomKills ? ' (OOM killer)' : ''}` : `exit ${code}`;
  const tail = err.trim().split('\n').slice(-3).join(' / ').slice(0, 300);
  return { label, outcome: tail ? `${why}: ${tail}` : why, cgroup };
}

const scenario: Scenario = {
  name: 'writer',
  title: "The seed's table: the bounded chunk writer in process",
  async run(ctx) {
    const bytes = (ctx.smoke ? 40 : 1000) * MiB;
    const rounds = ctx.smoke ? 1 : 3;
    // Random bytes (cached in the temp dir between runs) so dedup cannot skip any write; the
    // in-process runs hold them in memory and stream 1 MiB slices (no copy, no disk read).
    const file = randomFile(bytes);
    const data = fs.readFileSync(file);

    const table = new Map<(typeof VARIANTS)[number], WriteMeasure[]>(VARIANTS.map((v) => [v, []]));
    const hashPool = await startHashPool();
    const hashing = hashPool
      ? `${hashPool.threads} hashing worker threads (the server's default), which read the shared pool buffers in place`
      : 'no hashing workers (the server\'s default): MD5 on the event loop, chunk SHA-256 through WebCrypto (a copy per chunk)';
    try {
      // Rounds interleave the writer counts so a noisy moment hurts all of them alike.
      for (let r = 0; r < rounds; r++) {
        for (const v of VARIANTS) {
          const m = await measureWrite({ source: () => Readable.from(pieces(data, v.fresh)), bytes, chunkSize: CHUNK, writers: v.n, durability: DURABILITY, hashPool });
          table.get(v)!.push(m);
          ctx.log(`N=${variantLabel(v)} round ${r + 1}: ${mbps(m).toFixed(0)} MB/s, pool ${mb(m.poolBytes)} MiB, external +${mb(m.externalDelta)} MiB, RSS +${mb(m.rssDelta)} MiB`);
        }
      }
    } finally {
      await hashPool?.close();
    }

    // The capped run: a child process, source read from the file (the child could not hold it
    // in memory under the cap). The same child uncapped first, so the cap is the only difference.
    const childArgs = [file, String(bytes), String(CHUNK), String(CAP_WRITERS), String(rounds), DURABILITY];
    const runs: ChildRun[] = [await runChild('child, no cap', childArgs)];
    const { cap, failures } = createMemoryCap(CAP_BYTES);
    let capNote: string;
    if (cap) {
      try {
        runs.push(await runChild(`child, ${cap.kind} limit ${CAP_BYTES / MiB} MiB`, childArgs, { cap }));
      } finally {
        cap.remove();
      }
      capNote = `The cap is a ${cap.kind} memory group (${cap.dir}) with a ${CAP_BYTES / MiB} MiB limit, created under this process's own group and removed afterwards; the child joins it before node starts.`;
    } else {
      // No cgroup: V8's heap limit is all we can set, and it does not cover Buffers (the chunk
      // buffers live outside the JS heap), so this caps much less than the real thing would.
      runs.push(await runChild(`child, --max-old-space-size=${CAP_BYTES / MiB} (V8 heap only, NOT a memory cap)`, childArgs, { nodeFlags: [`--max-old-space-size=${CAP_BYTES / MiB}`] }));
      capNote = '**No memory cap was possible**: the V8 heap limit below bounds the JS heap only, not the Buffers that hold chunk data.';
    }
    if (failures.length) capNote += `\n\nWhat did not work: ${failures.map((f) => `${f}.`).join(' ')} (\`systemd-run --scope -p MemoryMax=\` needs systemd as PID 1, which this machine does not run.)`;
    for (const run of runs) ctx.log(`${run.label}: ${run.outcome}${run.results ? `, ${run.results.map((m) => mbps(m).toFixed(0)).join('/')} MB/s` : ''}`);

    const rows = VARIANTS.map((v) => {
      const ms = table.get(v)!;
      const nChunk = v.n * CHUNK;
      const worst = (f: (m: WriteMeasure) => number) => Math.max(...ms.map(f));
      return `| ${variantLabel(v)} | ${fmtStat(stat(ms.map(mbps)))} | ${mb(worst((m) => m.poolBytes))} | ${mb(nChunk)} | ${mb(worst((m) => m.arrayBuffersDelta))} | ${mb(worst((m) => m.externalDelta))} | ${mb(worst((m) => m.rssDelta))} | ${(worst((m) => m.rssDelta) / nChunk).toFixed(2)} |`;
    });
    const fmtGroup = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : String(v));
    const childRows = runs.map((run) => {
      const ms = run.results ?? [];
      const speed = ms.length ? fmtStat(stat(ms.map(mbps))) : '—';
      const rss = ms.length ? mb(Math.max(...ms.map((m) => m.rssPeak))) : '—';
      const ext = ms.length ? mb(Math.max(...ms.map((m) => m.externalDelta))) : '—';
      const peak = run.cgroup?.peak !== undefined ? mb(run.cgroup.peak) : '—';
      return `| ${run.label} | ${speed} | ${ext} | ${rss} | ${peak} | ${fmtGroup(run.cgroup?.failcnt)} | ${fmtGroup(run.cgroup?.oomKills)} | ${run.outcome} |`;
    });

    const markdown = `One stream of ${mb(bytes)} MiB of random bytes (fed as ${PIECE / MiB} MiB slices of one in-memory buffer) through
\`writeChunks\` into a fresh \`ChunkStore\` in the temp dir (the built code in dist/, in this process), chunk size ${CHUNK / MiB} MiB, durability \`${DURABILITY}\`
(the server's default: fdatasync per chunk file, fsync of its directory), ${hashing}.
N = pool buffers = per-request \`maxBuffers\`, so up to N chunks are hashed and written while the
stream keeps filling the next buffer. ${rounds} round${rounds > 1 ? 's' : ''} per N, interleaved; a fresh pool and data dir per operation, a forced GC before each.
MB/s are 10^6 bytes per second.

Memory per operation (worst round): *pool* is what the pool allocated (\`stats().allocated\` ×
buffer size, the bound the design promises); *arrayBuffers Δ* / *external Δ* are the peak rise of
\`process.memoryUsage()\` sampled every 5 ms; *RSS Δ* is the peak resident set (VmHWM, reset just
before the operation) minus the RSS at its start (the whole process: worker threads included).
The last row feeds the same bytes as fresh 1 MiB buffers (one copy each, as a socket delivers a
body): with slices of one buffer, holding on to a piece costs nothing, with fresh ones it costs 1 MiB.
A pool backed by SharedArrayBuffers (for the hashing workers) counts in arrayBuffers, not in external.

| writers N | MB/s median (min–max) | pool MiB | N × chunk MiB | arrayBuffers Δ MiB | external Δ MiB | RSS Δ MiB | RSS Δ / (N × chunk) |
|---:|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

## N = ${CAP_WRITERS} under a memory cap

The same operation in a child process (\`bench/scenarios/writer-child.ts\`, run through tsx), ${rounds} round${rounds > 1 ? 's' : ''}, reading
its source from the random file (page cache; a capped child could not hold ${mb(bytes)} MiB of source).
${capNote}

*cgroup peak* is the group's own high-water mark, which counts the page cache of the chunk files it
wrote as well as the process: the kernel can reclaim that cache (clean after each fsync), not the
process's own memory. *RSS peak* is the child's own resident peak during an operation (node, tsx
and the stream included). Unlike the in-process source, which hands out views of one buffer (so
holding on to a piece costs nothing there), the child's file stream allocates a new 1 MiB buffer
per piece, as a socket does for a request body: *external Δ* shows how many of those were alive at
once (garbage a GC would free, or pieces still referenced).

| run | MB/s median (min–max) | external Δ MiB | RSS peak MiB | cgroup peak MiB | limit hits | OOM kills | outcome |
|---|---|---:|---:|---:|---:|---:|---|
${childRows.join('\n')}
`;
    const svg = barChart({
      title: `writeChunks, ${mb(bytes)} MiB, ${CHUNK / MiB} MiB chunks (MB/s, median)`,
      unit: 'MB/s',
      groups: [
        ...VARIANTS.map((v) => ({ label: `N = ${variantLabel(v)}`, bars: [{ series: 'in process', value: stat(table.get(v)!.map(mbps)).median }] })),
        {
          label: `N = ${CAP_WRITERS}, child`,
          bars: runs.map((run, i) => ({ series: i === 0 ? 'child, no cap' : 'child, capped', value: run.results ? stat(run.results.map(mbps)).median : NaN })),
        },
      ],
    });
    return { markdown, svg };
  },
};

export default scenario;
