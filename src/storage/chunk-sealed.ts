// Reading sealed (encrypted) chunks for ChunkStore: a chunk's plaintext in pieces, decrypted as
// they are read, and its header alone. The cipher is chunk-cipher.ts; docs/encryption.md.
import { crc32c } from '../s3/checksums.js';
import type { ChunkBackend } from './backend.js';
import { decipherFor, MAX_HEADER, open as openSealed, parseHeader, TAG_BYTES, type ChunkHeader, type OpenKeys } from './chunk-cipher.js';
import { verifiedInline, type ChunkRef } from './chunk-store.js';

/**
 * readPieces of a sealed chunk: its plaintext in pieces, decrypted as they are read. The GCM
 * tag (read first) and the stored bytes' size and CRC32C are checked before the last piece is
 * yielded: the generator throws then instead of giving it, so a tampered chunk never leaves whole.
 *
 * The stored bytes' CRC32C is still checked, though the tag catches any change to a chunk's own
 * bytes: the tag does not bind a chunk to its name. A whole other sealed chunk of the same size
 * under the same key (a file restored or renamed to the wrong hash) opens cleanly; only the row's
 * CRC32C tells it is not this chunk. It is cheap (aws-crt's CRC32C runs at >10 GB/s).
 *
 * The disk read of the next piece is in flight while this one decrypts (two scratch buffers,
 * alternating), as the plain path's reads overlap the socket's sends.
 *
 * Each piece is a new buffer: a decipher writes its own output, and copying it into the reader's
 * recycled buffers (in 64 KiB steps or whole) measured no fewer GCs and no more MiB/s, as V8 counts
 * the decipher's output as external memory all the same (bench/results/encryption-read.md).
 */
export async function* readSealed(backend: ChunkBackend, ref: ChunkRef, pieceSize: number, keys: OpenKeys): AsyncGenerator<Buffer, void, undefined> {
  const stored = ref.storedSize ?? ref.size;
  if (ref.data) {
    const plain = openSealed(verifiedInline(ref), keys, ref.hash);
    for (let pos = 0; pos < plain.length; pos += pieceSize) yield plain.subarray(pos, Math.min(plain.length, pos + pieceSize));
    return;
  }
  const corrupt = (why = '') => new Error(`chunk corrupt: ${ref.hash}${why}`);
  const file = await backend.open(ref.hash);
  let ahead: Promise<void> | undefined;
  try {
    if (file.size !== stored || stored < TAG_BYTES) throw corrupt();
    const readAt = async (into: Buffer, position: number): Promise<void> => {
      for (let got = 0; got < into.length; ) {
        const { bytesRead } = await file.read(into, got, into.length - got, position + got);
        if (bytesRead === 0) throw corrupt();
        got += bytesRead;
      }
    };
    const head = Buffer.allocUnsafe(Math.min(stored, MAX_HEADER));
    await readAt(head, 0);
    const header = parseHeader(head, ref.hash);
    const end = stored - TAG_BYTES;
    if (end < header.length || end - header.length !== ref.size) throw corrupt();
    const tag = Buffer.allocUnsafe(TAG_BYTES);
    await readAt(tag, end);
    const decipher = decipherFor(header, head, keys, ref.hash);
    decipher.setAuthTag(tag);
    const bytes = Math.min(pieceSize, Math.max(1, ref.size));
    const scratch = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
    const finish = (storedCrc: number) => {
      try {
        decipher.final();
      } catch {
        throw corrupt(' (authentication failed)');
      }
      if (storedCrc !== ref.crc32c >>> 0) throw corrupt();
    };
    let crc = crc32c(head.subarray(0, header.length));
    // A read failing while the consumer holds a piece must not be an unhandled rejection; it
    // still throws where it is awaited. A buffer is read into again only once decrypted from.
    const readAhead = (pos: number, i: number) => {
      const into = scratch[i % 2]!.subarray(0, Math.min(bytes, end - pos));
      const p = readAt(into, pos);
      p.catch(() => undefined);
      return { into, p };
    };
    let next = readAhead(header.length, 0);
    for (let pos = header.length, i = 0; pos < end; i++) {
      const piece = next.into;
      await (ahead = next.p);
      pos += piece.length;
      if (pos < end) next = readAhead(pos, i + 1);
      ahead = pos < end ? next.p : undefined;
      crc = crc32c(piece, crc);
      const plain = decipher.update(piece);
      if (pos >= end) finish(crc32c(tag, crc));
      yield plain;
    }
    if (ref.size === 0) finish(crc32c(tag, crc));
  } finally {
    // A consumer that stops early: the read in flight must land before the file closes.
    await ahead?.catch(() => undefined);
    await file.close();
  }
}

/** The header of a sealed chunk (its mode and server key id), read without its body. */
export async function sealedHeader(backend: ChunkBackend, ref: ChunkRef): Promise<ChunkHeader> {
  if (ref.data) return parseHeader(ref.data.subarray(0, MAX_HEADER), ref.hash);
  const file = await backend.open(ref.hash);
  try {
    const head = Buffer.allocUnsafe(Math.min(file.size, MAX_HEADER));
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return parseHeader(head.subarray(0, bytesRead), ref.hash);
  } finally {
    await file.close();
  }
}
