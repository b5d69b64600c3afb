// Garbage collection: chunk files no row references (orphans), stray tmp/ files, expired
// multipart uploads, and chunk rows whose refcount went to 0 or below (a bug if ever seen).
//
// Orphans appear when a removal after a commit fails, when a process dies between writing a
// chunk and committing its row, or when a row is dropped by another process (expiry run from
// the CLI). Deleting one is only safe if no upload in flight is about to reference it:
//
// - In the server's own process, an upload pins every chunk before it checks whether the file
//   exists, and keeps the pin until its row has committed. ChunkStore.collectOrphan() checks
//   the pin and the DB row and registers the removal in one synchronous step, and a put()
//   that starts afterwards waits for that removal and then writes a fresh file. So at every
//   instant a chunk is pinned, referenced by a committed row, or safe to remove.
// - The CLI (`cairn gc --data-dir`) may run beside a live server and sees none of its pins.
//   There the grace period does the work: only files older than graceMs are candidates, and
//   the server keeps the files of its in-flight uploads younger than that (a put that dedups
//   onto an existing file bumps its mtime; touchPinned() refreshes chunks held by slow
//   uploads). collectOrphan() moves a candidate aside before its final check, which closes the
//   gap between "looked old" and "unlinked" (see ChunkStore.collectOrphan).
// For the same reason chunks freed by expiring uploads are not unlinked at once here (as
// MultipartService.expire does in-process) but left to the orphan pass of the same run.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MetadataStore } from '../store/metadata-store.js';
import { ASIDE_RE, type ChunkStore } from './chunk-store.js';
import { LocalDiskBackend } from './local-disk.js';
import { readdirOrEmpty } from './tmp-folders.js';

export interface GcResult {
  dryRun: boolean;
  /** Orphan chunk files removed (dry run: that would be removed). */
  orphanChunks: number;
  orphanBytes: number;
  /** Orphans kept because they are younger than the grace period. */
  youngOrphans: number;
  expiredUploads: number;
  tmpFiles: number;
  tmpBytes: number;
  /** Chunk rows with refcount <= 0 that were repaired (count reset) or removed (no references). */
  chunkRowsRepaired: number;
  /** orphanBytes + tmpBytes (dry run: what a real run would free now). */
  freedBytes: number;
  durationMs: number;
  /** Shared chunk storage: another gateway's collector held the 'gc' lease, so this run did nothing. */
  busy?: boolean;
}

export interface GcDeps {
  dataDir: string;
  /** Expiry aborts uploads here directly, so their freed chunks take the grace-checked orphan path. */
  meta: MetadataStore;
  store: ChunkStore;
}

