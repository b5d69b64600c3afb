// libuv's thread-pool threads (chunk writes, fsyncs, file reads) drop to nice 10 so request
// handling runs first on contended cores; the event loop itself and other threads keep theirs.
// Run in a child process with a pool of 6 threads, so the test runner's own pool is left alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

describe.skipIf(process.platform !== 'linux')('thread-pool priority', () => {
  it('finds every thread of the pool and lowers it to nice 10, and only those', () => {
    const script = `
      import fs from 'node:fs';
      const { lowerThreadPoolPriority, IO_NICE } = await import(${JSON.stringify(path.join(ROOT, 'src/storage/io-priority.ts'))});
      const nice = (t) => Number(fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
      const lowered = await lowerThreadPoolPriority();
      // Which threads run pool work now: each readlink names the thread that resolved it.
      const pool = new Set();
      for (let i = 0; i < 40; i++) for (const l of await Promise.all(Array.from({ length: 48 }, () => fs.promises.readlink('/proc/thread-self')))) pool.add(l.split('/').pop());
      const all = fs.readdirSync('/proc/self/task');
      console.log(JSON.stringify({ lowered, IO_NICE, pool: [...pool].map((t) => [t, nice(t)]), others: all.filter((t) => !pool.has(t)).map((t) => [t, nice(t)]), main: nice(String(process.pid)) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, UV_THREADPOOL_SIZE: '6' },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { lowered: number; IO_NICE: number; pool: Array<[string, number]>; others: Array<[string, number]>; main: number };
    expect(out.lowered).toBe(6);
    expect(out.pool).toHaveLength(6);
    for (const [, n] of out.pool) expect(n).toBe(out.IO_NICE);
    expect(out.main).toBeLessThan(out.IO_NICE);
    expect(out.others.length).toBeGreaterThan(0);
    for (const [, n] of out.others) expect(n).toBe(out.main);
  });
});
