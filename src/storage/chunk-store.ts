// Content-addressed chunks on top of a ChunkBackend (backend.ts; the local folder is
// local-disk.ts): hashing, dedup, and the pins that keep removals off chunks in use.
// Pins guard the window between "the chunk exists" and "a committed DB row references it":
// garbage collection may only delete a chunk nobody pins, so a put that dedups onto an
// existing chunk can never have it vanish before its metadata commits.
// Pins live in this process only. A GC in another process (the CLI on a live data dir) is
// kept off in-flight chunks by their age instead: a put that dedups bumps the chunk's mtime,
// touchPinned() keeps long uploads' chunks fresh, and collectOrphan() only removes chunks
// older than its grace period, deciding after moving the chunk aside (see deleteIfStale).
import { webcrypto } from 'node:crypto';
import { crc32c } from '../s3/checksums.js';
import type { ChunkBackend, Durability } from './backend.js';
import { sealInline, type ChunkDigest, type HashPool } from './hash-pool.js';
import type { BufferPool } from './pool.js';
import { sealedSize, type ChunkHeader, type OpenKeys, type SealSpec } from './chunk-cipher.js';
import { readSealed, sealedHeader } from './chunk-sealed.js';
import { LocalDiskBackend, type ChunkFsOps } from './local-disk.js';
import { SharedChunks, type SharedChunksOptions } from './shared-chunks.js';

export type { Durability } from './backend.js';
export { ASIDE_RE, defaultFsOps, type ChunkFsOps } from './local-disk.js';

export interface ChunkRef {
  hash: string /* sha256 hex */;
  /** Plaintext bytes (what the chunk adds to an object). */
  size: number;
  /** Stored bytes when not `size`: a sealed chunk's header + ciphertext + tag (chunk-cipher.ts). */
  storedSize?: number;
  /** CRC32C of the stored bytes. */
  crc32c: number;
  /** An inline chunk's bytes (kept in its SQLite row, no file). */
  data?: Buffer | null;
}

/** An inline chunk's bytes, checked like a file's (size + CRC32C): bytes in a row can rot too. */
export function verifiedInline(ref: ChunkRef): Buffer {
  const data = ref.data;
  if (!data || data.length !== (ref.storedSize ?? ref.size) || crc32c(data) !== ref.crc32c >>> 0) throw new Error(`chunk corrupt: ${ref.hash}`);
  return data;
}

/** Buffers sealed chunks are written into (one per chunk in flight): see sealBuffers below. */
/**
 * `shared`: several gateways use this chunk storage (chunks on S3, or metadata on PostgreSQL):
 * claims in the metadata engine guard chunks in use, and freed chunks are left to the collector
 * (shared-chunks.ts). Without it (one process on SQLite) removals happen inline as before.
 */
type SealOptions = { sealBuffers?: BufferPool; shared?: SharedChunksOptions };
export type ChunkStoreOptions =
  | ({ dataDir: string; durability: Durability; fsOps?: Partial<ChunkFsOps>; hashPool?: HashPool; /** Names this gateway's temp folder (default: random). */ gatewayId?: string } & SealOptions)
  | ({ backend: ChunkBackend; hashPool?: HashPool } & SealOptions);

export class ChunkStore {
  readonly backend: ChunkBackend;
  readonly durability: Durability;
  private readonly hashPool?: HashPool;
  private readonly pins = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<boolean>>();
  // Chunks being written by this process, until the backend's put resolved (under fsync: durable):
  // a put of the same bytes waits rather than trusting a chunk that is in place but not yet durable.
  private readonly writing = new Map<string, Promise<void>>();
  // Pinned chunks whose removal removeIfUnpinned skipped for the pin: the removal then falls to
  // the pinner (receive.ts settle), who checks these only. Cleared with the last pin.
  private readonly skipped = new Set<string>();

  /**
   * Where a chunk's ciphertext goes before it is stored: pool buffers of chunk size + the cipher's
   * overhead, as many as the write pool has (each chunk in flight holds one write buffer, so it
   * never waits for more than one of these). Without it (CLI, tests) each seal allocates.
   */
  readonly sealBuffers?: BufferPool;
  /** Set in shared mode (see ChunkStoreOptions). */
  readonly shared?: SharedChunks;

  constructor(opts: ChunkStoreOptions) {
    this.hashPool = opts.hashPool;
    if (opts.shared) this.shared = new SharedChunks(opts.shared);
    this.sealBuffers = opts.sealBuffers;
    this.backend = 'backend' in opts ? opts.backend : new LocalDiskBackend(opts);
    this.durability = this.backend.durability;
  }

