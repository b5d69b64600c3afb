// Temp folders of the local chunk backend on a folder several gateways may share:
// tmp/<gatewayId>/ per gateway. A gateway sweeps its own folder (at start-up: all of it; in GC:
// files idle past the grace period and not being written), files of the old single-gateway
// layout lying directly in tmp/, and the folders of other gateways only once nothing in them
// has changed for `deadMs` (that gateway died: a live one refreshes its folder's mtime on every
// write and on the heartbeat, see LocalDiskBackend.heartbeat).
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The temp folder of a single node (SQLite metadata, its own data dir): the server and the CLI's
 * local commands share it, so a restart or `cairn gc` on the stopped server sweeps what a killed
 * run left, as before per-gateway folders.
 */
export const SINGLE_NODE_TMP_ID = 'local';

/** A gateway's temp folder untouched this long belongs to a dead gateway. */
export const DEAD_GATEWAY_MS = 15 * 60_000;
const GATEWAY_ID_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export function checkGatewayId(id: string): string {
  if (!GATEWAY_ID_RE.test(id)) throw new Error(`invalid gateway id: ${JSON.stringify(id)} (letters, digits, . _ -, at most 64)`);
  return id;
}

export interface TmpSweep {
  /** The folder holding every gateway's temp folder (<chunks folder>/tmp). */
  root: string;
  ownId: string;
  /** Own files idle at least this long go (0 at start-up: nothing of ours is in flight yet). */
  graceMs: number;
  deadMs: number;
  dryRun?: boolean;
  inFlight?: (name: string) => boolean;
}

export async function sweepTmpFolders(s: TmpSweep): Promise<{ files: number; bytes: number }> {
  const now = Date.now();
  const out = { files: 0, bytes: 0 };
  const drop = async (file: string, size: number) => {
    if (!s.dryRun) await fs.rm(file, { recursive: true, force: true });
    out.files++;
    out.bytes += size;
  };
  for (const name of await readdirOrEmpty(s.root)) {
    const entry = path.join(s.root, name);
    const st = await fs.lstat(entry).catch(() => undefined);
    if (!st) continue;
    if (name === s.ownId && st.isDirectory()) {
      for (const f of await readdirOrEmpty(entry)) {
        if (s.inFlight?.(f)) continue;
        const fst = await fs.lstat(path.join(entry, f)).catch(() => undefined);
        if (fst && fst.mtimeMs <= now - s.graceMs) await drop(path.join(entry, f), fst.isFile() ? fst.size : 0);
      }
    } else if (!st.isDirectory()) {
      // The single-gateway layout's temp files (tmp/<uuid>), from before gateway folders.
      if (st.mtimeMs <= now - s.graceMs) await drop(entry, st.size);
    } else {
      await sweepDead(entry, now - s.deadMs, s.dryRun ?? false, out);
    }
  }
  return out;
}

/** Another gateway's folder: removed whole only if neither it nor any file in it changed since `cutoff`. */
async function sweepDead(dir: string, cutoff: number, dryRun: boolean, out: { files: number; bytes: number }): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st || st.mtimeMs > cutoff) return;
  let files = 0;
  let bytes = 0;
  for (const f of await readdirOrEmpty(dir)) {
    const fst = await fs.lstat(path.join(dir, f)).catch(() => undefined);
    if (!fst) continue;
    if (fst.mtimeMs > cutoff) return;
    files++;
    bytes += fst.isFile() ? fst.size : 0;
  }
  if (!dryRun) await fs.rm(dir, { recursive: true, force: true });
  out.files += files;
  out.bytes += bytes;
}

/** A folder's names; none when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
