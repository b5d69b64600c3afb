// The one way cairn starts worker threads. A worker is a module file beside the module that
// starts it: built, that is the .js in dist/; from source (vitest, `npm run dev`, bench scripts
// under tsx) it is the .ts, which Node cannot load alone, so tsx's loader loads it (tsx is a dev
// dependency, and only source runs need it).
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` (no extension) that sits in the directory of `callerUrl`
 * (the caller's import.meta.url), e.g. startWorker(import.meta.url, 'hash-worker', { workerData }).
 */
export function startWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = fileURLToPath(callerUrl).endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(entry, options);
  const source = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(fileURLToPath(entry))}, ${JSON.stringify(callerUrl)}))`;
  return new Worker(source, { ...options, eval: true });
}
