// Content-addressed chunk files: <dataDir>/chunks/ab/cd/<sha256>, written through tmp/.
// Pins guard the window between "the file exists" and "a committed DB row references it":
// garbage collection may only delete a chunk nobody pins, so a put that dedups onto an
// existing file can never have that file vanish before its metadata commits.
// Pins live in this process only. A GC in another process (the CLI on a live data dir) is
// kept off in-flight chunks by file mtimes instead: a put that dedups bumps the file's mtime,
// touchPinned() keeps long uploads' chunks fresh, and collectOrphan() only removes files
// older than its grace period, deciding after moving the file aside (see collectOrphan).
import { randomUUID, webcrypto } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '../s3/checksums.js';
import type { ChunkDigest, HashPool } from './hash-pool.js';

export interface ChunkRef {
  hash: string /* sha256 hex */;
  size: number;
  crc32c: number;
  /** An inline chunk's bytes (kept in its SQLite row, no file). */
  data?: Buffer | null;
}
export type Durability = 'fsync' | 'relaxed';

/** An inline chunk's bytes, checked like a file's (size + CRC32C): bytes in a row can rot too. */
export function verifiedInline(ref: ChunkRef): Buffer {
  const data = ref.data;
  if (!data || data.length !== ref.size || crc32c(data) !== ref.crc32c >>> 0) throw new Error(`chunk corrupt: ${ref.hash}`);
  return data;
}

/**
 * The calls a chunk write makes to put bytes on disk and make them durable. A test-only seam:
 * fault tests wrap them to fail with ENOSPC or EIO; the server never passes its own.
 */
