// `npx tsx bench/sealed-read.ts [MiB] [rounds]`: the GET read path in process, no HTTP: an object
// of MiB (default 256) written as 8 MiB chunks into a ChunkStore over a temp dir, plain and
// SSE-S3, then read through readObjectPieces as ObjectService.getObject does (each piece recycled
// once "sent"), arms interleaved round by round. Prints MiB/s, GCs (count, ms) and peak external
// memory per read. `--held MiB` (default 128) keeps that much external memory alive during the
// reads, as a server's write pools do: V8's external-memory GCs only show with it. The page cache
// is warm (the object was just written): this measures CPU, not the disk. `--heap MiB` (default
// 64) keeps about that much of small JS objects alive: a full GC's cost grows with the heap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { ChunkStore, type ChunkRef } from '../src/storage/chunk-store.js';
import { serverKeys, type OpenKeys } from '../src/storage/chunk-cipher.js';
import { readObjectPieces } from '../src/storage/chunk-reader.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const heldMiB = flag('--held', 128);
const MiB = 1024 * 1024;
const totalMiB = Number(args[0] ?? 256);
const rounds = Number(args[1] ?? 3);
const CHUNK = 8 * MiB;

// A server's JS heap (its metadata caches, sessions...): what makes a mark-compact cost.
const heapMiB = flag('--heap', 64);
const jsHeap = Array.from({ length: heapMiB * 4096 }, (_, i) => ({ i, s: `k${i}`, a: [i, i + 1] }));
const held = Array.from({ length: heldMiB / 8 }, () => Buffer.allocUnsafeSlow(8 * MiB).fill(1));

let gcCount = 0;
let gcMs = 0;
let majors = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
    // NODE_PERFORMANCE_GC_MAJOR (2) and INCREMENTAL (4): the full mark-compacts.
    if (((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0) & 6) majors++;
  }
}).observe({ entryTypes: ['gc'] });

async function writeObject(store: ChunkStore, spec?: ReturnType<typeof serverKeys>): Promise<Array<ChunkRef & { offset: number }>> {
  const refs: Array<ChunkRef & { offset: number }> = [];
  const data = Buffer.allocUnsafeSlow(CHUNK);
  for (let off = 0; off < totalMiB * MiB; off += CHUNK) {
    randomBytes(CHUNK).copy(data);
    const ref = await store.put(data, spec);
    refs.push({ hash: ref.hash, size: ref.size, storedSize: ref.storedSize, crc32c: ref.crc32c, offset: off });
  }
  return refs;
}

async function readOnce(store: ChunkStore, refs: Array<ChunkRef & { offset: number }>, keys?: OpenKeys) {
  const total = totalMiB * MiB;
  const g0 = gcCount;
  const ms0 = gcMs;
  const mj0 = majors;
  let peakExt = 0;
  const t0 = process.hrtime.bigint();
  const stream = readObjectPieces(store, refs, 0, total - 1, { keys });
  let got = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    got += piece.length;
    // The socket's write: the piece goes back once "on the wire", a turn of the loop later.
    await new Promise<void>((r) => setImmediate(r));
    stream.recycle(piece);
    const ext = process.memoryUsage().external;
    if (ext > peakExt) peakExt = ext;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== total) throw new Error(`read ${got} of ${total}`);
  return { mibs: totalMiB / s, gcs: gcCount - g0, gcMs: gcMs - ms0, majors: majors - mj0, peakExtMiB: peakExt / MiB };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-sealed-read-'));
  try {
    const store = new ChunkStore({ dataDir: dir, durability: 'relaxed' });
    await store.init();
    const spec = serverKeys('k1', randomBytes(32));
    const keys: OpenKeys = { server: () => spec.dataKey };
    const plain = await writeObject(store);
    const sealed = await writeObject(store, spec);
    const arms = [
      { name: 'plain', run: () => readOnce(store, plain) },
      { name: 'sse-s3', run: () => readOnce(store, sealed, keys) },
    ];
    const results = new Map<string, Array<Awaited<ReturnType<typeof readOnce>>>>();
    await arms[0].run(); // warm-up
    await arms[1].run();
    for (let r = 0; r < rounds; r++) {
      for (const arm of r % 2 === 0 ? arms : [...arms].reverse()) {
        const res = await arm.run();
        (results.get(arm.name) ?? results.set(arm.name, []).get(arm.name)!).push(res);
        console.log(`round ${r + 1} ${arm.name.padEnd(7)} ${res.mibs.toFixed(0).padStart(5)} MiB/s  gcs ${res.gcs}, ${res.majors} major (${res.gcMs.toFixed(0)} ms)  peak external ${res.peakExtMiB.toFixed(0)} MiB`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const m = new Map([...results].map(([k, v]) => [k, median(v.map((x) => x.mibs))]));
    for (const [k, v] of results) console.log(`median ${k.padEnd(7)} ${m.get(k)!.toFixed(0)} MiB/s  gcs ${median(v.map((x) => x.gcs))}`);
    console.log(`sse-s3/plain ${(m.get('sse-s3')! / m.get('plain')!).toFixed(2)}  (${totalMiB} MiB, held ${heldMiB} MiB in ${held.length} buffers, JS heap +${heapMiB} MiB: ${jsHeap.length} objects)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
