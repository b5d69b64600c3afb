// Streams a byte range of an object from its chunk list. Each chunk is read whole and
// verified (size + CRC32C) before any of its bytes leave, so a client never receives
// bytes from a corrupt chunk: the stream errors instead and the HTTP layer cuts the socket.
import { Readable } from 'node:stream';
import type { ChunkRef, ChunkStore } from './chunk-store.js';

type PlacedChunk = ChunkRef & { offset: number };

/** Bytes [start, end] inclusive; `end = start - 1` gives an empty stream (zero-length objects). */
export function readObjectRange(
  store: ChunkStore,
  chunks: Array<PlacedChunk>,
  start: number,
  end: number,
  opts: { readAhead?: number } = {},
): Readable {
  const readAhead = opts.readAhead ?? 1;
  if (!Number.isSafeInteger(readAhead) || readAhead < 0) throw new RangeError(`readAhead must be >= 0, got ${readAhead}`);
  const total = chunks.length === 0 ? 0 : chunks[chunks.length - 1].offset + chunks[chunks.length - 1].size;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1 || end >= total) {
    throw new RangeError(`range ${start}-${end} outside object of ${total} bytes`);
  }
  const selected = end < start ? [] : chunks.slice(firstChunkAt(chunks, start), firstChunkAt(chunks, end) + 1);

  async function* generate(): AsyncGenerator<Buffer> {
    // Reads started ahead of need: the chunk about to be sent plus at most readAhead after it.
    const pending: Array<Promise<Buffer>> = [];
    let next = 0;
    let expectedOffset = selected.length > 0 ? selected[0].offset : 0;
    for (const chunk of selected) {
      if (chunk.offset !== expectedOffset) throw new Error(`chunk list inconsistent at offset ${chunk.offset}`);
      expectedOffset += chunk.size;
      while (pending.length < readAhead + 1 && next < selected.length) {
        const p = store.read(selected[next++]);
        // Errors surface when this chunk's turn comes, not as unhandled rejections now.
        p.catch(() => undefined);
        pending.push(p);
      }
      const data = await pending.shift()!;
      const from = Math.max(start - chunk.offset, 0);
      const to = Math.min(end - chunk.offset + 1, chunk.size);
      yield data.subarray(from, to);
    }
  }

  // Byte mode (not Readable.from's default object mode): pipes into HTTP responses as-is,
  // and the 8 MiB chunks already exceed the high-water mark so only readAhead more are held.
  return Readable.from(generate(), { objectMode: false });
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
