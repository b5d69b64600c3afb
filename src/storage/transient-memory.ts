// Keeping a server's memory to its budget also means not letting garbage pile up. Every socket
// read of a request body is a fresh Buffer whose bytes live outside the JS heap; the chunk
// writer copies it into a pool buffer and drops it at once. V8 collects such buffers only when
// the young generation fills (it rarely does: each holds ~100 bytes of heap for 64 KiB outside)
// or when 64 MiB of them have accumulated since the last collection. A scavenge (a minor GC:
// the young generation only, well under a millisecond with this heap) after every 4 MiB of body
// read bounds that garbage, at no cost to upload speed.
//
// A scavenge frees only buffers that died young. A piece that waited in a request's stream
// while its upload waited for a pool buffer may have survived two scavenges and been promoted;
// only a major collection frees those, and V8 starts one when 64 MiB of such memory has built
// up. Malloc keeps the pages they occupied, so that build-up became RSS. So an incremental major
// collection is asked for after every 256 MiB of body read (its marking runs in steps between
// requests). The figures behind both intervals: docs/performance.md, bench/results/writer.md
// and bench/results/memory.md.
//
// V8 exposes its collector to scripts only behind --expose-gc; the flag is set here at run time
// and the function taken from a new context, where V8 installs it. Should that ever fail, the
// server runs as before, just with more garbage.
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** Bytes of dropped buffers between two scavenges. */
export const SCAVENGE_EVERY_BYTES = 4 * 1024 * 1024;
/** Scavenges between two requests for a major collection (256 MiB of dropped buffers). */
export const MAJOR_EVERY_SCAVENGES = 64;

// Module state, on purpose: the garbage counted here and the collector that frees it belong to
// the V8 heap, one per thread, which every server in the process fills alike. A count per server
// would let their garbage add up unseen.
let gc: Gc | undefined | null = null;
/** Scavenges run and major collections asked for (for the tests and the curious). */
export const stats = { scavenges: 0, majors: 0 };
let sinceLast = 0;

function collector(): Gc | undefined {
  if (gc === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const fn: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
      gc = typeof fn === 'function' ? (fn as Gc) : undefined;
    } catch {
      gc = undefined;
    }
  }
  return gc;
}

/** Counts bytes of short-lived buffers just dropped; scavenges once enough have gone by. */
export function dropped(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < SCAVENGE_EVERY_BYTES) return;
  sinceLast = 0;
  const fn = collector();
  if (!fn) return;
  fn({ type: 'minor' });
  stats.scavenges++;
  if (stats.scavenges % MAJOR_EVERY_SCAVENGES === 0) {
    fn({ type: 'major', execution: 'async' });
    stats.majors++;
  }
}