  init(): Promise<{ sweptTmpFiles: number }> {
    return this.backend.init();
  }

  // GC (gc.ts) still walks the local folder itself: these give it the folder's layout. They go
  // once GC iterates backend.list(); until then GC needs the local-disk backend.
  private get local(): LocalDiskBackend {
    if (this.backend instanceof LocalDiskBackend) return this.backend;
    throw new Error('this needs the local-disk chunk backend');
  }
  get chunksDir(): string {
    return this.local.chunksDir;
  }
  get tmpDir(): string {
    return this.local.tmpDir;
  }
  chunkPath(hash: string): string {
    return this.local.chunkPath(hash);
  }
  /** Whether this process is writing tmp/<gatewayId>/<name> right now. */
  isTmpInFlight(name: string): boolean {
    return this.local.isTmpInFlight(name);
  }
  /** Temp files of dead writes (local folder only; other backends write no temp objects). */
  async sweepTmp(graceMs: number, dryRun = false): Promise<{ files: number; bytes: number }> {
    return this.backend instanceof LocalDiskBackend ? this.backend.sweepTmp(graceMs, dryRun) : { files: 0, bytes: 0 };
  }
  /** See LocalDiskBackend.restoreAside (asides a crashed GC left behind). */
  restoreAside(aside: string, target: string): Promise<void> {
    return this.local.restoreAside(aside, target);
  }

  private async digest(data: Buffer): Promise<ChunkDigest> {
    // Pool buffers are hashed by a worker in place. Without a pool, webcrypto still keeps the
    // work off the event loop (the libuv pool), at the price of a copy of the chunk per job.
    if (this.hashPool) return this.hashPool.chunkDigest(data);
    const digest = await webcrypto.subtle.digest('SHA-256', data);
    return { hash: Buffer.from(digest).toString('hex'), crc32c: crc32c(data) };
  }

  async put(data: Buffer, spec?: SealSpec): Promise<ChunkRef & { created: boolean }> {
    if (spec) return this.putSealed(data, spec);
    const { hash, crc32c: crc } = await this.digest(data);
    return this.store({ hash, size: data.length, crc32c: crc }, data);
  }

  /** Seals `plain` (on a hash thread when it is large) and stores the sealed bytes. */
  private async putSealed(plain: Buffer, spec: SealSpec): Promise<ChunkRef & { created: boolean }> {
    const need = sealedSize(plain.length, spec);
    const pooled = this.sealBuffers && need <= this.sealBuffers.bufferSize ? await this.sealBuffers.acquire() : undefined;
    try {
      const out = pooled ?? Buffer.allocUnsafeSlow(need);
      const d = this.hashPool ? await this.hashPool.sealChunk(plain, out, spec) : sealInline(plain, out, spec);
      return await this.store({ hash: d.hash, size: plain.length, storedSize: d.length, crc32c: d.crc32c }, out.subarray(0, d.length));
    } finally {
      if (pooled) this.sealBuffers!.release(pooled);
    }
  }

  /** Stores `data` as chunk `ref` unless a trusted copy is there already; pinned on return. */
  private async store(ref: ChunkRef, data: Buffer): Promise<ChunkRef & { created: boolean }> {
    const hash = ref.hash;
    // Pin before looking: from here on no removeIfUnpinned can start for this hash.
    this.pin(hash);
    try {
      // Shared: our claim is written before we look, so no other gateway's collector takes it.
      if (this.shared) await this.shared.use(hash);
      for (;;) {
        const busy = this.deleting.get(hash) ?? this.writing.get(hash);
        if (busy) {
          await busy.catch(() => undefined);
          continue;
        }
        // A wrong-size chunk can only be the leftover of a relaxed-durability crash: replace it.
        if (await this.backend.reuse(hash, data.length)) return { ...ref, created: false };
        // Looked while another put of these bytes started writing them: wait for it instead.
        if (this.writing.has(hash) || this.deleting.has(hash)) continue;
        const write = this.backend.put(hash, data);
        const entry = write.finally(() => this.writing.delete(hash));
        entry.catch(() => undefined);
        this.writing.set(hash, entry);
        await write;
        return { ...ref, created: true };
      }
    } catch (err) {
      this.unpin(hash);
      throw err;
    }
  }

  pin(hash: string): void {
    this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
  }

