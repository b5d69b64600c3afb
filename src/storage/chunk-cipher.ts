// Encryption of one chunk at rest: AES-256-GCM, the whole chunk sealed under one nonce. A sealed
// chunk's stored bytes are a header (magic, version, mode, nonce, server key id), the ciphertext
// and the 16-byte tag; the header is the GCM additional data, so a flipped byte anywhere fails
// the tag. The chunk is still named by the SHA-256 of its stored bytes (scrub re-hashes it with
// no key). Pure functions: the hash workers (hash-worker.ts) and the main thread share them.
// Design, dedup and rotation: docs/encryption.md.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, type DecipherGCM } from 'node:crypto';

const MAGIC = Buffer.from('CRNE', 'latin1');
const VERSION = 1;
/** magic(4) version(1) mode(1) key id length(1) nonce(12), then the key id. */
const FIXED = 19;
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
export const MAX_KEY_ID = 64;
/** The most a sealed chunk stores beyond its plaintext. */
export const MAX_OVERHEAD = FIXED + MAX_KEY_ID + TAG_BYTES;
/** Enough of a chunk's first bytes to hold any header. */
export const MAX_HEADER = FIXED + MAX_KEY_ID;

/** 1: SSE-S3 (a server key, synthetic nonce); 2: SSE-C (the client's key, random nonce). */
export type SealMode = 1 | 2;

/**
 * What sealing a chunk needs, as plain data (it crosses to a worker thread). SSE-S3: the data key
 * and nonce key derived from the server key named `keyId`. SSE-C: the client's key; each chunk's
 * key is derived from it and the chunk's random nonce.
 */
export type SealSpec =
  | { mode: 1; keyId: string; dataKey: Uint8Array; nonceKey: Uint8Array }
  | { mode: 2; customerKey: Uint8Array };

export interface ChunkHeader {
  mode: SealMode;
  keyId: string;
  nonce: Buffer;
  /** Bytes of the header: the ciphertext starts here. */
  length: number;
}

/** The data and nonce keys of a server key (HKDF-SHA256; distinct labels keep them apart). */
export function serverKeys(keyId: string, key: Buffer): Extract<SealSpec, { mode: 1 }> {
  if (Buffer.byteLength(keyId) > MAX_KEY_ID) throw new Error(`encryption key id longer than ${MAX_KEY_ID} bytes: ${keyId}`);
  return {
    mode: 1,
    keyId,
    dataKey: new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), 'cairn sse-s3 data v1', 32)),
    nonceKey: new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), 'cairn sse-s3 nonce v1', 32)),
  };
}

/** An SSE-C chunk's key: the client's key bound to this chunk's nonce. */
function customerChunkKey(customerKey: Uint8Array, nonce: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', customerKey, nonce, 'cairn sse-c chunk v1', 32));
}

export function sealedSize(plainSize: number, spec: SealSpec): number {
  return FIXED + (spec.mode === 1 ? Buffer.byteLength(spec.keyId) : 0) + plainSize + TAG_BYTES;
}

function writeHeader(out: Buffer, mode: SealMode, nonce: Buffer, keyId: string): number {
  MAGIC.copy(out, 0);
  out[4] = VERSION;
  out[5] = mode;
  const idLen = out.write(keyId, FIXED, 'utf8');
  out[6] = idLen;
  nonce.copy(out, 7);
  return FIXED + idLen;
}

/**
 * Seals `plain` into `out` (at least sealedSize bytes); returns the bytes written. SSE-S3's nonce
 * is an HMAC of the plaintext (a synthetic IV): equal chunks under one server key seal to equal
 * bytes, so they still dedup; SSE-C's is random, so its chunks never equal any other.
 */
export function sealInto(plain: Buffer, out: Buffer, spec: SealSpec): number {
  const nonce = spec.mode === 1 ? createHmac('sha256', spec.nonceKey).update(plain).digest().subarray(0, NONCE_BYTES) : randomBytes(NONCE_BYTES);
  const key = spec.mode === 1 ? spec.dataKey : customerChunkKey(spec.customerKey, nonce);
  const headerLen = writeHeader(out, spec.mode, nonce, spec.mode === 1 ? spec.keyId : '');
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(out.subarray(0, headerLen));
  // update() allocates its output; copied into place, the chunk-sized temporary dies at once.
  let at = headerLen;
  at += cipher.update(plain).copy(out, at);
  at += cipher.final().copy(out, at);
  at += cipher.getAuthTag().copy(out, at);
  return at;
}

export function seal(plain: Buffer, spec: SealSpec): Buffer {
  const out = Buffer.allocUnsafe(sealedSize(plain.length, spec));
  return out.subarray(0, sealInto(plain, out, spec));
}

/** Parses the header at the start of a sealed chunk; throws "chunk corrupt" when it is not one. */
export function parseHeader(head: Buffer, hash: string): ChunkHeader {
  const bad = () => new Error(`chunk corrupt: ${hash} (not a sealed chunk)`);
  if (head.length < FIXED || !head.subarray(0, 4).equals(MAGIC) || head[4] !== VERSION) throw bad();
  const mode = head[5];
  const idLen = head[6]!;
  if ((mode !== 1 && mode !== 2) || idLen > MAX_KEY_ID || head.length < FIXED + idLen) throw bad();
  return { mode, keyId: head.toString('utf8', FIXED, FIXED + idLen), nonce: Buffer.from(head.subarray(7, 7 + NONCE_BYTES)), length: FIXED + idLen };
}

/** How a read finds the key of a sealed chunk. */
export interface OpenKeys {
  /** The data key of server key `keyId`; throws a clear error when this server does not have it. */
  server?: (keyId: string) => Uint8Array;
  /** The client's key of an SSE-C object. */
  customerKey?: Uint8Array;
}

/** A GCM decipher for a chunk with this header, the header as its additional data. */
export function decipherFor(header: ChunkHeader, headerBytes: Buffer, keys: OpenKeys, hash: string): DecipherGCM {
  let key: Uint8Array;
  if (header.mode === 1) {
    if (!keys.server) throw new Error(`chunk ${hash} is sealed under server key "${header.keyId}" but the object is not SSE-S3`);
    key = keys.server(header.keyId);
  } else {
    if (!keys.customerKey) throw new Error(`chunk ${hash} is sealed under a customer key but none was given`);
    key = customerChunkKey(keys.customerKey, header.nonce);
  }
  const d = createDecipheriv('aes-256-gcm', key, header.nonce);
  d.setAAD(headerBytes.subarray(0, header.length));
  return d;
}

/** Opens a whole sealed chunk (inline chunks, tests); throws "chunk corrupt" when the tag fails. */
export function open(stored: Buffer, keys: OpenKeys, hash: string): Buffer {
  const header = parseHeader(stored.subarray(0, Math.min(stored.length, MAX_HEADER)), hash);
  if (stored.length < header.length + TAG_BYTES) throw new Error(`chunk corrupt: ${hash}`);
  const d = decipherFor(header, stored, keys, hash);
  d.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
  const body = d.update(stored.subarray(header.length, stored.length - TAG_BYTES));
  try {
    d.final();
  } catch {
    throw new Error(`chunk corrupt: ${hash} (authentication failed)`);
  }
  return body;
}
