// The hash pool's worker thread (see hash-pool.ts), started with startWorker(). The hashers
// mirror src/s3/checksums.ts (same native functions), which the unit tests hold them to.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import zlib from 'node:zlib';
import { checksums as crt } from 'aws-crt';
import { sealInto, type SealSpec } from './chunk-cipher.js';

// Hashing yields to request handling: on Linux a thread has its own nice value, so this worker
// drops to nice 10 and, when the cores are contended, the event loop (GETs, small PUTs) runs
// first while a large upload hashes on what is left. On an idle machine it changes nothing.
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isSafeInteger(tid) && tid > 0) os.setPriority(tid, Math.max(os.getPriority(tid), 10));
} catch {
  // Not Linux, or not allowed: hashing keeps the process's priority.
}

const port = parentPort!;
// Loaded (aws-crt with it, a static import): from here on the pool may terminate this worker
// (see HashPool.close).
port.postMessage({ id: 0, ready: true });

type H = { update(d: Buffer): void; digest(): Buffer };

function crc(fn: (d: Buffer, p: number) => number): H {
  let v = 0;
  return {
    // An empty Buffer may have a NULL pointer, which zlib answers with 0: skip it.
    update: (d) => {
      if (d.length > 0) v = fn(d, v);
    },
    digest: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(v >>> 0, 0);
      return out;
    },
  };
}

function make(alg: string): H {
  if (alg === 'CRC32') return crc((d, p) => zlib.crc32(d, p));
  if (alg === 'CRC32C') return crc((d, p) => crt.crc32c(d, p));
  if (alg === 'CRC64NVME') {
    let state: DataView | undefined;
    return {
      update: (d) => (state = crt.crc64nvme(d, state)),
      digest: () => (state ? Buffer.from(new Uint8Array(state.buffer, state.byteOffset, 8)) : Buffer.alloc(8)),
    };
  }
  if (alg === 'SHA1' || alg === 'SHA256') {
    const h = crypto.createHash(alg === 'SHA1' ? 'sha1' : 'sha256');
    return { update: (d) => h.update(d), digest: () => h.digest() };
  }
  throw new Error(`unknown checksum algorithm ${alg}`);
}

// This thread's running object hashes, by stream id (the pool numbers them).
const streams = new Map<number, { md5: crypto.Hash; algs: string[]; hashers: H[] }>();

type Message = { op: string; id: number; stream?: number; sab?: SharedArrayBuffer; offset?: number; length?: number; algorithms?: string[]; out?: SharedArrayBuffer; outOffset?: number; outLength?: number; spec?: SealSpec };

port.on('message', (m: Message) => {
  try {
    if (m.op === 'seal') {
      // Encrypt the chunk into its cipher buffer, then name and checksum the stored bytes.
      const out = Buffer.from(m.out!, m.outOffset, m.outLength);
      const n = sealInto(Buffer.from(m.sab!, m.offset, m.length), out, m.spec!);
      const stored = out.subarray(0, n);
      const hash = crypto.createHash('sha256').update(stored).digest('hex');
      port.postMessage({ id: m.id, hash, crc32c: crt.crc32c(stored, 0) >>> 0, length: n });
    } else if (m.op === 'chunk') {
      const view = Buffer.from(m.sab!, m.offset, m.length);
      const hash = crypto.createHash('sha256').update(view).digest('hex');
      port.postMessage({ id: m.id, hash, crc32c: crt.crc32c(view, 0) >>> 0 });
    } else if (m.op === 'open') {
      streams.set(m.stream!, { md5: crypto.createHash('md5'), algs: m.algorithms!, hashers: m.algorithms!.map(make) });
    } else if (m.op === 'update') {
      const s = streams.get(m.stream!);
      if (!s) throw new Error(`no hash stream ${m.stream}`);
      const view = Buffer.from(m.sab!, m.offset, m.length);
      s.md5.update(view);
      for (const h of s.hashers) h.update(view);
      port.postMessage({ id: m.id });
    } else if (m.op === 'digest') {
      const s = streams.get(m.stream!);
      if (!s) throw new Error(`no hash stream ${m.stream}`);
      streams.delete(m.stream!);
      const checksums: Record<string, Uint8Array> = {};
      s.algs.forEach((a, i) => (checksums[a] = s.hashers[i]!.digest()));
      port.postMessage({ id: m.id, md5: s.md5.digest(), checksums });
    } else if (m.op === 'close') {
      streams.delete(m.stream!);
    }
  } catch (err) {
    port.postMessage({ id: m.id, error: String((err as Error)?.message ?? err) });
  }
});