  unpin(hash: string): void {
    const n = this.pins.get(hash);
    if (!n) throw new Error(`unpin of a chunk that is not pinned: ${hash}`);
    if (n === 1) {
      this.pins.delete(hash);
      this.skipped.delete(hash);
      this.shared?.unused(hash);
    } else this.pins.set(hash, n - 1);
  }

  isPinned(hash: string): boolean {
    return this.pins.has(hash);
  }

  /** Whether a removal of `hash` was skipped because it was pinned (since it was last unpinned by all). */
  removalSkipped(hash: string): boolean {
    return this.skipped.has(hash);
  }

  /** Whether this process is removing, moving aside or quarantining the chunk right now. */
  isRemoving(hash: string): boolean {
    return this.deleting.has(hash);
  }

  /**
   * Bumps the mtime of every pinned chunk. Run periodically (background jobs): an upload
   * slower than the GC grace period keeps its uncommitted chunks fresh for a GC in another process.
   */
  async touchPinned(): Promise<number> {
    let n = 0;
    if (this.backend instanceof LocalDiskBackend) await this.backend.heartbeat().catch(() => undefined);
    // Shared: the claims are what other gateways' collectors look at (and an S3 touch is a copy).
    if (this.shared) {
      n = await this.shared.renew();
      if (!(this.backend instanceof LocalDiskBackend)) return n;
      n = 0;
    }
    for (const hash of [...this.pins.keys()]) {
      if (await this.backend.touch(hash).catch(() => false)) n++;
    }
    return n;
  }

  /**
   * Deletes the chunks this upload created that no DB row references and nobody pins.
   * Unpin `refs` first: a chunk still pinned (by this caller, or by another upload that
   * produced the same bytes and has not committed yet) is kept. Getting the order wrong
   * only leaks a chunk for GC to find, never deletes one in use.
   */
  async discard(
    refs: Array<ChunkRef & { created: boolean }>,
    isReferenced: (hash: string) => Promise<boolean>,
  ): Promise<void> {
    const created = new Set(refs.filter((r) => r.created).map((r) => r.hash));
    const errors: unknown[] = [];
    for (const hash of created) {
      // Checked right before each removal: only microtasks run between isReferenced and the pin
      // check (the metadata store's promise, src/store/metadata-store.ts).
      if (await isReferenced(hash)) continue;
      try {
        await this.removeIfUnpinned(hash);
      } catch (err) {
        errors.push(err);
      }
    }
    // A leftover chunk is only wasted space (GC finds unreferenced chunks); report it anyway.
    if (errors.length > 0) throw new AggregateError(errors, 'discard: some chunk files could not be removed');
  }

  async read(ref: ChunkRef, opts: { verifyHash?: boolean } = {}): Promise<Buffer> {
    // An inline chunk is checked like a file: bytes in a row can rot on disk all the same.
    const data = ref.data ?? (await this.backend.get(ref.hash));
    if (data.length !== (ref.storedSize ?? ref.size) || crc32c(data) !== ref.crc32c >>> 0) {
      throw new Error(`chunk corrupt: ${ref.hash}`);
    }
    if (opts.verifyHash) {
      const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
      if (digest !== ref.hash) throw new Error(`chunk corrupt: ${ref.hash}`);
    }
    return data;
  }

  /**
   * A chunk's bytes in pieces of at most `pieceSize`, read as they are asked for. The size and
   * CRC32C are checked once the last piece was read: the generator throws instead of finishing
   * when they are wrong, so a consumer that holds back its last piece until the generator ends
   * never passes on all of a corrupt chunk. `take` supplies the buffer each piece is read into
   * (a reader's recycled ones); without it every piece is a new buffer.
   */
  async *readPieces(ref: ChunkRef, pieceSize: number, take?: (bytes: number) => Buffer, keys?: OpenKeys): AsyncGenerator<Buffer, void, undefined> {
    if (keys) {
      yield* readSealed(this.backend, ref, pieceSize, keys);
      return;
    }
    if (ref.data) {
      // Small and already in memory: verified whole, then handed out.
      const data = verifiedInline(ref);
      for (let pos = 0; pos < ref.size; pos += pieceSize) yield data.subarray(pos, Math.min(ref.size, pos + pieceSize));
      return;
    }
    const file = await this.backend.open(ref.hash);
    try {
      if (file.size !== (ref.storedSize ?? ref.size)) throw new Error(`chunk corrupt: ${ref.hash}`);
      let crc = 0;
      for (let pos = 0; pos < ref.size; ) {
        const want = Math.min(pieceSize, ref.size - pos);
        // Not from Node's shared slab: each piece lives until its bytes are on the socket.
        const piece = take ? take(want) : Buffer.allocUnsafeSlow(want);
        for (let got = 0; got < want; ) {
          const { bytesRead } = await file.read(piece, got, want - got, pos + got);
          if (bytesRead === 0) throw new Error(`chunk corrupt: ${ref.hash}`);
          got += bytesRead;
        }
        crc = crc32c(piece, crc);
        pos += want;
        yield piece;
      }
      if (crc !== ref.crc32c >>> 0) throw new Error(`chunk corrupt: ${ref.hash}`);
    } finally {
      await file.close();
    }
  }

