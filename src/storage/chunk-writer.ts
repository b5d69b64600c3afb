// The bounded-concurrency chunk writer: a PUT body is copied into pool buffers and each
// full buffer is written (hash + write + fsync) while reading continues into the next.
// Every wait for a buffer happens before the next body pull, so when the pool or this
// request's share of it is exhausted we simply stop reading and TCP pushes back on the client.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { dropped } from './transient-memory.js';
import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from '../s3/checksums.js';
import { S3Error } from '../s3/errors.js';
import type { ChunkRef, ChunkStore } from './chunk-store.js';
import type { BufferPool } from './pool.js';
import { chunkDigestInline, inlineObjectHasher, wholeDigestInline, type HashPool, type ObjectDigest } from './hash-pool.js';
import { seal, type SealSpec } from './chunk-cipher.js';

export interface WriteOptions {
  pool: BufferPool;
  store: ChunkStore;
  /** Per-request cap on buffers held at once (>= 1); also bounds in-flight chunk writes. */
  maxBuffers: number;
  /** Computed in order over the whole stream, alongside MD5. */
  checksums?: ChecksumAlgorithm[];
  /** Fewer or more bytes than this -> IncompleteBody. */
  expectedSize?: number;
  /** More bytes than this -> EntityTooLarge. */
  maxSize?: number;
  signal?: AbortSignal;
  /** Used when discarding after a failure: a created chunk some DB row references is kept. */
  isReferenced?: (hash: string) => Promise<boolean>;
  /** Worker threads for the object's MD5/checksums; without it they run on this thread. */
  hashPool?: HashPool;
  /**
   * A body of at most this many bytes becomes one inline chunk: no file, its bytes ride in the
   * result (`data`) for the caller to store in the chunk's row in its commit.
   */
  inlineMax?: number;
  /** Encrypt each chunk at rest with this (chunk-cipher.ts); absent: chunks are stored in clear. */
  seal?: SealSpec;
}

export type WrittenChunk = ChunkRef & { offset: number; created: boolean };

export interface WriteResult {
  size: number;
  md5: Buffer;
  checksums: Partial<Record<ChecksumAlgorithm, Buffer>>;
  chunks: WrittenChunk[];
}

/**
 * A body being read lets the event loop end its turn after every YIELD_BYTES it copied.
 *
 * Why: while a client streams a large body, its socket always has data, and libuv reads up to
 * 32 x 64 KiB of it per turn when the reader keeps up: a turn of a 1 GiB upload ran to
 * milliseconds of copying, and the other connections' requests waited for its end. With the
 * yield, each turn takes at most about this much of an upload and the small requests of the
 * turn are answered between; an upload on its own is as fast as without the yield, as its turns
 * are short only when something else waits (figures: docs/performance.md, bench/results/responsive.md).
 */
export const YIELD_BYTES = 64 * 1024;

/**
 * Resolves with the chunks still PINNED: the caller unpins them after its DB transaction
 * committed or failed. On failure everything this call did is undone before it rejects
 * with the first error.
 *
 * One long function on purpose: the read loop, the dispatched writes and the undo share the
 * upload's state (buffers held, writes in flight, the first failure) through closures; split
 * into pieces, each would take and hand back that state on the hottest path cairn has.
 */
