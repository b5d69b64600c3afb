// Scrub: re-read every chunk a row records and verify size, CRC32C and SHA-256. A chunk that
// fails is reported with the objects and in-progress uploads it breaks; a corrupt file is moved
// to <dataDir>/quarantine/ so reads of it fail cleanly as missing (reads verify the CRC anyway,
// so bad bytes are never served) and the next upload of the same bytes writes a good copy,
// which repairs every object sharing the chunk.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaintenanceStore, MetadataStore } from '../store/metadata-store.js';
import type { ChunkRow } from '../store/types.js';
import type { ChunkStore } from './chunk-store.js';

export interface BrokenChunk {
  sha256: string;
  problem: 'corrupt' | 'missing';
  /** Where the corrupt file now is (quarantine on). */
  quarantinedTo?: string;
  /** Objects using the chunk (at most 1000 listed; objectCount has them all). */
  objects: Array<{ bucket: string; key: string }>;
  objectCount: number;
  uploads: Array<{ uploadId: string; bucket: string; key: string; partNumber: number }>;
}

export interface ScrubResult {
  checked: number;
  bytes: number;
  broken: BrokenChunk[];
  durationMs: number;
}

export interface ScrubDeps {
  dataDir: string;
  meta: MetadataStore;
  store: ChunkStore;
}

export interface ScrubOptions {
  /** Move corrupt files to <dataDir>/quarantine/<sha256> (default true). */
  quarantine?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Pause between chunks, for the slow background scrub. */
  pauseMs?: number;
  signal?: AbortSignal;
  /** Rows read per query (keyset pages by hash). */
  pageSize?: number;
}

const MAX_LISTED_OBJECTS = 1000;

export function quarantineDir(dataDir: string): string {
  return path.join(dataDir, 'quarantine');
}

export async function runScrub(deps: ScrubDeps, opts: ScrubOptions = {}): Promise<ScrubResult> {
  const started = Date.now();
  const maint = deps.meta.maintenance;
  const quarantine = opts.quarantine ?? true;
  const pageSize = opts.pageSize ?? 500;
  const result: ScrubResult = { checked: 0, bytes: 0, broken: [], durationMs: 0 };
  let total = await maint.countChunks();
  opts.onProgress?.(0, total);

  let after = '';
  for (;;) {
    opts.signal?.throwIfAborted();
    const page = await maint.chunkPage(after, pageSize);
    for (const row of page) {
      opts.signal?.throwIfAborted();
      const problem = await check(deps, row, result);
      if (problem) {
        const broken = await confirm(deps, maint, row, problem, quarantine);
        if (broken) result.broken.push(broken);
      }
      result.checked++;
      // Rows come and go while we walk: the total is where we stand, never below it.
      total = Math.max(total, result.checked);
      opts.onProgress?.(result.checked, total);
      if (opts.pauseMs) await sleep(opts.pauseMs, undefined, { signal: opts.signal });
    }
    if (page.length < pageSize) break;
    after = page[page.length - 1].hash;
  }
  opts.onProgress?.(result.checked, result.checked);
  result.durationMs = Date.now() - started;
  return result;
}

type Problem = 'corrupt' | 'missing';

async function check(deps: ScrubDeps, row: ChunkRow, result?: ScrubResult): Promise<Problem | undefined> {
  try {
    await deps.store.read(row, { verifyHash: true });
    if (result) result.bytes += row.size;
    return undefined;
  } catch (err) {
    const problem = classify(err);
    if (problem === 'corrupt' && result) result.bytes += row.size;
    return problem;
  }
}

function classify(err: unknown): Problem {
  const e = err as NodeJS.ErrnoException;
  if (/^chunk missing:/.test(e.message)) return 'missing';
  if (/^chunk corrupt:/.test(e.message)) return 'corrupt';
  // The disk cannot give the bytes back: as good as corrupt. Anything else (EMFILE, EACCES)
  // is a problem of this process, not of the chunk: stop instead of reporting false damage.
  if (e.code === 'EIO') return 'corrupt';
  throw err;
}

/**
 * A failed read counts only if it survives a second look: the row may have gone meanwhile
 * (object deleted, file removed with it), or a put may have just replaced a wrong-size file.
 */
async function confirm(deps: ScrubDeps, maint: MaintenanceStore, row: ChunkRow, first: Problem, quarantine: boolean): Promise<BrokenChunk | undefined> {
  if (!(await deps.meta.objects.isChunkReferenced(row.hash))) return undefined;
  let problem: Problem | undefined = first;
  let quarantinedTo: string | undefined;
  if (problem === 'corrupt' && quarantine) {
    quarantinedTo = await deps.store.quarantine(row, quarantineDir(deps.dataDir));
    // Not moved: gone (missing) or fine again (replaced by a good copy since our read).
    if (!quarantinedTo) problem = await check(deps, row);
  } else {
    problem = await check(deps, row);
  }
  if (!problem || !(await deps.meta.objects.isChunkReferenced(row.hash))) return undefined;
  const users = await maint.objectsUsing(row.hash, MAX_LISTED_OBJECTS);
  return {
    sha256: row.hash,
    problem: quarantinedTo ? 'corrupt' : problem,
    ...(quarantinedTo ? { quarantinedTo } : {}),
    objects: users.objects,
    objectCount: users.count,
    uploads: await maint.uploadsUsing(row.hash),
  };
}