  /** The header of a sealed chunk (its mode and server key id), read without its body. */
  sealedHeader(ref: ChunkRef): Promise<ChunkHeader> {
    return sealedHeader(this.backend, ref);
  }

  async exists(hash: string): Promise<boolean> {
    return (await this.backend.stat(hash)) !== undefined;
  }

  /** Pin check and registration in `deleting` happen in one synchronous step: that is the race guard. */
  removeIfUnpinned(hash: string): Promise<boolean> {
    const inProgress = this.deleting.get(hash);
    if (inProgress) return inProgress;
    if (this.pins.has(hash)) {
      this.skipped.add(hash);
      return Promise.resolve(false);
    }
    // Shared: another gateway may be streaming it; claimed as freed, the collector takes it after the grace period.
    if (this.shared) return this.shared.freed([hash]).then(() => false);
    const p = this.backend.delete(hash).finally(() => this.deleting.delete(hash));
    this.deleting.set(hash, p);
    return p;
  }

  /**
   * GC's removal of a chunk that no row references: true when it was removed.
   *
   * In this process the guard is the same as removeIfUnpinned's: the DB check (`isReferenced`,
   * with only microtasks after it, see src/store/metadata-store.ts), then the pin check and the
   * registration in `deleting` in one synchronous step; a put() arriving later waits for the
   * outcome before looking at the chunk.
   *
   * Another process (the server, when this is the CLI) has no pins we can see. Its put() of
   * the same bytes bumps the chunk's mtime before trusting it (reuse), and its touchPinned()
   * refreshes chunks held by slow uploads; the backend's deleteIfStale() checks age and row
   * again once the chunk is out of reach.
   */
  async collectOrphan(hash: string, opts: { graceMs: number; isReferenced: (hash: string) => Promise<boolean> }): Promise<{ removed: boolean; size: number }> {
    if (this.deleting.has(hash) || this.pins.has(hash) || (await opts.isReferenced(hash))) return { removed: false, size: 0 };
    if (this.deleting.has(hash) || this.pins.has(hash)) return { removed: false, size: 0 };
    const remove = () => this.backend.deleteIfStale(hash, { graceMs: opts.graceMs, stillOrphan: async () => !(await opts.isReferenced(hash)) });
    const p = this.shared ? this.shared.removing(hash, remove, { removed: false, size: 0 }) : remove();
    this.register(hash, p.then((r) => r.removed));
    return p;
  }

  /**
   * Scrub: moves a chunk that fails verification to `<dir>/<sha256>`, so a read of it
   * fails as missing and the next put of the same bytes writes a good copy (repairing every
   * object that shares the chunk). The chunk is verified again first, with puts of this hash
   * held back, so a chunk replaced since the caller's read is never moved. Returns the new path,
   * or undefined when the chunk is gone or now verifies.
   */
  async quarantine(ref: ChunkRef, dir: string): Promise<string | undefined> {
    // An inline chunk has no file to move aside: it is reported, and stays.
    if (ref.data) return undefined;
    for (let busy = this.deleting.get(ref.hash); busy; busy = this.deleting.get(ref.hash)) {
      await busy.catch(() => undefined);
    }
    const p = (async () => {
      try {
        await this.read(ref, { verifyHash: true });
        return undefined;
      } catch (err) {
        if (!/^chunk corrupt:/.test((err as Error).message)) {
          if (/^chunk missing:/.test((err as Error).message)) return undefined;
          throw err;
        }
      }
      return this.backend.quarantine(ref.hash, dir);
    })();
    this.register(ref.hash, p.then((d) => d !== undefined));
    return p;
  }

  /** Holds puts of `hash` back until `outcome` settles. The caller handles the operation's own errors. */
  private register(hash: string, outcome: Promise<boolean>): void {
    const entry = outcome.finally(() => this.deleting.delete(hash));
    // Waiters catch; this keeps a failure from also surfacing as an unhandled rejection.
    entry.catch(() => undefined);
    this.deleting.set(hash, entry);
  }
}
