// Where chunk bytes live. ChunkStore (pins, dedup, the write pipeline's hashing) sits on top of
// this seam; a backend only stores and returns bytes under their SHA-256 name. The local folder
// (local-disk.ts) is the first implementation; a shared folder or another S3 store would be the
// next ones, and each runs the contract suite in test/unit/chunk-backend-contract.test.ts.

export type Durability = 'fsync' | 'relaxed';

export interface ChunkStat {
  size: number;
  /** Last write or touch(): how another process's GC tells a chunk in use from an orphan. */
  mtimeMs: number;
}

/** An open chunk, read piece by piece into buffers the caller owns (no copy in between). */
export interface ChunkFile {
  /** The stored size, taken when the chunk was opened. */
  readonly size: number;
  read(into: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * Byte-level storage of content-addressed chunks. `hash` is always 64 lowercase hex digits (the
 * SHA-256 of the bytes); anything else is rejected with "invalid chunk hash", so no caller-made
 * text reaches a path or a key. A backend does not hash or verify: ChunkStore checks sizes and
 * CRC32C on every read and the SHA-256 on scrub.
 *
 * The durability contract, which the metadata commit relies on ("200 means durable"):
 * - `fsync`: once put() resolves, the bytes AND their name survive kill -9 and power loss. The
 *   local disk does tmp file -> write -> fdatasync -> rename into place -> fsync of the directory
 *   (and of new shard directories' parents). A put that rejects leaves no partial chunk under the
 *   name: at worst the name keeps an earlier complete copy, or a copy that reuse() refuses.
 * - `relaxed`: once put() resolves, other readers in any process see the whole chunk (never a
 *   prefix: the rename is atomic), and it survives a crash of this process; an OS crash or
 *   power loss may lose it or leave a wrong-size file, which reads report as corrupt and the
 *   next put of the same bytes replaces (reuse() returns false for a wrong size).
 * - put() of a hash that is already stored is idempotent: it resolves, and the name then holds
 *   these bytes (a fresh copy replaces the old one atomically; readers see one or the other).
 *   Concurrent puts of the same hash are allowed and all resolve with one complete copy stored.
 * - delete() of a missing chunk resolves false; it never throws for absence.
 * - get()/open() of a missing chunk reject with an error whose message starts "chunk missing:".
 * - list() yields every chunk whose put resolved before list() was called and that was not
 *   deleted meanwhile, each hash at most once, never a half-written one. Chunks put or deleted
 *   while it runs may or may not appear. No order is promised.
 * - Nothing here coordinates puts with deletes of the same hash: ChunkStore does that (pins, and
 *   one operation per hash in this process); across processes, touch() and deleteIfStale() do.
 */
export interface ChunkBackend {
  readonly durability: Durability;
  /** Prepares the store and drops leftovers of writes that never finished (crash). */
  init(): Promise<{ sweptTmpFiles: number }>;
  /** Stores `data` as chunk `hash` (the caller hashed it); see the contract above. */
  put(hash: string, data: Buffer): Promise<void>;
  /**
   * True when a trusted copy of exactly `size` bytes is stored, which put() then need not write
   * again; also marks it just used, as touch() does. False when missing, of another size, or not
   * known to be durable (its directory fsync failed here).
   */
  reuse(hash: string, size: number): Promise<boolean>;
  /** The whole chunk, or `length` bytes from `offset` (fewer if the chunk ends first). */
  get(hash: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /** Opens the chunk for reads into the caller's buffers; the caller closes it. */
  open(hash: string): Promise<ChunkFile>;
  /** Size and age, or undefined when not stored. */
  stat(hash: string): Promise<ChunkStat | undefined>;
  /** Marks the chunk just used (mtime); false when not stored. */
  touch(hash: string): Promise<boolean>;
  /** Removes the chunk; false when it was not there. Durable like put() under `fsync`. */
  delete(hash: string): Promise<boolean>;
  /**
   * GC's removal, safe against another process reusing the chunk meanwhile: removes it only if
   * it is older than `graceMs` and `stillOrphan()` (asked after the chunk was taken out of
   * reach of reuse()) still says so; otherwise the chunk stays as it was.
   */
  deleteIfStale(hash: string, opts: { graceMs: number; stillOrphan: () => Promise<boolean> }): Promise<{ removed: boolean; size: number }>;
  /** Scrub: moves a bad chunk out of its name into `dir`, keeping it for inspection; returns where. */
  quarantine(hash: string, dir: string): Promise<string>;
  /** Every stored chunk's hash (see the contract above). */
  list(): AsyncIterable<string>;
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function checkHash(hash: string): void {
  if (!HASH_RE.test(hash)) throw new Error(`invalid chunk hash: ${JSON.stringify(hash)}`);
}

export function isHash(name: string): boolean {
  return HASH_RE.test(name);
}

export function chunkMissing(hash: string, cause?: unknown): Error {
  return new Error(`chunk missing: ${hash}`, { cause });
}
