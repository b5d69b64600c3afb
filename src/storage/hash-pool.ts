// Hashing off the event loop. A large PUT costs MD5 (the ETag), the client's checksum and a
// SHA-256 + CRC32C per chunk; on the main thread MD5 alone holds the event loop ~1.7 ns a byte,
// which starves every other request while an upload runs. Workers read the pool's buffers
// in place (they are SharedArrayBuffer-backed): no byte is copied to hash it.
//  - chunk digests (SHA-256 name + CRC32C) go to whichever worker has the least queued;
//  - an object's running hashes (MD5 + S3 checksums) are sequential, so each upload's state
//    lives in ONE worker, which processes that upload's buffers in the order they were sent.
// Small buffers are hashed inline: a round trip to a worker costs more than hashing 256 KiB.
// The workers' side is hash-worker.ts.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { createHasher, type ChecksumAlgorithm, crc32Bytes, crc32c, hashOnce } from '../s3/checksums.js';
import { startWorker } from '../workers.js';
import { sealInto, type SealSpec } from './chunk-cipher.js';

/** How long close() waits for a starting worker to finish loading before it terminates it anyway. */
const LOAD_WAIT_MS = 10_000;

/** Below this many bytes a buffer is hashed on the calling thread. */
export const INLINE_HASH_BYTES = 256 * 1024;

export interface ChunkDigest {
  hash: string;
  crc32c: number;
}

export interface ObjectDigest {
  md5: Buffer;
  checksums: Partial<Record<ChecksumAlgorithm, Buffer>>;
}

/** Running MD5 + checksums of one object, fed its bytes in order. */
export interface ObjectHasher {
  /** Resolves when `data` is hashed (the caller may reuse the buffer then). */
  update(data: Buffer): Promise<void>;
  digest(): Promise<ObjectDigest>;
  /** Drops the state without a digest (failed upload). */
  close(): void;
}

type Reply = { id: number; ready?: boolean; error?: string; hash?: string; crc32c?: number; length?: number; md5?: Uint8Array; checksums?: Record<string, Uint8Array> };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(r: Reply): void; reject(e: Error): void }>;
  /** Settles once the worker has loaded aws-crt, or has died. */
  loaded: Promise<void>;
}

