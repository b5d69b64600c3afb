// The local-folder chunk backend: <dataDir>/chunks/ab/cd/<sha256>, written through
// <dataDir>/tmp/<gatewayId>/. The folder may be shared by several gateways (a network mount):
// each writes temp files in its own folder and never sweeps a live gateway's (tmp-folders.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { checkHash, chunkMissing, isHash, type ChunkBackend, type ChunkFile, type ChunkStat, type Durability } from './backend.js';
import { checkGatewayId, DEAD_GATEWAY_MS, sweepTmpFolders } from './tmp-folders.js';

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

// Frozen: shared by every backend in the process, so a test must wrap it, never patch it.
export const defaultFsOps: Readonly<ChunkFsOps> = Object.freeze({
  open: (file, flags, mode) => fs.open(file, flags, mode),
  write: (fh, data, offset, length) => fh.write(data, offset, length),
  datasync: (fh) => fh.datasync(),
  fsync: (fh) => fh.sync(),
  rename: (from, to) => fs.rename(from, to),
} satisfies ChunkFsOps);

/** `<sha256>.gc-<ms>-<rand>`: a chunk file deleteIfStale() has moved aside while it decides. */
export const ASIDE_RE = /^([0-9a-f]{64})\.gc-(\d+)-[0-9a-f]+$/;
const SHARD_RE = /^[0-9a-f]{2}$/;

export class LocalDiskBackend implements ChunkBackend {
  readonly dataDir: string;
  readonly durability: Durability;
  readonly chunksDir: string;
  /** This gateway's temp folder, tmp/<gatewayId>. */
  readonly tmpDir: string;
  /** Every gateway's temp folders. */
  readonly tmpRoot: string;
  readonly gatewayId: string;
  private readonly deadGatewayMs: number;
  // tmp/ names this process is writing right now: GC must not sweep them whatever their age.
  private readonly tmpInFlight = new Set<string>();
  // Shard directories known to exist (and, under fsync, to be durable); never removed.
  private readonly dirs = new Map<string, Promise<void>>();
  // Chunk files whose directory fsync failed after the rename: their name may not survive a
  // crash, and a later fsync succeeding says nothing about them (Linux reports a writeback error
  // once). reuse() refuses them, so a put of the same bytes writes them again.
  private readonly untrusted = new Set<string>();
  private readonly ops: ChunkFsOps;

  constructor(opts: { dataDir: string; durability: Durability; fsOps?: Partial<ChunkFsOps>; /** Default: random, one per process. */ gatewayId?: string; deadGatewayMs?: number }) {
    this.dataDir = opts.dataDir;
    this.durability = opts.durability;
    this.ops = { ...defaultFsOps, ...opts.fsOps };
    this.chunksDir = path.join(opts.dataDir, 'chunks');
    this.gatewayId = checkGatewayId(opts.gatewayId ?? `gw-${randomBytes(6).toString('hex')}`);
    this.deadGatewayMs = opts.deadGatewayMs ?? DEAD_GATEWAY_MS;
    this.tmpRoot = path.join(opts.dataDir, 'tmp');
    this.tmpDir = path.join(this.tmpRoot, this.gatewayId);
  }