export interface ChunkFsOps {
  open(file: string, flags: number, mode?: number): Promise<FileHandle>;
  write(fh: FileHandle, data: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** fdatasync of a chunk file. */
  datasync(fh: FileHandle): Promise<void>;
  /** fsync of a directory. */
  fsync(fh: FileHandle): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

export const defaultFsOps: ChunkFsOps = {
  open: (file, flags, mode) => fs.open(file, flags, mode),
  write: (fh, data, offset, length) => fh.write(data, offset, length),
  datasync: (fh) => fh.datasync(),
  fsync: (fh) => fh.sync(),
  rename: (from, to) => fs.rename(from, to),
};

const HASH_RE = /^[0-9a-f]{64}$/;
/** `<sha256>.gc-<ms>-<rand>`: a chunk file collectOrphan() has moved aside while it decides. */
export const ASIDE_RE = /^([0-9a-f]{64})\.gc-(\d+)-[0-9a-f]+$/;

export class ChunkStore {
  readonly dataDir: string;
  private readonly hashPool?: HashPool;
  readonly durability: Durability;
  readonly chunksDir: string;
  readonly tmpDir: string;
  private readonly pins = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<boolean>>();
  // tmp/ names this process is writing right now: GC must not sweep them whatever their age.
  private readonly tmpInFlight = new Set<string>();
  // Shard directories known to exist (and, under fsync, to be durable); never removed.
  private readonly dirs = new Map<string, Promise<void>>();
  // Chunks being written by this process, until their directory fsync is done: a put of the same
  // bytes waits rather than trusting a file that is renamed into place but not yet durable.
  private readonly writing = new Map<string, Promise<void>>();
  // Chunk files whose directory fsync failed after the rename: their name may not survive a
  // crash, and a later fsync succeeding says nothing about them (Linux reports a writeback error
  // once). A put of the same bytes writes them again instead of deduplicating onto them.
  private readonly untrusted = new Set<string>();
  private readonly ops: ChunkFsOps;

  constructor(opts: { dataDir: string; durability: Durability; fsOps?: Partial<ChunkFsOps>; hashPool?: HashPool }) {
    this.hashPool = opts.hashPool;
    this.dataDir = opts.dataDir;
    this.durability = opts.durability;
    this.ops = { ...defaultFsOps, ...opts.fsOps };
    this.chunksDir = path.join(opts.dataDir, 'chunks');
    this.tmpDir = path.join(opts.dataDir, 'tmp');
  }

  async init(): Promise<{ sweptTmpFiles: number }> {
    await fs.mkdir(this.chunksDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    await this.syncDir(this.dataDir);
    // Anything in tmp/ is a chunk whose write never reached its rename: no row can refer to it.
    let swept = 0;
    for (const entry of await fs.readdir(this.tmpDir, { withFileTypes: true })) {
      await fs.rm(path.join(this.tmpDir, entry.name), { recursive: true, force: true });
      swept++;
    }
    if (swept > 0) await this.syncDir(this.tmpDir);
    return { sweptTmpFiles: swept };
  }

  chunkPath(hash: string): string {
    if (!HASH_RE.test(hash)) throw new Error(`invalid chunk hash: ${JSON.stringify(hash)}`);
    return path.join(this.chunksDir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  private async digest(data: Buffer): Promise<ChunkDigest> {
    // Pool buffers are hashed by a worker in place. Without a pool, webcrypto still keeps the
    // work off the event loop (the libuv pool), at the price of a copy of the chunk per job.
    if (this.hashPool) return this.hashPool.chunkDigest(data);
    const digest = await webcrypto.subtle.digest('SHA-256', data);
    return { hash: Buffer.from(digest).toString('hex'), crc32c: crc32c(data) };
  }

  async put(data: Buffer): Promise<ChunkRef & { created: boolean }> {
    const { hash, crc32c: crc } = await this.digest(data);
    const ref: ChunkRef = { hash, size: data.length, crc32c: crc };
    // Pin before looking: from here on no removeIfUnpinned can start for this hash.
    this.pin(hash);
    try {
      const target = this.chunkPath(hash);
      for (;;) {
        const busy = this.deleting.get(hash) ?? this.writing.get(hash);
        if (busy) {
          await busy.catch(() => undefined);
          continue;
        }
        const existing = await statOrUndefined(target);
        // A wrong-size file can only be the leftover of a relaxed-durability crash: replace it.
        // Bumping the mtime is what keeps a GC in another process off this file until our row
        // commits, and it doubles as the existence check that counts: such a GC moves a file
        // aside before deciding, so if the touch failed with ENOENT we write a fresh copy.
        if (existing && existing.size === data.length && !this.untrusted.has(hash) && (await touch(target))) return { ...ref, created: false };
        // Looked while another put of these bytes started writing them: wait for it instead.
        if (this.writing.has(hash) || this.deleting.has(hash)) continue;
        const write = this.writeNew(target, hash, data);
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
    if (n === 1) this.pins.delete(hash);
    else this.pins.set(hash, n - 1);
  }

  isPinned(hash: string): boolean {
    return this.pins.has(hash);
  }

  /** Whether this process is removing, moving aside or quarantining the chunk right now. */
  isRemoving(hash: string): boolean {
    return this.deleting.has(hash);
  }

  /**
   * Bumps the mtime of every pinned chunk file. Run periodically (background jobs): an upload
   * slower than the GC grace period keeps its uncommitted chunks fresh for a GC in another process.
   */
  async touchPinned(): Promise<number> {
    let n = 0;
    for (const hash of [...this.pins.keys()]) {
      if (await touch(this.chunkPath(hash)).catch(() => false)) n++;
    }
    return n;
  }

  /** Whether this process is writing tmp/<name> right now. */
  isTmpInFlight(name: string): boolean {
    return this.tmpInFlight.has(name);
  }

  /**
   * Deletes the chunks this upload created that no DB row references and nobody pins.
   * Unpin `refs` first: a file still pinned (by this caller, or by another upload that
   * produced the same bytes and has not committed yet) is kept. Getting the order wrong
   * only leaks a file for GC to find, never deletes one in use.
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
    // A leftover file is only wasted space (GC finds unreferenced chunks); report it anyway.
    if (errors.length > 0) throw new AggregateError(errors, 'discard: some chunk files could not be removed');
  }

  async read(ref: ChunkRef, opts: { verifyHash?: boolean } = {}): Promise<Buffer> {
    let data: Buffer;
    try {
      // An inline chunk is checked like a file: bytes in a row can rot on disk all the same.
      data = ref.data ?? (await fs.readFile(this.chunkPath(ref.hash)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`chunk missing: ${ref.hash}`, { cause: err });
      }
      throw err;
    }
    if (data.length !== ref.size || crc32c(data) !== ref.crc32c >>> 0) {
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
  async *readPieces(ref: ChunkRef, pieceSize: number, take?: (bytes: number) => Buffer): AsyncGenerator<Buffer, void, undefined> {
    if (ref.data) {
      // Small and already in memory: verified whole, then handed out.
      const data = verifiedInline(ref);
      for (let pos = 0; pos < ref.size; pos += pieceSize) yield data.subarray(pos, Math.min(ref.size, pos + pieceSize));
      return;
    }
    let fh: FileHandle;
    try {
      fh = await fs.open(this.chunkPath(ref.hash), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`chunk missing: ${ref.hash}`, { cause: err });
      throw err;
    }
    try {
      if ((await fh.stat()).size !== ref.size) throw new Error(`chunk corrupt: ${ref.hash}`);
      let crc = 0;
      for (let pos = 0; pos < ref.size; ) {
        const want = Math.min(pieceSize, ref.size - pos);
        // Not from Node's shared slab: each piece lives until its bytes are on the socket.
        const piece = take ? take(want) : Buffer.allocUnsafeSlow(want);
        for (let got = 0; got < want; ) {
          const { bytesRead } = await fh.read(piece, got, want - got, pos + got);
          if (bytesRead === 0) throw new Error(`chunk corrupt: ${ref.hash}`);
          got += bytesRead;
        }
        crc = crc32c(piece, crc);
        pos += want;
        yield piece;
      }
      if (crc !== ref.crc32c >>> 0) throw new Error(`chunk corrupt: ${ref.hash}`);
    } finally {
      await fh.close();
    }
  }

  async exists(hash: string): Promise<boolean> {
    return (await statOrUndefined(this.chunkPath(hash))) !== undefined;
  }

  /** Pin check and registration in `deleting` happen in one synchronous step: that is the race guard. */
  removeIfUnpinned(hash: string): Promise<boolean> {
    const target = this.chunkPath(hash);
    const inProgress = this.deleting.get(hash);
    if (inProgress) return inProgress;
    if (this.pins.has(hash)) return Promise.resolve(false);
    const p = (async () => {
      try {
        await fs.unlink(target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
      await this.syncDir(path.dirname(target));
      return true;
    })().finally(() => this.deleting.delete(hash));
    this.deleting.set(hash, p);
    return p;
  }

  /**
   * GC's removal of a chunk file that no row references: true when it was removed.
   *
   * In this process the guard is the same as removeIfUnpinned's: the DB check (`isReferenced`,
   * with only microtasks after it, see src/store/metadata-store.ts), then the pin check and the
   * registration in `deleting` in one synchronous step; a put() arriving later waits for the
   * outcome before looking at the file.
   *
   * Another process (the server, when this is the CLI) has no pins we can see. Its put() of
   * the same bytes bumps the file's mtime before trusting the file, and its touchPinned()
   * refreshes chunks held by slow uploads. So: only a file older than `graceMs` is a
   * candidate; it is renamed aside (atomic), and only then is its mtime (same inode) and the
   * DB row checked again. A touch that landed before the rename shows up in the mtime and the
   * file goes back; a touch after the rename fails with ENOENT and that put writes a fresh copy.
   */
  async collectOrphan(hash: string, opts: { graceMs: number; isReferenced: (hash: string) => Promise<boolean> }): Promise<{ removed: boolean; size: number }> {
    const target = this.chunkPath(hash);
    if (this.deleting.has(hash) || this.pins.has(hash) || (await opts.isReferenced(hash))) return { removed: false, size: 0 };
    if (this.deleting.has(hash) || this.pins.has(hash)) return { removed: false, size: 0 };
    const p = (async () => {
      const cutoff = Date.now() - opts.graceMs;
      const before = await statOrUndefined(target);
      if (!before || before.mtimeMs > cutoff) return { removed: false, size: 0 };
      const aside = `${target}.gc-${Date.now()}-${randomUUID().slice(0, 8)}`;
      try {
        await fs.rename(target, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: false, size: 0 };
        throw err;
      }
      const after = await fs.stat(aside);
      if (after.mtimeMs > cutoff || (await opts.isReferenced(hash))) {
        await this.restoreAside(aside, target);
        return { removed: false, size: 0 };
      }
      await fs.unlink(aside);
      await this.syncDir(path.dirname(target));
      return { removed: true, size: after.size };
    })();
    this.register(hash, p.then((r) => r.removed));
    return p;
  }

  /**
   * Puts a file collectOrphan() moved aside back under its name, unless a fresh copy is
   * already there (written by a put that found the name empty). Also used by GC on asides a
   * crashed GC left behind: putting back is always safe, a true orphan is collected next time.
   */
  async restoreAside(aside: string, target: string): Promise<void> {
    try {
      await fs.link(aside, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await fs.unlink(aside);
    await this.syncDir(path.dirname(target));
  }

  /**
   * Scrub: moves a chunk file that fails verification to `<dir>/<sha256>`, so a read of it
   * fails as missing and the next put of the same bytes writes a good copy (repairing every
   * object that shares the chunk). The file is verified again first, with puts of this hash
   * held back, so a file replaced since the caller's read is never moved. Returns the new path,
   * or undefined when the file is gone or now verifies.
   */
  async quarantine(ref: ChunkRef, dir: string): Promise<string | undefined> {
    // An inline chunk has no file to move aside: it is reported, and stays.
    if (ref.data) return undefined;
    for (let busy = this.deleting.get(ref.hash); busy; busy = this.deleting.get(ref.hash)) {
      await busy.catch(() => undefined);
    }
    const target = this.chunkPath(ref.hash);
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
      await fs.mkdir(dir, { recursive: true });
      let dest = path.join(dir, ref.hash);
      if (await statOrUndefined(dest)) dest = `${dest}.${Date.now()}`;
      await fs.rename(target, dest);
      await this.syncDir(path.dirname(target));
      await this.syncDir(dir);
      return dest;
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

  private async writeNew(target: string, hash: string, data: Buffer): Promise<void> {
    // Random name: concurrent writers of the same chunk must not share a tmp file, and
    // nothing user-controlled (object keys) may reach the file system.
    const name = randomUUID();
    const tmp = path.join(this.tmpDir, name);
    this.tmpInFlight.add(name);
    let renamed = false;
    try {
      // A failed write or fdatasync is final for this chunk: the tmp file goes, the put rejects
      // and nothing retries the fsync (after a failed fsync the kernel may have dropped the dirty
      // pages, so a second fsync "succeeding" proves nothing). A later put writes afresh.
      const fh = await this.ops.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await this.ops.write(fh, data, off, data.length - off);
          off += bytesWritten;
        }
        if (this.durability === 'fsync') await this.ops.datasync(fh);
      } finally {
        await fh.close();
      }
      await this.ensureShardDir(hash);
      await this.ops.rename(tmp, target);
      renamed = true;
      // The rename is durable once the target directory is; tmp/'s stale entry (if a
      // crash loses it) is swept by init().
      try {
        await this.syncDir(path.dirname(target));
      } catch (err) {
        // The file stays (another process's committed row may already use a file of this name)
        // but is not trusted for dedup until a write of it completes here.
        this.untrusted.add(hash);
        throw err;
      }
      this.untrusted.delete(hash);
    } finally {
      if (!renamed) await fs.rm(tmp, { force: true }).catch(() => undefined);
      this.tmpInFlight.delete(name);
    }
  }

  private ensureShardDir(hash: string): Promise<void> {
    const rel = path.join(hash.slice(0, 2), hash.slice(2, 4));
    let p = this.dirs.get(rel);
    if (!p) {
      p = (async () => {
        const outer = path.join(this.chunksDir, hash.slice(0, 2));
        await fs.mkdir(path.join(this.chunksDir, rel), { recursive: true });
        // New directory entries are durable only once their parents are synced.
        await this.syncDir(outer);
        await this.syncDir(this.chunksDir);
      })();
      this.dirs.set(rel, p);
      p.catch(() => this.dirs.delete(rel));
    }
    return p;
  }

  private async syncDir(dir: string): Promise<void> {
    if (this.durability !== 'fsync') return;
    const fh = await this.ops.open(dir, fsc.O_RDONLY);
    try {
      await this.ops.fsync(fh);
    } finally {
      await fh.close();
    }
  }
}

async function statOrUndefined(p: string) {
  try {
    return await fs.stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Sets a file's times to now; false when it does not exist. */
async function touch(p: string): Promise<boolean> {
  const now = new Date();
  try {
    await fs.utimes(p, now, now);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // Not ours to touch (EPERM on a file another user wrote): the file is there, which is what
    // the caller needs; only the cross-process freshness hint is lost.
    return true;
  }
}