export function isShared(data: Buffer): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private nextStream = 1;
  private closed = false;

  constructor(readonly threads: number) {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads must be >= 1, got ${threads}`);
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    // hash-worker.ts beside this file.
    const worker = startWorker(import.meta.url, 'hash-worker');
    // Idle workers must not keep a finished process (a CLI command, a test) alive.
    worker.unref();
    let markLoaded!: () => void;
    const slot: Slot = { worker, pending: new Map(), loaded: new Promise<void>((resolve) => (markLoaded = resolve)) };
    worker.on('message', (r: Reply) => {
      if (r.ready) return markLoaded();
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if (r.error) p.reject(new Error(`hash worker: ${r.error}`));
      else p.resolve(r);
    });
    const fail = (err: Error) => {
      markLoaded();
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      // A dead worker takes its streams with it (their uploads fail); later work goes to a new one.
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
    };
    worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => fail(new Error(`hash worker exited with ${code}`)));
    return slot;
  }

  /** Settles when every worker has loaded its hashing code (or failed to: work then goes to a new one). */
  get ready(): Promise<void> {
    return Promise.all(this.slots.map((s) => s.loaded)).then(() => undefined);
  }

  private leastBusy(): Slot {
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s;
    return best;
  }

  private call(slot: Slot, msg: Record<string, unknown>): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('hash pool closed'));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ ...msg, id });
    }).finally(() => {
      if (slot.pending.size === 0) slot.worker.unref();
    });
  }

  /** SHA-256 (hex, the chunk's name) and CRC32C of one chunk. */
  async chunkDigest(data: Buffer): Promise<ChunkDigest> {
    if (data.length < INLINE_HASH_BYTES || !isShared(data)) return chunkDigestInline(data);
    const r = await this.call(this.leastBusy(), { op: 'chunk', sab: data.buffer, offset: data.byteOffset, length: data.length });
    return { hash: r.hash!, crc32c: r.crc32c! };
  }

  /**
   * Seals `data` (AES-256-GCM, chunk-cipher.ts) into `out` and names the stored bytes: their
   * SHA-256 and CRC32C, and how many there are. Both buffers shared: the worker works in place.
   */
  async sealChunk(data: Buffer, out: Buffer, spec: SealSpec): Promise<ChunkDigest & { length: number }> {
    if (data.length < INLINE_HASH_BYTES || !isShared(data) || !isShared(out)) return sealInline(data, out, spec);
    const r = await this.call(this.leastBusy(), {
      op: 'seal', sab: data.buffer, offset: data.byteOffset, length: data.length, out: out.buffer, outOffset: out.byteOffset, outLength: out.length, spec,
    });
    return { hash: r.hash!, crc32c: r.crc32c!, length: r.length! };
  }

  /**
   * A running object hash. It starts on the calling thread and moves to a worker at the first
   * large shared buffer, as long as nothing was hashed inline yet (the state cannot move).
   */
  objectHasher(algorithms: ChecksumAlgorithm[]): ObjectHasher {
    return new SwitchingHasher(this, algorithms);
  }

  /** @internal */
  openStream(algorithms: ChecksumAlgorithm[]): { update(d: Buffer): Promise<void>; digest(): Promise<ObjectDigest>; close(): void } {
    const slot = this.leastBusy();
    const stream = this.nextStream++;
    slot.worker.postMessage({ op: 'open', id: 0, stream, algorithms });
    return {
      update: async (d) => {
        await this.call(slot, { op: 'update', stream, sab: d.buffer, offset: d.byteOffset, length: d.length });
      },
      digest: async () => {
        const r = await this.call(slot, { op: 'digest', stream });
        const checksums: ObjectDigest['checksums'] = {};
        for (const [a, v] of Object.entries(r.checksums ?? {})) checksums[a as ChecksumAlgorithm] = Buffer.from(v);
        return { md5: Buffer.from(r.md5!), checksums };
      },
      close: () => {
        if (!this.closed) slot.worker.postMessage({ op: 'close', id: 0, stream });
      },
    };
  }

  /**
   * Stops the workers, each once it has loaded aws-crt: terminated in the middle of that load,
   * the native module hits a pending exception in its init and aborts the whole process (seen
   * when a server was stopped right after it started). The wait is bounded all the same.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        await Promise.race([s.loaded, delay(LOAD_WAIT_MS, undefined, { ref: false })]);
        await s.worker.terminate();
      }),
    );
  }
}

/** sealChunk on the calling thread (small chunks, or no pool). */
export function sealInline(data: Buffer, out: Buffer, spec: SealSpec): ChunkDigest & { length: number } {
  const length = sealInto(data, out, spec);
  return { ...chunkDigestInline(out.subarray(0, length)), length };
}

export function chunkDigestInline(data: Buffer): ChunkDigest {
  return { hash: createHash('sha256').update(data).digest('hex'), crc32c: crc32c(data) };
}

/**
 * Everything a small body stored inline needs, from its one buffer: the chunk's address
 * (SHA-256) and CRC32C, and the object's MD5 and checksums. A body of one chunk has the same
 * SHA-256 and CRC32C as its chunk, so a signed payload hash or a CRC32C checksum reuses them
 * instead of hashing the bytes a second time.
 */
export function wholeDigestInline(data: Buffer, algorithms: ChecksumAlgorithm[]): ChunkDigest & ObjectDigest {
  const sha256 = hashOnce('sha256', data, 'buffer');
  const crc = crc32c(data);
  const checksums: ObjectDigest['checksums'] = {};
  for (const a of algorithms) {
    if (a === 'SHA256') checksums.SHA256 = sha256;
    else if (a === 'CRC32C') checksums.CRC32C = crc32Bytes(crc);
    else {
      const h = createHasher(a);
      h.update(data);
      checksums[a] = h.digest();
    }
  }
  return { hash: sha256.toString('hex'), crc32c: crc, md5: hashOnce('md5', data, 'buffer'), checksums };
}

/** MD5 + checksums on the calling thread (small objects, or no pool). */
export function inlineObjectHasher(algorithms: ChecksumAlgorithm[]): ObjectHasher {
  const md5 = createHash('md5');
  const hashers = algorithms.map((a) => createHasher(a));
  return {
    update: async (d) => {
      md5.update(d);
      for (const h of hashers) h.update(d);
    },
    digest: async () => {
      const checksums: ObjectDigest['checksums'] = {};
      algorithms.forEach((a, i) => (checksums[a] = hashers[i]!.digest()));
      return { md5: md5.digest(), checksums };
    },
    close: () => undefined,
  };
}

class SwitchingHasher implements ObjectHasher {
  private inline?: ObjectHasher;
  private remote?: ReturnType<HashPool['openStream']>;

  constructor(
    private readonly pool: HashPool,
    private readonly algorithms: ChecksumAlgorithm[],
  ) {}

  update(data: Buffer): Promise<void> {
    if (!this.inline && !this.remote) {
      if (data.length >= INLINE_HASH_BYTES && isShared(data)) this.remote = this.pool.openStream(this.algorithms);
      else this.inline = inlineObjectHasher(this.algorithms);
    }
    if (this.remote) {
      // A buffer that cannot be shared is copied into one that can: the order must hold.
      return this.remote.update(isShared(data) ? data : copyShared(data));
    }
    return this.inline!.update(data);
  }

  digest(): Promise<ObjectDigest> {
    if (this.remote) return this.remote.digest();
    return (this.inline ?? inlineObjectHasher(this.algorithms)).digest();
  }

  close(): void {
    this.remote?.close();
  }
}

function copyShared(data: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(data.length));
  data.copy(out);
  return out;
}
