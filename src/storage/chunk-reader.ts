// Streams a byte range of an object from its chunk list, in pieces of 1 MiB: a GET holds a few
// MiB whatever the chunk size, and the disk read of the next piece overlaps the send of this one.
// Every chunk is still checked whole (size + CRC32C): the last piece a chunk contributes is held
// back until the chunk verified, so a corrupt chunk errors the stream (and the HTTP layer cuts
// the connection) before the response can ever be complete: the client sees a short body, never
// a clean end with bad bytes in it.
import { Readable } from 'node:stream';
import type { ChunkRef, ChunkStore } from './chunk-store.js';
import type { OpenKeys } from './chunk-cipher.js';

type PlacedChunk = ChunkRef & { offset: number };

/** Read size on GET: large enough for disk and socket throughput, small enough to hold a few. */
export const READ_PIECE_BYTES = 1024 * 1024;

/**
 * The piece buffers of one read, handed back by its consumer once their bytes are out. Every
 * piece being a new buffer looks harmless, but a 1 GiB GET then allocates 1 GiB outside the JS
 * heap, and V8 answers that with "external memory pressure" collections: once a server had
 * taken some uploads, they ran every ~30 MiB of a GET and halved its throughput (a full
 * mark-compact each time, on the main thread and four helper threads). Read into a few reused
 * buffers instead, a GET allocates a few MiB whatever its size.
 */
export class PiecePool {
  private readonly free: ArrayBuffer[] = [];
  /** Only buffers this pool made may come back: never a caller's or an inline chunk's bytes. */
  private readonly own = new WeakSet<ArrayBuffer>();

  constructor(readonly size: number) {}

  /** A buffer of `bytes` (<= size): a returned one if there is one, else a new one. */
  take(bytes: number): Buffer {
    const reused = this.free.pop();
    if (reused) return Buffer.from(reused, 0, bytes);
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.own.add(fresh.buffer);
    return fresh.subarray(0, bytes);
  }

  /** `piece` (or any view of a buffer from take) is no longer read by anyone. */
  give(piece: Buffer): void {
    const ab = piece.buffer as ArrayBuffer;
    // A read has a few buffers out at once; the cap keeps a misbehaving consumer from growing
    // the free list, and `includes` stops a buffer given twice from being handed out twice.
    if (this.own.has(ab) && !this.free.includes(ab) && this.free.length < 8) this.free.push(ab);
  }
}

/** A read whose pieces can be given back (objectMode: each read() is one whole piece). */
export interface PieceStream extends Readable {
  /** Call once the piece's bytes were handed to the kernel; the buffer is then reused. */
  recycle(piece: Buffer): void;
}

export function isPieceStream(body: unknown): body is PieceStream {
  return body instanceof Readable && typeof (body as Partial<PieceStream>).recycle === 'function';
}

/** Bytes [start, end] inclusive; `end = start - 1` gives an empty stream (zero-length objects). */
export function readObjectRange(
  store: Pick<ChunkStore, 'readPieces'>,
  chunks: Array<PlacedChunk>,
  start: number,
  end: number,
  opts: { pieceSize?: number; keys?: OpenKeys } = {},
): Readable {
  return rangeStream(store, chunks, start, end, opts.pieceSize ?? READ_PIECE_BYTES, undefined, opts.keys);
}

/** As readObjectRange, read into recycled buffers: the consumer gives each piece back when done. */
export function readObjectPieces(
  store: Pick<ChunkStore, 'readPieces'>,
  chunks: Array<PlacedChunk>,
  start: number,
  end: number,
  opts: { pieceSize?: number; keys?: OpenKeys } = {},
): PieceStream {
  const pieceSize = opts.pieceSize ?? READ_PIECE_BYTES;
  const pool = new PiecePool(pieceSize);
  const stream = rangeStream(store, chunks, start, end, pieceSize, pool, opts.keys) as PieceStream;
  stream.recycle = (piece) => pool.give(piece);
  return stream;
}

function rangeStream(
  store: Pick<ChunkStore, 'readPieces'>,
  chunks: Array<PlacedChunk>,
  start: number,
  end: number,
  pieceSize: number,
  pool: PiecePool | undefined,
  /** The keys of an encrypted object's chunks: each is decrypted as it streams. */
  keys: OpenKeys | undefined,
): Readable {
  if (!Number.isSafeInteger(pieceSize) || pieceSize < 1) throw new RangeError(`pieceSize must be >= 1, got ${pieceSize}`);
  const total = chunks.length === 0 ? 0 : chunks[chunks.length - 1].offset + chunks[chunks.length - 1].size;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1 || end >= total) {
    throw new RangeError(`range ${start}-${end} outside object of ${total} bytes`);
  }
  const selected = end < start ? [] : chunks.slice(firstChunkAt(chunks, start), firstChunkAt(chunks, end) + 1);
  const take = pool && ((bytes: number) => pool.take(bytes));

  async function* generate(): AsyncGenerator<Buffer> {
    let expectedOffset = selected.length > 0 ? selected[0].offset : 0;
    for (const chunk of selected) {
      if (chunk.offset !== expectedOffset) throw new Error(`chunk list inconsistent at offset ${chunk.offset}`);
      expectedOffset += chunk.size;
      // The part of this chunk inside the range; the rest is still read, for the CRC.
      const from = Math.max(start - chunk.offset, 0);
      const to = Math.min(end - chunk.offset + 1, chunk.size);
      let held: Buffer | undefined;
      let pos = 0;
      for await (const piece of store.readPieces(chunk, pieceSize, take, keys)) {
        const at = pos;
        pos += piece.length;
        const a = Math.max(from, at);
        const b = Math.min(to, pos);
        if (a >= b) {
          // Read only for the CRC: nobody else saw it.
          pool?.give(piece);
          continue;
        }
        if (held) yield held;
        held = piece.subarray(a - at, b - at);
      }
      // readPieces ended without throwing: the chunk verified.
      if (held) yield held;
    }
  }

  // One piece waits in the stream while the next is read, so a GET holds about three pieces
  // (sending, buffered, held back or being read). Byte mode for plain consumers; a recycling
  // one gets each piece whole (objectMode), as its buffer must go back whole.
  return pool
    ? Readable.from(generate(), { objectMode: true, highWaterMark: 1 })
    : Readable.from(generate(), { objectMode: false, highWaterMark: pieceSize });
}

/** Index of the chunk holding byte `pos` (binary search: chunk lists are sorted by offset). */
function firstChunkAt(chunks: Array<PlacedChunk>, pos: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (chunks[mid].offset <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
