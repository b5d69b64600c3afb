import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { startWorker } from '../../src/workers.js';

function answer(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

describe('startWorker', () => {
  it('from source: runs the .ts module beside the caller, with its workerData', async () => {
    const worker = startWorker(import.meta.url, 'fixtures/echo-worker', { workerData: { n: 41 } });
    try {
      expect(await answer(worker)).toEqual({ from: 'ts', n: 42 });
    } finally {
      await worker.terminate();
    }
  });

  it('built: runs the .js module beside a .js caller, without any transform', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-workers-'));
    try {
      await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
      await fs.writeFile(
        path.join(dir, 'echo-worker.js'),
        "import { parentPort, workerData } from 'node:worker_threads';\nparentPort.postMessage({ from: 'js', n: workerData.n + 1 });\n",
      );
      const caller = pathToFileURL(path.join(dir, 'caller.js')).href;
      const worker = startWorker(caller, 'echo-worker', { workerData: { n: 1 } });
      try {
        expect(await answer(worker)).toEqual({ from: 'js', n: 2 });
      } finally {
        await worker.terminate();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a worker module that fails to load reaches the caller as an error', async () => {
    const worker = startWorker(import.meta.url, 'fixtures/no-such-worker');
    await expect(answer(worker)).rejects.toThrow();
    await worker.terminate();
  });
});
