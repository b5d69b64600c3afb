// One measured operation of the writer scenario: a whole stream through writeChunks into a fresh
// ChunkStore, with the memory it took. Shared by the in-process table (writer.ts) and the child
// process that runs under a memory cap (writer-child.ts), so both measure the same thing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Durability } from '../../src/storage/chunk-store.js';
import type { HashPool as HashPoolType } from '../../src/storage/hash-pool.js';

// The storage code comes from dist/, what the server runs, typed by its sources. Not from src/
// through tsx: esbuild adds __name() helpers to HashPool's worker function, whose source runs in
// a worker where __name does not exist, so the hashing workers would die at start.
const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href;
const { loadConfig } = (await import(dist('config.js'))) as typeof import('../../src/config.js');
const { ChunkStore } = (await import(dist('storage/chunk-store.js'))) as typeof import('../../src/storage/chunk-store.js');
const { writeChunks } = (await import(dist('storage/chunk-writer.js'))) as typeof import('../../src/storage/chunk-writer.js');
const { HashPool, INLINE_HASH_BYTES } = (await import(dist('storage/hash-pool.js'))) as typeof import('../../src/storage/hash-pool.js');
const { BufferPool } = (await import(dist('storage/pool.js'))) as typeof import('../../src/storage/pool.js');
export type HashPool = HashPoolType;

export interface WriteMeasure {
  bytes: number;
  seconds: number;
  chunks: number;
  /** Buffers the pool allocated x their size: the data-path memory the design promises. */
  poolBytes: number;
  /** Peak rise of process.memoryUsage().arrayBuffers / .external over the op, sampled every 5 ms. */
  arrayBuffersDelta: number;
  externalDelta: number;
  /** Peak RSS (VmHWM, reset just before the op) minus RSS at the start: catches what sampling misses. */
  rssDelta: number;
  rssPeak: number;
}

// A forced GC between operations, so the previous op's pool and chunk copies are not counted as
// this op's: `--expose-gc` cannot be passed through `npm run bench`, so we turn it on at run time.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function statusBytes(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Resets VmHWM to the current RSS (Linux: "5" to clear_refs); false where that is not allowed. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * The hashing workers the server starts with its default settings (none if that default is 0),
 * started and warmed up before any measurement: their threads' memory is part of the process's
 * baseline, not of an operation. One pool serves every operation, as in the server.
 */
export async function startHashPool(): Promise<HashPool | undefined> {
  const threads = loadConfig({}, {}).hashThreads;
  if (threads <= 0) return undefined;
  const hashPool = new HashPool(threads);
  await Promise.all(Array.from({ length: threads }, () => hashPool.chunkDigest(Buffer.from(new SharedArrayBuffer(INLINE_HASH_BYTES)))));
  return hashPool;
}

export async function measureWrite(opts: {
  /** Called once per op: a fresh stream of the same bytes. */
  source: () => NodeJS.ReadableStream | AsyncIterable<Buffer>;
  bytes: number;
  chunkSize: number;
  writers: number;
  durability: Durability;
  /** As in the server: chunk digests and the object's MD5 in workers, reading the (shared) pool buffers in place. */
  hashPool?: HashPool;
  /** Parent of the per-op temp data dir (default os.tmpdir()). */
  tmpRoot?: string;
}): Promise<WriteMeasure> {
  // A fresh directory per op: the same random bytes written twice would otherwise dedup onto
  // the files of the previous round and skip the writes.
  const dataDir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'cairn-bench-writer-'));
  try {
    const store = new ChunkStore({ dataDir, durability: opts.durability, hashPool: opts.hashPool });
    await store.init();
    // N buffers in the pool and N per request: one stream with N chunk writes in flight, the
    // shape of the original Go benchmark (N concurrent chunk writers of one stream).
    const pool = new BufferPool({ bufferSize: opts.chunkSize, buffers: opts.writers, shared: opts.hashPool !== undefined });
    const body = opts.source();
    gc();
    gc();
    const base = process.memoryUsage();
    const baseRss = statusBytes('VmRSS');
    const peakResettable = resetPeakRss();
    let peakAb = base.arrayBuffers;
    let peakExt = base.external;
    let peakRss = baseRss;
    const sample = () => {
      const m = process.memoryUsage();
      peakAb = Math.max(peakAb, m.arrayBuffers);
      peakExt = Math.max(peakExt, m.external);
      peakRss = Math.max(peakRss, m.rss);
    };
    const timer = setInterval(sample, 5);
    const started = performance.now();
    const res = await writeChunks(body, { pool, store, maxBuffers: opts.writers, hashPool: opts.hashPool });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    sample();
    for (const c of res.chunks) store.unpin(c.hash);
    if (res.size !== opts.bytes) throw new Error(`writeChunks wrote ${res.size} bytes, expected ${opts.bytes}`);
    const expected = Math.ceil(opts.bytes / opts.chunkSize);
    if (res.chunks.length !== expected || res.chunks.some((c) => !c.created)) {
      throw new Error(`expected ${expected} new chunks, got ${res.chunks.length} (${res.chunks.filter((c) => !c.created).length} deduplicated)`);
    }
    if (peakResettable) peakRss = Math.max(peakRss, statusBytes('VmHWM'));
    return {
      bytes: res.size,
      seconds,
      chunks: res.chunks.length,
      poolBytes: pool.stats().allocated * pool.bufferSize,
      arrayBuffersDelta: peakAb - base.arrayBuffers,
      externalDelta: peakExt - base.external,
      rssDelta: peakRss - baseRss,
      rssPeak: peakRss,
    };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
