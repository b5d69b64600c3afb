// Content-addressed chunk files: <dataDir>/chunks/ab/cd/<sha256>, written through tmp/.
// Pins guard the window between "the file exists" and "a committed DB row references it":
// garbage collection may only delete a chunk nobody pins, so a put that dedups onto an
// existing file can never have that file vanish before its metadata commits.
import { randomUUID, webcrypto } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '../s3/checksums.js';

export interface ChunkRef {
  hash: string /* sha256 hex */;
  size: number;
  crc32c: number;
}
export type Durability = 'fsync' | 'relaxed';

const HASH_RE = /^[0-9a-f]{64}$/;

export class ChunkStore {
  readonly dataDir: string;
  readonly durability: Durability;
  private readonly chunksDir: string;
  private readonly tmpDir: string;
  private readonly pins = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<boolean>>();
  // Shard directories known to exist (and, under fsync, to be durable); never removed.
  private readonly dirs = new Map<string, Promise<void>>();

  constructor(opts: { dataDir: string; durability: Durability }) {
    this.dataDir = opts.dataDir;
    this.durability = opts.durability;
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

  async put(data: Buffer): Promise<ChunkRef & { created: boolean }> {
    // webcrypto digests run on the libuv pool, so several chunks hash in parallel while
    // the event loop keeps reading the body (measured 2.5 GB/s at 4 in flight vs 1.7 GB/s
    // inline). It copies the input for the job: a transient extra chunk per put in flight.
    const digest = await webcrypto.subtle.digest('SHA-256', data);
    const hash = Buffer.from(digest).toString('hex');
    const ref: ChunkRef = { hash, size: data.length, crc32c: crc32c(data) };
    // Pin before looking: from here on no removeIfUnpinned can start for this hash.
    this.pin(hash);
    try {
      const inProgress = this.deleting.get(hash);
      if (inProgress) await inProgress.catch(() => undefined);
      const target = this.chunkPath(hash);
      const existing = await statOrUndefined(target);
      // A wrong-size file can only be the leftover of a relaxed-durability crash: replace it.
      if (existing && existing.size === data.length) return { ...ref, created: false };
      await this.writeNew(target, hash, data);
      return { ...ref, created: true };
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

  /**
   * Deletes the chunks this upload created that no DB row references and nobody pins.
   * Unpin `refs` first: a file still pinned (by this caller, or by another upload that
   * produced the same bytes and has not committed yet) is kept. Getting the order wrong
   * only leaks a file for GC to find, never deletes one in use.
   */
  async discard(
    refs: Array<ChunkRef & { created: boolean }>,
    isReferenced: (hash: string) => boolean,
  ): Promise<void> {
    const created = new Set(refs.filter((r) => r.created).map((r) => r.hash));
    const errors: unknown[] = [];
    for (const hash of created) {
      // Checked right before each removal: isReferenced and the pin check run in one tick.
      if (isReferenced(hash)) continue;
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
      data = await fs.readFile(this.chunkPath(ref.hash));
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

  private async writeNew(target: string, hash: string, data: Buffer): Promise<void> {
    // Random name: concurrent writers of the same chunk must not share a tmp file, and
    // nothing user-controlled (object keys) may reach the file system.
    const tmp = path.join(this.tmpDir, randomUUID());
    let renamed = false;
    try {
      const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off);
          off += bytesWritten;
        }
        if (this.durability === 'fsync') await fh.datasync();
      } finally {
        await fh.close();
      }
      await this.ensureShardDir(hash);
      await fs.rename(tmp, target);
      renamed = true;
      // The rename is durable once the target directory is; tmp/'s stale entry (if a
      // crash loses it) is swept by init().
      await this.syncDir(path.dirname(target));
    } finally {
      if (!renamed) await fs.rm(tmp, { force: true }).catch(() => undefined);
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
    const fh = await fs.open(dir, fsc.O_RDONLY);
    try {
      await fh.sync();
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
