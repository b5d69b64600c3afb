// Streams a byte range of an object from its chunk list, in pieces of 1 MiB: a GET holds a few
// MiB whatever the chunk size, and the disk read of the next piece overlaps the send of this one.
// Every chunk is still checked whole (size + CRC32C): the last piece a chunk contributes is held
// back until the chunk verified, so a corrupt chunk errors the stream (and the HTTP layer cuts
// the connection) before the response can ever be complete: the client sees a short body, never
// a clean end with bad bytes in it.
import { Readable } from 'node:stream';
import type { ChunkRef, ChunkStore } from './chunk-store.js';

type PlacedChunk = ChunkRef & { offset: number };

/** Read size on GET: large enough for disk and socket throughput, small enough to hold a few. */
export const READ_PIECE_BYTES = 1024 * 1024;

/** Bytes [start, end] inclusive; `end = start - 1` gives an empty stream (zero-length objects). */
export function readObjectRange(
  store: Pick<ChunkStore, 'readPieces'>,
  chunks: Array<PlacedChunk>,
  start: number,
  end: number,
  opts: { pieceSize?: number } = {},
): Readable {
  const pieceSize = opts.pieceSize ?? READ_PIECE_BYTES;
  if (!Number.isSafeInteger(pieceSize) || pieceSize < 1) throw new RangeError(`pieceSize must be >= 1, got ${pieceSize}`);
  const total = chunks.length === 0 ? 0 : chunks[chunks.length - 1].offset + chunks[chunks.length - 1].size;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1 || end >= total) {
    throw new RangeError(`range ${start}-${end} outside object of ${total} bytes`);
  }
  const selected = end < start ? [] : chunks.slice(firstChunkAt(chunks, start), firstChunkAt(chunks, end) + 1);

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
      for await (const piece of store.readPieces(chunk, pieceSize)) {
        const at = pos;
        pos += piece.length;
        const a = Math.max(from, at);
        const b = Math.min(to, pos);
        if (a >= b) continue;
        if (held) yield held;
        held = piece.subarray(a - at, b - at);
      }
      // readPieces ended without throwing: the chunk verified.
      if (held) yield held;
    }
  }

  // Byte mode with a one-piece high-water mark: one piece waits in the stream while the next is
  // read, so a GET holds about three pieces (sending, buffered, held back or being read).
  return Readable.from(generate(), { objectMode: false, highWaterMark: pieceSize });
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
