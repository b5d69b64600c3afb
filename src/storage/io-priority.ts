// Bulk file I/O yields to request handling, as hashing does (hash-pool.ts). Chunk writes, their
// fsyncs and large-object reads run on libuv's thread pool; under a 1 GiB upload those threads
// took ~28% of a core beside the event loop on this 2-core machine, and small GETs waited behind
// them. On Linux a thread has its own nice value, so the pool's threads drop to nice 10: when the
// cores are contended the event loop runs first; on an idle machine it changes nothing.
import fs from 'node:fs';
import os from 'node:os';

export const IO_NICE = 10;

/**
 * Lowers the priority of libuv's thread-pool threads. Each is found by running work on it:
 * readlink('/proc/thread-self') names the thread that resolves it. Returns the threads lowered
 * (0 on other systems, or when not allowed).
 */
export async function lowerThreadPoolPriority(): Promise<number> {
  if (process.platform !== 'linux') return 0;
  const size = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
  const lowered = new Set<number>();
  try {
    // A round of many small jobs at once reaches most threads; a few rounds reach them all.
    for (let round = 0; round < 16 && lowered.size < size; round++) {
      const links = await Promise.all(Array.from({ length: size * 8 }, () => fs.promises.readlink('/proc/thread-self')));
      for (const link of links) {
        const tid = Number(link.split('/').pop());
        if (!Number.isSafeInteger(tid) || tid <= 0 || tid === process.pid || lowered.has(tid)) continue;
        os.setPriority(tid, Math.max(os.getPriority(tid), IO_NICE));
        lowered.add(tid);
      }
    }
  } catch {
    // Not allowed, or no /proc: the pool keeps the process's priority.
  }
  return lowered.size;
}