export async function writeChunks(
  body: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  opts: WriteOptions,
): Promise<WriteResult> {
  const { pool, store } = opts;
  if (!Number.isSafeInteger(opts.maxBuffers) || opts.maxBuffers < 1) {
    throw new RangeError(`maxBuffers must be an integer >= 1, got ${opts.maxBuffers}`);
  }
  if (opts.expectedSize !== undefined && opts.maxSize !== undefined && opts.expectedSize > opts.maxSize) {
    throw new S3Error('EntityTooLarge', { ProposedSize: opts.expectedSize, MaxSizeAllowed: opts.maxSize });
  }
  opts.signal?.throwIfAborted();

  const algorithms = [...new Set(opts.checksums ?? [])];
  if (opts.expectedSize !== undefined && opts.expectedSize > 0 && opts.inlineMax !== undefined && opts.expectedSize <= opts.inlineMax) {
    return readInline(body, opts, opts.expectedSize, algorithms);
  }
  // Fed whole buffers in order at dispatch: the same bytes in the same order as the body, but
  // large uploads hash in a worker while this thread goes on reading.
  const objectHash = opts.hashPool ? opts.hashPool.objectHasher(algorithms) : inlineObjectHasher(algorithms);
  const chunks: WrittenChunk[] = [];
  // Successful puts in completion order; on failure these are what we must undo.
  const written: Array<ChunkRef & { created: boolean }> = [];
  const inflight = new Set<Promise<void>>();
  let held = 0;
  /** Set when the whole body was one small buffer stored inline. */
  let inlineDigest: ObjectDigest | undefined;

  // First error wins. `stop` lets every wait (body pull, buffer, write slot) bail out at once.
  let failure: { error: unknown } | undefined;
  const stop = new AbortController();
  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    stop.abort(error);
  };
  const onAbort = () => fail(opts.signal!.reason ?? new DOMException('The operation was aborted', 'AbortError'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Every wait also ends at the first failure. Not Promise.race([p, failed]): each race leaves a
  // reaction on the long-pending `failed` that keeps p's value (a body piece) reachable until the
  // upload ends, so a 1 GiB PUT held ~1 GiB. This listener goes away as soon as p settles.
  const race = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure.error);
      const onFail = () => reject(failure!.error);
      stop.signal.addEventListener('abort', onFail, { once: true });
      p.then(
        (v) => {
          stop.signal.removeEventListener('abort', onFail);
          resolve(v);
        },
        (e) => {
          stop.signal.removeEventListener('abort', onFail);
          reject(e);
        },
      );
    });

  const acquire = async (): Promise<Buffer> => {
    while (held >= opts.maxBuffers) await race(Promise.race(inflight));
    held++;
    try {
      return await pool.acquire(stop.signal);
    } catch (err) {
      held--;
      throw err;
    }
  };

  let dispatched = 0;
  const dispatch = (buf: Buffer, length: number) => {
    const index = chunks.length;
    const offset = dispatched;
    dispatched += length;
    chunks.length++;
    const data = buf.subarray(0, length);
    // Called in dispatch order, which is body order: the object hash sees the bytes in sequence.
    const hashed = objectHash.update(data);
    hashed.catch(() => undefined);
    const task = (async () => {
      try {
        const [ref] = await Promise.all([store.put(data, opts.seal), hashed]);
        written.push(ref);
        chunks[index] = { ...ref, offset };
      } catch (err) {
        fail(err);
      } finally {
        pool.release(buf);
        held--;
      }
    })();
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  };

  let current: Buffer | undefined;
  let filled = 0;
  let size = 0;
  let iterator: AsyncIterator<unknown> | undefined;
  let sinceYield = 0;
  try {
    iterator = iterate(body);
    for (;;) {
      const step = await race(iterator.next());
      if (step.done) break;
      const piece = toBuffer(step.value);
      if (piece.length === 0) continue;
      size += piece.length;
      if (opts.maxSize !== undefined && size > opts.maxSize) {
        throw new S3Error('EntityTooLarge', { MaxSizeAllowed: opts.maxSize });
      }
      if (opts.expectedSize !== undefined && size > opts.expectedSize) throw new S3Error('IncompleteBody');

      let at = 0;
      while (at < piece.length) {
        if (!current) {
          current = await acquire();
          filled = 0;
        }
        const n = piece.copy(current, filled, at);
        filled += n;
        at += n;
        if (filled === current.length) {
          dispatch(current, filled);
          current = undefined;
        }
      }
      // Copied into the pool: the socket's buffer is garbage now (see transient-memory.ts).
      dropped(piece.length);
      sinceYield += piece.length;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await nextTurn();
      }
    }
    if (opts.expectedSize !== undefined && size < opts.expectedSize) throw new S3Error('IncompleteBody');
    if (current) {
      const last = current;
      current = undefined;
      if (filled > 0 && dispatched === 0 && opts.inlineMax !== undefined && filled <= opts.inlineMax) {
        // The whole body, and small: copied out of the pool buffer, which goes back at once.
        const data = Buffer.from(last.subarray(0, filled));
        pool.release(last);
        held--;
        // The object's digests come from this one buffer too: objectHash is never fed.
        const inline = inlineChunk(data, algorithms, store, opts.seal);
        inlineDigest = inline.digest;
        written.push(inline.chunk);
        chunks.push(inline.chunk);
        dispatched = data.length;
      } else if (filled > 0) dispatch(last, filled);
      else {
        pool.release(last);
        held--;
      }
    }
    await race(Promise.all(inflight));
  } catch (err) {
    fail(err);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  if (!failure) {
    try {
      const { md5, checksums } = inlineDigest ?? (await objectHash.digest());
      return { size, md5, checksums, chunks };
    } catch (err) {
      fail(err);
    }
  }
  objectHash.close();

  // Undo: stop pulling (without destroying the body; the HTTP layer decides what to do with
  // the connection), let in-flight writes land, give buffers back, drop what we created.
  void Promise.resolve(iterator?.return?.()).catch(() => undefined);
  if (current) {
    pool.release(current);
    held--;
  }
  await Promise.allSettled([...inflight]);
  for (const ref of written) store.unpin(ref.hash);
  await store.discard(written, opts.isReferenced ?? (async () => false)).catch(() => undefined);
  // Set by the load loop or the digest above (TS cannot see through the fail() closure).
  throw (failure as unknown as { error: unknown }).error;
}

