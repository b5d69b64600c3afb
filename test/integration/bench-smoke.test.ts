// Every benchmark scenario at tiny sizes, so none of them rots. No figure is asserted here
// (benchmarks are not tests): only that the scenario runs to its end and writes its report.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasClient } from '../helpers/clients.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-smoke-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('bench scenarios (smoke)', () => {
  // small and responsive drive their load with wrk (a real client: required under CI=true).
  const haveWrk = hasClient('wrk', ['-v'], [1]);
  const needsWrk = new Set(['small', 'responsive']);
  for (const name of ['writer', 'large', 'small', 'responsive', 'memory', 'listing', 'versions', 'post']) {
    it.skipIf(needsWrk.has(name) && !haveWrk)(`${name} runs and writes its report`, () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', name, '--smoke', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
      expect(run.stderr + run.stdout, `exit ${run.status}`).toMatch(/wrote /);
      expect(run.status).toBe(0);
      const md = fs.readFileSync(path.join(out, `${name}.md`), 'utf8');
      expect(md).toContain('Machine: ');
      expect(md).toMatch(/\|.*\d.*\|/); // a table with figures
    }, 180_000);
  }

  it('--help explains the runner', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Scenarios: writer, large, small, responsive, memory, listing, versions, post');
  });
});