  async init(): Promise<{ sweptTmpFiles: number }> {
    await fs.mkdir(this.chunksDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    await this.syncDir(this.dataDir);
    // Our own temp files (a fixed gateway id's earlier run) are writes that never reached their
    // rename: no row can refer to them. Other gateways' only when that gateway is dead.
    const { files } = await this.sweepTmp(0);
    if (files > 0) await this.syncDir(this.tmpRoot);
    return { sweptTmpFiles: files };
  }

  /** GC's and init's sweep of temp files (see tmp-folders.ts). */
  sweepTmp(graceMs: number, dryRun = false): Promise<{ files: number; bytes: number }> {
    return sweepTmpFolders({ root: this.tmpRoot, ownId: this.gatewayId, graceMs, deadMs: this.deadGatewayMs, dryRun, inFlight: (n) => this.tmpInFlight.has(n) });
  }

  /** Shows other gateways this one is alive (its temp folder's mtime); recreates the folder if a sweep took it. */
  async heartbeat(): Promise<void> {
    const now = new Date();
    try {
      await fs.utimes(this.tmpDir, now, now);
    } catch (err) {
      if (!enoent(err)) throw err;
      await fs.mkdir(this.tmpDir, { recursive: true });
    }
  }

  chunkPath(hash: string): string {
    checkHash(hash);
    return path.join(this.chunksDir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  /** Whether this process is writing tmp/<name> right now. */
  isTmpInFlight(name: string): boolean {
    return this.tmpInFlight.has(name);
  }

  async put(hash: string, data: Buffer): Promise<void> {
    const target = this.chunkPath(hash);
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
      const fh = await this.openTmp(tmp);
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

  private async openTmp(tmp: string): Promise<FileHandle> {
    const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL;
    try {
      return await this.ops.open(tmp, flags, 0o644);
    } catch (err) {
      // Our folder went (a gateway that took us for dead after a long pause): make it again.
      if (!enoent(err)) throw err;
      await fs.mkdir(this.tmpDir, { recursive: true });
      return this.ops.open(tmp, flags, 0o644);
    }
  }

  async reuse(hash: string, size: number): Promise<boolean> {
    const target = this.chunkPath(hash);
    const existing = await statOrUndefined(target);
    // Bumping the mtime is what keeps a GC in another process off this file until our row
    // commits, and it doubles as the existence check that counts: such a GC moves a file
    // aside before deciding, so if the touch failed with ENOENT the caller writes a fresh copy.
    return !!existing && existing.size === size && !this.untrusted.has(hash) && (await touchFile(target));
  }

  async get(hash: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const file = this.chunkPath(hash);
    if (!range) {
      try {
        return await fs.readFile(file);
      } catch (err) {
        throw enoent(err) ? chunkMissing(hash, err) : err;
      }
    }
    const f = await this.open(hash);
    try {
      const length = Math.max(0, Math.min(range.length, f.size - range.offset));
      const out = Buffer.allocUnsafe(length);
      for (let got = 0; got < length; ) {
        const { bytesRead } = await f.read(out, got, length - got, range.offset + got);
        if (bytesRead === 0) return out.subarray(0, got);
        got += bytesRead;
      }
      return out;
    } finally {
      await f.close();
    }
  }

  async open(hash: string): Promise<ChunkFile> {
    let fh: FileHandle;
    try {
      fh = await fs.open(this.chunkPath(hash), 'r');
    } catch (err) {
      throw enoent(err) ? chunkMissing(hash, err) : err;
    }
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (err) {
      await fh.close();
      throw err;
    }
    return { size, read: (into, offset, length, position) => fh.read(into, offset, length, position), close: () => fh.close() };
  }

  async stat(hash: string): Promise<ChunkStat | undefined> {
    const st = await statOrUndefined(this.chunkPath(hash));
    return st && { size: st.size, mtimeMs: st.mtimeMs };
  }

  async touch(hash: string): Promise<boolean> {
    return touchFile(this.chunkPath(hash));
  }

  async delete(hash: string): Promise<boolean> {
    const target = this.chunkPath(hash);
    try {
      await fs.unlink(target);
    } catch (err) {
      if (enoent(err)) return false;
      throw err;
    }
    await this.syncDir(path.dirname(target));
    return true;
  }

  /**
   * Only a file older than `graceMs` is a candidate; it is renamed aside (atomic), and only then
   * are its mtime (same inode) and `stillOrphan()` checked again. A reuse() in another process
   * that landed before the rename shows up in the mtime and the file goes back; one after the
   * rename finds no file and that put writes a fresh copy.
   */
  async deleteIfStale(hash: string, opts: { graceMs: number; stillOrphan: () => Promise<boolean> }): Promise<{ removed: boolean; size: number }> {
    const target = this.chunkPath(hash);
    const cutoff = Date.now() - opts.graceMs;
    const before = await statOrUndefined(target);
    if (!before || before.mtimeMs > cutoff) return { removed: false, size: 0 };
    const aside = `${target}.gc-${Date.now()}-${randomUUID().slice(0, 8)}`;
    try {
      await fs.rename(target, aside);
    } catch (err) {
      if (enoent(err)) return { removed: false, size: 0 };
      throw err;
    }
    const after = await fs.stat(aside);
    if (after.mtimeMs > cutoff || !(await opts.stillOrphan())) {
      await this.restoreAside(aside, target);
      return { removed: false, size: 0 };
    }
    await fs.unlink(aside);
    await this.syncDir(path.dirname(target));
    return { removed: true, size: after.size };
  }

  /**
   * Puts a file deleteIfStale() moved aside back under its name, unless a fresh copy is
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

  async quarantine(hash: string, dir: string): Promise<string> {
    const target = this.chunkPath(hash);
    await fs.mkdir(dir, { recursive: true });
    let dest = path.join(dir, hash);
    if (await statOrUndefined(dest)) dest = `${dest}.${Date.now()}`;
    await fs.rename(target, dest);
    await this.syncDir(path.dirname(target));
    await this.syncDir(dir);
    return dest;
  }

  /** Shard by shard; only files at their own path (not tmp files, not GC's asides). */
  async *list(): AsyncGenerator<string, void, undefined> {
    for (const a of await readdirOrEmpty(this.chunksDir)) {
      if (!SHARD_RE.test(a)) continue;
      for (const b of await readdirOrEmpty(path.join(this.chunksDir, a))) {
        if (!SHARD_RE.test(b)) continue;
        for (const name of await readdirOrEmpty(path.join(this.chunksDir, a, b))) {
          if (isHash(name) && name.startsWith(a + b)) yield name;
        }
      }
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

function enoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function statOrUndefined(p: string) {
  try {
    return await fs.stat(p);
  } catch (err) {
    if (enoent(err)) return undefined;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (enoent(err)) return [];
    throw err;
  }
}

/** Sets a file's times to now; false when it does not exist. */
async function touchFile(p: string): Promise<boolean> {
  const now = new Date();
  try {
    await fs.utimes(p, now, now);
    return true;
  } catch (err) {
    if (enoent(err)) return false;
    // Not ours to touch (EPERM on a file another user wrote): the file is there, which is what
    // the caller needs; only the cross-process freshness hint is lost.
    return true;
  }
}