/**
 * A body whose declared length makes it an inline chunk (most small PUTs): read straight into a
 * buffer of that length, with no pool buffer, no write slots and no object hasher. The general
 * path below took a pool buffer (chunk-sized) to copy 4 KiB through, so at most `pool` small
 * PUTs could be reading at once, and its per-upload machinery (abort controller, races, hasher)
 * cost more event-loop time than the bytes. Memory stays bounded: at most inlineMax per request
 * (32 KiB by default), which the general path also copied out for the commit.
 */
async function readInline(body: AsyncIterable<Buffer> | NodeJS.ReadableStream, opts: WriteOptions, size: number, algorithms: ChecksumAlgorithm[]): Promise<WriteResult> {
  const data = Buffer.allocUnsafe(size);
  let filled = 0;
  const iterator = iterate(body);
  // One listener for the whole read: a client that disconnects ends the wait at once.
  let onAbort: (() => void) | undefined;
  const aborted = opts.signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(opts.signal!.reason ?? new DOMException('The operation was aborted', 'AbortError'));
        opts.signal!.addEventListener('abort', onAbort, { once: true });
      })
    : undefined;
  aborted?.catch(() => undefined);
  try {
    for (;;) {
      const next = iterator.next();
      const step = aborted ? await Promise.race([next, aborted]) : await next;
      if (step.done) break;
      const piece = toBuffer(step.value);
      if (filled + piece.length > size) throw new S3Error('IncompleteBody');
      piece.copy(data, filled);
      filled += piece.length;
      // Copied out: the socket's buffer is garbage now (see transient-memory.ts).
      dropped(piece.length);
    }
    if (filled < size) throw new S3Error('IncompleteBody');
  } catch (err) {
    // Stop pulling without destroying the body: the HTTP layer decides about the connection.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) opts.signal!.removeEventListener('abort', onAbort);
  }
  const { chunk, digest } = inlineChunk(data, algorithms, opts.store, opts.seal);
  return { size, md5: digest.md5, checksums: digest.checksums, chunks: [chunk] };
}

/**
 * A whole body kept as one inline chunk: its chunk and object digests in one pass, and pinned
 * like a stored chunk, so the caller settles both kinds the same way.
 */
function inlineChunk(data: Buffer, algorithms: ChecksumAlgorithm[], store: ChunkStore, spec?: SealSpec): { chunk: WrittenChunk; digest: ObjectDigest } {
  const digest = wholeDigestInline(data, algorithms);
  if (spec) {
    // Sealed in the row too: no plaintext in cairn.db. Small, so on this thread.
    const stored = seal(data, spec);
    const named = chunkDigestInline(stored);
    store.pin(named.hash);
    return { chunk: { hash: named.hash, size: data.length, storedSize: stored.length, crc32c: named.crc32c, data: stored, created: true, offset: 0 }, digest };
  }
  store.pin(digest.hash);
  return { chunk: { hash: digest.hash, size: data.length, crc32c: digest.crc32c, data, created: true, offset: 0 }, digest };
}

function iterate(body: AsyncIterable<unknown> | NodeJS.ReadableStream): AsyncIterator<unknown> {
  const readable = body as Partial<Readable>;
  // Readable's default iterator destroys the stream on early exit, which for an HTTP
  // request kills the socket before the error response can be sent.
  if (typeof readable.iterator === 'function') {
    return readable.iterator.call(body, { destroyOnReturn: false })[Symbol.asyncIterator]();
  }
  return (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  throw new TypeError(`body yielded a ${typeof value}, expected bytes`);
}
