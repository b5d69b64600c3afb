// Does cairn's memory stay bounded by its buffer pool however many clients push at once? Peak
// RSS of the cairn process (sampled, plus the kernel's VmHWM) during concurrent uploads and
// downloads, against its idle RSS plus the pool's bytes. Each cell gets a fresh server, so its
// VmHWM is that cell's peak and nothing a previous cell allocated counts as "idle".
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config.js';
import { GiB, MiB, procMemory, sampleRss, startTarget, targetClient, type Scenario, type Target, type TargetCheck } from '../harness.js';
import { randomFile } from '../lib.js';
import { barChart } from '../svg.js';

const GOAL = 1.2;
// Client i uploads the shared random file from offset i x STRIDE. STRIDE is odd, so no two
// clients' 8 MiB chunks line up: every upload is distinct bytes and dedup cannot skip writes
// (identical bodies would also have uploads wait on each other's chunk writes).
const STRIDE = MiB + 1;

interface Cell {
  op: 'PUT' | 'GET';
  clients: number;
  size: number;
}

interface CellResult extends Cell {
  idle: number;
  peak: number;
  seconds: number;
  /** The clients were cut off when cairn's RSS passed the guard: peak is then a lower bound. */
  stopped: boolean;
}

// A cell whose server grows past this is stopped (its clients aborted) rather than left to take
// the machine down: far past any budget, so the verdict is the same, and the 32 x 1 GiB cell
// would otherwise be limited only by RAM.
const GUARD = Math.min(4 * GiB, os.totalmem() / 4);

/**
 * Runs `op` while sampling cairn's RSS every 100 ms (and its VmHWM at the end); aborts `op`
 * through the signal if RSS passes GUARD.
 */
async function measured(pid: number, op: (signal: AbortSignal) => Promise<void>): Promise<{ peak: number; seconds: number; stopped: boolean }> {
  const rss = sampleRss(pid, 100);
  const abort = new AbortController();
  // Every one of the 32 concurrent SDK calls listens on it: not a leak.
  setMaxListeners(64, abort.signal);
  const guard = setInterval(() => {
    if ((procMemory(pid)?.rss ?? 0) > GUARD) abort.abort(new Error(`cairn RSS passed ${mib(GUARD)} MiB`));
  }, 100);
  const t0 = performance.now();
  try {
    await op(abort.signal);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearInterval(guard);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { peak: rss.stop().peak, seconds, stopped: abort.signal.aborted };
}

const sizeLabel = (n: number) => (n >= GiB ? `${n / GiB} GiB` : `${n / MiB} MiB`);
const cellLabel = (c: Cell) => `${c.op} ${c.clients} × ${sizeLabel(c.size)}`;
const mib = (n: number) => (n / MiB).toFixed(0);

/** Idle RSS: the median of a second of samples once the fresh server has settled. */
async function idleRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(procMemory(pid)?.rss ?? NaN);
    await new Promise((r) => setTimeout(r, 200));
  }
  return xs.sort((a, b) => a - b)[2]!;
}

/** Uploads obj-<first> .. obj-<first + count - 1>, all at once. */
async function putAll(target: Target, file: string, count: number, size: number, abortSignal?: AbortSignal, first = 0): Promise<void> {
  const s3 = targetClient(target, { maxSockets: 64 });
  try {
    await Promise.all(
      Array.from({ length: count }, (_, j) => first + j).map((i) =>
        s3.send(
          new PutObjectCommand({
            Bucket: 'bench',
            Key: `obj-${i}`,
            Body: fs.createReadStream(file, { start: i * STRIDE, end: i * STRIDE + size - 1, highWaterMark: MiB }),
            ContentLength: size,
          }),
          { abortSignal },
        ),
      ),
    );
  } finally {
    s3.destroy();
  }
}

async function getAll(target: Target, clients: number, size: number, abortSignal: AbortSignal): Promise<void> {
  const s3 = targetClient(target, { maxSockets: 64 });
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `obj-${i}` }), { abortSignal });
        let n = 0;
        for await (const piece of res.Body as AsyncIterable<Uint8Array>) n += piece.length;
        if (n !== size) throw new Error(`GET obj-${i} returned ${n} bytes, expected ${size}`);
      }),
    );
  } finally {
    s3.destroy();
  }
}

async function deleteAll(target: Target, clients: number): Promise<void> {
  const s3 = targetClient(target);
  try {
    for (let i = 0; i < clients; i++) await s3.send(new DeleteObjectCommand({ Bucket: 'bench', Key: `obj-${i}` }));
  } finally {
    s3.destroy();
  }
}

