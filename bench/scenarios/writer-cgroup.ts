// A memory cap for one child process without systemd (`systemd-run --scope -p MemoryMax=` needs
// systemd as PID 1). Tries a cgroup v2 child group with memory.max, then a cgroup v1 memory
// child group with memory.limit_in_bytes, each created under this process's own group (never at
// the root: that would escape the limits this process already runs under). Every attempt that
// fails says why, so the report can tell the reader exactly what was and was not capped.
import fs from 'node:fs';
import path from 'node:path';

export interface MemoryCap {
  kind: 'cgroup v2' | 'cgroup v1';
  dir: string;
  limit: number;
  /** The group's own accounting after the child ran (bytes; page cache of written files included). */
  stats(): { peak?: number; failcnt?: number; oomKills?: number };
  remove(): void;
}

function mounts(): Array<{ point: string; fstype: string; options: string }> {
  // mountinfo: "... <mount point> <options> ... - <fstype> <source> <super options>"
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const f = left!.split(' ');
      const r = right.split(' ');
      return { point: f[4]!, fstype: r[0]!, options: r[2] ?? '' };
    });
}

function ownGroup(match: (controllers: string[]) => boolean): string | undefined {
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m && match(m[2]!.split(','))) return m[3];
  }
  return undefined;
}

const readNum = (file: string): number | undefined => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

function removeDir(dir: string): void {
  // The child has exited, but the kernel may take a moment to let go of the group.
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

function tryV2(limit: number, name: string): MemoryCap {
  const mount = mounts().find((m) => m.fstype === 'cgroup2');
  if (!mount) throw new Error('no cgroup2 file system is mounted');
  const own = ownGroup((c) => c.length === 1 && c[0] === '');
  if (own === undefined) throw new Error('this process has no cgroup v2 membership (no "0::" line in /proc/self/cgroup)');
  const parent = path.join(mount.point, own);
  const available = fs.readFileSync(path.join(parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  if (!available.includes('memory')) {
    throw new Error(
      `the memory controller is not available in the cgroup v2 hierarchy at ${mount.point} (${path.join(parent, 'cgroup.controllers')} lists: ${available.join(' ') || 'nothing'}); ` +
        'it is bound to the cgroup v1 hierarchy instead',
    );
  }
  const enabled = fs.readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
  if (!enabled.includes('memory')) {
    try {
      fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
    } catch (err) {
      throw new Error(`cannot enable the memory controller for child groups of ${parent}: ${(err as Error).message} (cgroup v2 allows it only in a group with no processes of its own)`);
    }
  }
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  try {
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limit));
  } catch (err) {
    removeDir(dir);
    throw new Error(`cannot set ${dir}/memory.max: ${(err as Error).message}`);
  }
  try {
    // No swap to fall back on, or the cap would only slow the child down.
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } catch {
    // No swap accounting (or no swap): nothing to turn off.
  }
  return {
    kind: 'cgroup v2',
    dir,
    limit,
    stats: () => {
      const events = (() => {
        try {
          return fs.readFileSync(path.join(dir, 'memory.events'), 'utf8');
        } catch {
          return '';
        }
      })();
      return {
        peak: readNum(path.join(dir, 'memory.peak')),
        failcnt: Number(/^max (\d+)/m.exec(events)?.[1] ?? NaN),
        oomKills: Number(/^oom_kill (\d+)/m.exec(events)?.[1] ?? NaN),
      };
    },
    remove: () => removeDir(dir),
  };
}

function tryV1(limit: number, name: string): MemoryCap {
  const mount = mounts().find((m) => m.fstype === 'cgroup' && m.options.split(',').includes('memory'));
  if (!mount) throw new Error('no cgroup v1 memory hierarchy is mounted');
  const own = ownGroup((c) => c.includes('memory'));
  if (own === undefined) throw new Error('this process has no memory cgroup in /proc/self/cgroup');
  const dir = path.join(mount.point, own, name);
  fs.mkdirSync(dir);
  try {
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limit));
    const set = readNum(path.join(dir, 'memory.limit_in_bytes'));
    if (set === undefined || set > limit) throw new Error(`memory.limit_in_bytes reads back ${set}, not ${limit}`);
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  return {
    kind: 'cgroup v1',
    dir,
    limit,
    stats: () => {
      let oomKills: number | undefined;
      try {
        oomKills = Number(/^oom_kill (\d+)/m.exec(fs.readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'))?.[1] ?? NaN);
      } catch {
        oomKills = undefined;
      }
      return { peak: readNum(path.join(dir, 'memory.max_usage_in_bytes')), failcnt: readNum(path.join(dir, 'memory.failcnt')), oomKills };
    },
    remove: () => removeDir(dir),
  };
}

/** The first cap that works, and why each one before it did not. */
export function createMemoryCap(limit: number): { cap?: MemoryCap; failures: string[] } {
  const name = `cairn-bench-writer-${process.pid}`;
  const failures: string[] = [];
  for (const [label, attempt] of [
    ['cgroup v2', tryV2],
    ['cgroup v1', tryV1],
  ] as const) {
    try {
      return { cap: attempt(limit, name), failures };
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message}`);
    }
  }
  return { failures };
}
