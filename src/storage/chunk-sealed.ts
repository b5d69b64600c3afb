// Reading sealed (encrypted) chunks for ChunkStore: a chunk's plaintext in pieces, decrypted as
// they are read, and its header alone. The cipher is chunk-cipher.ts; docs/encryption.md.
import type { DecipherGCM } from 'node:crypto';
import { crc32c } from '../s3/checksums.js';
import type { ChunkBackend } from './backend.js';
import { decipherFor, MAX_HEADER, open as openSealed, parseHeader, TAG_BYTES, type ChunkHeader, type OpenKeys } from './chunk-cipher.js';
import { verifiedInline, type ChunkRef } from './chunk-store.js';

/**
 * readPieces of a sealed chunk: its plaintext in pieces, decrypted as they are read. The GCM
 * tag (read first) and the stored bytes' size and CRC32C are checked before the last piece is
 * yielded: the generator throws then instead of giving it, so a consumer that holds back its last piece never passes on a tampered
 * chunk whole. Each piece is a new buffer (a decipher writes its own output).
 *
 * The stored bytes' CRC32C is still checked, though the tag catches any change to a chunk's own
 * bytes: the tag does not bind a chunk to its name. A whole other sealed chunk of the same size
 * under the same key (a file restored or renamed to the wrong hash) opens cleanly; only the row's
 * CRC32C tells it is not this chunk. It costs ~4% of the sealed read (aws-crt's CRC32C runs at
 * >10 GB/s; bench/results/encryption-read.md).
 *
 * The disk read of the next piece is in flight while this one decrypts (two scratch buffers,
 * alternating), as the plain path's reads overlap the socket's sends.
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
    const finish = (d: DecipherGCM, storedCrc: number) => {
      try {
        d.final();
      } catch {
        throw corrupt(' (authentication failed)');
      }
      if (storedCrc !== ref.crc32c >>> 0) throw corrupt();
    };
    const decipher = decipherFor(header, head, keys, ref.hash);
    decipher.setAuthTag(tag);
    let crc = crc32c(head.subarray(0, header.length));
    const bytes = Math.min(pieceSize, Math.max(1, ref.size));
    // Decrypted from before the next read lands in it: update() has copied it out by then.
    const scratch = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
    const pieceAt = (pos: number, i: number) => scratch[i % 2]!.subarray(0, Math.min(bytes, end - pos));
    // Handled at once: a read failing while the consumer holds a piece must not be "unhandled";
    // it still throws where it is awaited.
    const readAhead = (into: Buffer, position: number) => {
      const p = readAt(into, position);
      p.catch(() => undefined);
      return p;
    };
    let piece = pieceAt(header.length, 0);
    ahead = readAhead(piece, header.length);
    for (let pos = header.length, i = 0; pos < end; i++) {
      await ahead;
      ahead = undefined;
      const next = pos + piece.length;
      const nextPiece = next < end ? pieceAt(next, i + 1) : undefined;
      if (nextPiece) ahead = readAhead(nextPiece, next);
      crc = crc32c(piece, crc);
      const plain = decipher.update(piece);
      if (!nextPiece) finish(decipher, crc32c(tag, crc));
      yield plain;
      pos = next;
      piece = nextPiece!;
    }
    if (ref.size === 0) finish(decipher, crc32c(tag, crc));
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