const scenario: Scenario = {
  name: 'memory',
  title: 'Memory under concurrent uploads and downloads (peak RSS of cairn)',
  async run(ctx) {
    // The server's defaults, passed explicitly so a CAIRN_* variable in the caller's environment
    // cannot change the pool this scenario reports.
    const defaults = loadConfig({}, {});
    const env = { CAIRN_CHUNK_SIZE: String(defaults.chunkSize), CAIRN_WRITE_BUFFERS: String(defaults.writeBuffers) };
    const pool = defaults.chunkSize * defaults.writeBuffers;

    const cells: Cell[] = ctx.smoke
      ? [
          { op: 'PUT', clients: 2, size: 16 * MiB },
          { op: 'PUT', clients: 1, size: 16 * MiB },
          { op: 'GET', clients: 2, size: 16 * MiB },
        ]
      : [
          { op: 'PUT', clients: 32, size: 256 * MiB },
          { op: 'PUT', clients: 1, size: 64 * MiB },
          { op: 'PUT', clients: 32, size: 64 * MiB },
          { op: 'PUT', clients: 1, size: GiB },
          { op: 'PUT', clients: 32, size: GiB },
          { op: 'GET', clients: 32, size: 256 * MiB },
        ];
    const maxClients = Math.max(...cells.map((c) => c.clients));
    const file = randomFile(Math.max(...cells.map((c) => c.size)) + maxClients * STRIDE);

    const results: CellResult[] = [];
    for (const cell of cells) {
      let idle: number;
      let m: { peak: number; seconds: number; stopped: boolean };
      if (cell.op === 'PUT') {
        const target = await startTarget('cairn', { env });
        try {
          idle = await idleRss(target.pid);
          m = await measured(target.pid, (signal) => putAll(target, file, cell.clients, cell.size, signal));
          // Deleting is part of the cell (the 32 GiB cell must not stay on disk); stop() then
          // removes the data dir itself.
          if (!m.stopped) await deleteAll(target, cell.clients);
        } finally {
          await target.stop();
        }
      } else {
        // The objects are written by one server, then read by a fresh one on the same data
        // dir: the reader's idle RSS and VmHWM owe nothing to the uploads.
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-memory-'));
        try {
          const writer = await startTarget('cairn', { env: { ...env, CAIRN_DATA_DIR: dataDir } });
          try {
            // A few at a time: the setup must not trip over the very growth being measured.
            for (let i = 0; i < cell.clients; i += 4) await putAll(writer, file, Math.min(4, cell.clients - i), cell.size, undefined, i);
          } finally {
            await writer.stop();
          }
          const target = await startTarget('cairn', { env: { ...env, CAIRN_DATA_DIR: dataDir } });
          try {
            idle = await idleRss(target.pid);
            m = await measured(target.pid, (signal) => getAll(target, cell.clients, cell.size, signal));
          } finally {
            await target.stop();
          }
        } finally {
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      }
      const { peak, seconds, stopped } = m;
      results.push({ ...cell, idle, peak, seconds, stopped });
      ctx.log(`${cellLabel(cell)}: idle ${mib(idle)} MiB, peak ${mib(peak)} MiB${stopped ? ' (stopped at the guard)' : ''}, ratio ${(peak / (idle + pool)).toFixed(2)}, ${seconds.toFixed(1)} s`);
    }

    const targets: TargetCheck[] = results.map((r) => ({ what: `${cellLabel(r)}: peak RSS / (idle RSS + pool)${r.stopped ? ' (stopped at the guard: at least this)' : ''}`, ratio: r.peak / (r.idle + pool), goal: GOAL, atMost: true }));
    const rows = results.map((r) =>
      r.stopped
        ? `| ${cellLabel(r)} | stopped after ${r.seconds.toFixed(0)} s | ${mib(r.idle)} | ${mib(pool)} | ≥ ${mib(r.peak)} | ≥ ${(r.peak / (r.idle + pool)).toFixed(2)} |`
        : `| ${cellLabel(r)} | ${((r.clients * r.size) / 1e6 / r.seconds).toFixed(0)} | ${mib(r.idle)} | ${mib(pool)} | ${mib(r.peak)} | ${(r.peak / (r.idle + pool)).toFixed(2)} |`,
    );
    const markdown = `cairn (\`dist/cli.js serve\`, its own process, defaults: fsync durability, ${defaults.chunkSize / MiB} MiB chunks,
${defaults.writeBuffers} write buffers = a ${mib(pool)} MiB pool, at most ${defaults.maxBuffersPerRequest} per request) receives *clients* concurrent
PutObject requests of *object* bytes each, or serves that many concurrent GetObject requests. Clients are
AWS SDK v3 clients in the bench process (plain signed requests, up to 64 sockets); their memory is not
cairn's and is not counted. Each upload streams a different slice of one random file, so no two
bodies share a chunk and dedup skips nothing.

A fresh server per cell: *idle RSS* is its resident set a second after start (median of 5 samples,
bucket created, nothing uploaded); *peak RSS* is the larger of RSS sampled every 100 ms and the
kernel's VmHWM (so a spike between samples counts). PUT cells delete their objects and the whole
data dir afterwards. The GET cell writes its objects with one server, then starts a second one on
the same data dir and measures that one (GETs do not use the write pool; its budget is the same).
A cell whose server passes ${mib(GUARD)} MiB RSS is stopped there (its requests aborted) so it cannot
exhaust the machine: its peak and ratio are then lower bounds (marked ≥).

Goal: peak RSS ≤ ${GOAL} × (idle RSS + pool) in every cell.

| cell | MB/s | idle RSS MiB | pool MiB | peak RSS MiB | peak / (idle + pool) |
|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
    const svg = barChart({
      title: 'cairn RSS: budget (idle + pool) vs peak',
      unit: 'MiB',
      groups: results.map((r) => ({
        label: cellLabel(r),
        bars: [
          { series: 'idle + pool', value: (r.idle + pool) / MiB },
          { series: 'peak RSS', value: r.peak / MiB },
        ],
      })),
    });
    return { markdown, svg, targets };
  },
};

export default scenario;