export interface GcOptions {
  graceMs: number;
  multipartExpiryMs: number;
  dryRun?: boolean;
  /** Over the chunk shard directories (chunks/ab/cd), the bulk of the work. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const HASH_RE = /^[0-9a-f]{64}$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
/** A file a GC moved aside is put back if it is still there this long after (that GC died). */
const ASIDE_STALE_MS = 10 * 60_000;

/**
 * One GC run. With shared chunk storage (store.shared) only one collector runs at a time across
 * gateways (lease 'gc', renewed as it goes), and expired claims are cleared first.
 */
export async function runGc(deps: GcDeps, opts: GcOptions): Promise<GcResult> {
  const shared = deps.store.shared;
  if (!shared || opts.dryRun) return runGcAlone(deps, opts);
  const holder = `${shared.gatewayId}/gc`;
  if (!(await shared.claims.tryAcquire('gc', holder, shared.claimTtlMs))) return { ...emptyResult(false), busy: true };
  const renew = setInterval(() => void shared.claims.renew('gc', holder, shared.claimTtlMs).catch(() => undefined), Math.max(1000, shared.claimTtlMs / 4));
  try {
    await shared.claims.expire();
    return await runGcAlone(deps, opts);
  } finally {
    clearInterval(renew);
    await shared.claims.releaseLease('gc', holder).catch(() => undefined);
  }
}

function emptyResult(dryRun: boolean): GcResult {
  return { dryRun, orphanChunks: 0, orphanBytes: 0, youngOrphans: 0, expiredUploads: 0, tmpFiles: 0, tmpBytes: 0, chunkRowsRepaired: 0, freedBytes: 0, durationMs: 0 };
}

async function runGcAlone(deps: GcDeps, opts: GcOptions): Promise<GcResult> {
  const started = Date.now();
  const dryRun = opts.dryRun ?? false;
  const maint = deps.meta.maintenance;
  const mp = deps.meta.multipart;
  const result = emptyResult(dryRun);

  // Rows first, files last: rows dropped here leave files the orphan pass of this run can take.
  const repaired = await maint.repairRefcounts({ dryRun });
  result.chunkRowsRepaired = repaired.fixed + repaired.removed;

  const expiredBefore = Date.now() - opts.multipartExpiryMs;
  if (dryRun) {
    result.expiredUploads = await maint.countUploadsInitiatedBefore(expiredBefore);
  } else {
    for (;;) {
      opts.signal?.throwIfAborted();
      const ids = await mp.expired(expiredBefore, 100);
      for (const id of ids) if (await mp.abort(id)) result.expiredUploads++;
      if (ids.length < 100) break;
    }
    await mp.pruneCompleted(expiredBefore);
  }

  await sweepTmp(deps.store, opts.graceMs, dryRun, result);
  if (deps.store.backend instanceof LocalDiskBackend) await collectOrphans(deps, opts, dryRun, result);
  else await collectListed(deps, opts, dryRun, result);

  result.freedBytes = result.orphanBytes + result.tmpBytes;
  result.durationMs = Date.now() - started;
  return result;
}

/** tmp/ holds chunks being written; anything older than the grace period is a dead write's leftover. */
async function sweepTmp(store: ChunkStore, graceMs: number, dryRun: boolean, result: GcResult): Promise<void> {
  const { files, bytes } = await store.sweepTmp(graceMs, dryRun);
  result.tmpFiles += files;
  result.tmpBytes += bytes;
}

async function collectOrphans(deps: GcDeps, opts: GcOptions, dryRun: boolean, result: GcResult): Promise<void> {
  const { store, meta } = deps;
  const leaves: Array<{ dir: string; prefix: string }> = [];
  for (const a of await readdirOrEmpty(store.chunksDir)) {
    if (!SHARD_RE.test(a)) continue;
    for (const b of await readdirOrEmpty(path.join(store.chunksDir, a))) {
      if (SHARD_RE.test(b)) leaves.push({ dir: path.join(store.chunksDir, a, b), prefix: a + b });
    }
  }
  opts.onProgress?.(0, leaves.length);
  const isReferenced = (hash: string) => meta.objects.isChunkReferenced(hash);
  // A GC holds a file aside for a moment (move, re-check, unlink). One still there after this long
  // belongs to a GC that died. Never longer than the grace period: `gc --grace 0` on a stopped
  // server must leave no file behind after a crash in the middle of a GC.
  const asideStaleMs = Math.min(ASIDE_STALE_MS, opts.graceMs);

  for (const [i, leaf] of leaves.entries()) {
    opts.signal?.throwIfAborted();
    let names = await readdirOrEmpty(leaf.dir);
    if (!dryRun) {
      let restored = false;
      for (const name of names) {
        const m = ASIDE_RE.exec(name);
        if (!m || Date.now() - Number(m[2]) < asideStaleMs || !m[1].startsWith(leaf.prefix) || store.isRemoving(m[1])) continue;
        // Left by a GC that died mid-decision. Putting it back is always safe; put back first, so
        // that this pass collects it if it really is an orphan.
        await store.restoreAside(path.join(leaf.dir, name), store.chunkPath(m[1]));
        restored = true;
      }
      if (restored) names = await readdirOrEmpty(leaf.dir);
    }
    // Only files at their own path: collectOrphan() works on chunkPath(hash).
    const hashes = names.filter((n) => HASH_RE.test(n) && n.startsWith(leaf.prefix));
    const known = await meta.maintenance.knownChunks(hashes);
    for (const hash of hashes) {
      if (known.has(hash) || store.isPinned(hash)) continue;
      const st = await fs.lstat(path.join(leaf.dir, hash)).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (st.mtimeMs > Date.now() - opts.graceMs) {
        result.youngOrphans++;
        continue;
      }
      if (dryRun) {
        result.orphanChunks++;
        result.orphanBytes += st.size;
        continue;
      }
      // Pin, row and age are checked again inside, at the moment the removal is registered.
      const r = await store.collectOrphan(hash, { graceMs: opts.graceMs, isReferenced });
      if (r.removed) {
        result.orphanChunks++;
        result.orphanBytes += r.size;
      }
    }
    opts.onProgress?.(i + 1, leaves.length);
  }
}

/** Orphans of a backend without a local folder (S3): its list(), checked against rows in batches. */
async function collectListed(deps: GcDeps, opts: GcOptions, dryRun: boolean, result: GcResult): Promise<void> {
  const { store, meta } = deps;
  const isReferenced = (hash: string) => meta.objects.isChunkReferenced(hash);
  const batch: string[] = [];
  const flush = async () => {
    const known = await meta.maintenance.knownChunks(batch);
    for (const hash of batch) {
      opts.signal?.throwIfAborted();
      if (known.has(hash) || store.isPinned(hash)) continue;
      const st = await store.backend.stat(hash);
      if (!st) continue;
      if (st.mtimeMs > Date.now() - opts.graceMs) {
        result.youngOrphans++;
      } else if (dryRun) {
        result.orphanChunks++;
        result.orphanBytes += st.size;
      } else {
        const r = await store.collectOrphan(hash, { graceMs: opts.graceMs, isReferenced });
        if (r.removed) {
          result.orphanChunks++;
          result.orphanBytes += r.size;
        }
      }
    }
    batch.length = 0;
  };
  for await (const hash of store.backend.list()) {
    batch.push(hash);
    if (batch.length >= 500) await flush();
  }
  await flush();
}
