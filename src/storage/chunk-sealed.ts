// Reading sealed (encrypted) chunks for ChunkStore: a chunk's plaintext in pieces, decrypted as
// they are read, and its header alone. The cipher is chunk-cipher.ts; docs/encryption.md.
import { crc32c } from '../s3/checksums.js';
import type { ChunkBackend } from './backend.js';
import { decipherFor, MAX_HEADER, open as openSealed, parseHeader, TAG_BYTES, type ChunkHeader, type OpenKeys } from './chunk-cipher.js';
import { verifiedInline, type ChunkRef } from './chunk-store.js';

/**
 * readPieces of a sealed chunk: its plaintext in pieces, decrypted as they are read. The GCM
 * tag (read first, checked at the end) and the stored bytes' size and CRC32C are checked once
 * the last piece was read: the generator throws then instead of finishing, so a consumer that
 * holds back its last piece never passes on a tampered chunk whole. Each piece is a new buffer
 * (a decipher writes its own output).
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
  try {
    if (file.size !== stored || stored < TAG_BYTES) throw corrupt();
    const readAt = async (into: Buffer, position: number) => {
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
    let crc = crc32c(head.subarray(0, header.length));
    const scratch = Buffer.allocUnsafeSlow(Math.min(pieceSize, Math.max(1, ref.size)));
    for (let pos = header.length; pos < end; ) {
      const piece = scratch.subarray(0, Math.min(scratch.length, end - pos));
      await readAt(piece, pos);
      crc = crc32c(piece, crc);
      pos += piece.length;
      yield decipher.update(piece);
    }
    crc = crc32c(tag, crc);
    try {
      decipher.final();
    } catch {
      throw corrupt(' (authentication failed)');
    }
    if (crc !== ref.crc32c >>> 0) throw corrupt();
  } finally {
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
