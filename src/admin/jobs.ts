import { AdminError } from './http.js';

// Work that outlives a request's handler: GC and verify runs started over the API (one of each at
// a time), the state of a verify run in the background, and the aggregate workers. All stopped
// when the listener closes.

export type JobName = 'gc' | 'verify' | 'lifecycle';

/** A verify started with `background: true`, polled with GET /v1/verify (the console's progress bar). */
export interface VerifyState {
  running: boolean;
  startedAt: string;
  finishedAt?: string;
  done: number;
  total: number;
  result?: unknown;
  error?: string;
}

export type ProgressJob<T> = (signal: AbortSignal, onProgress: (done: number, total: number) => void) => Promise<T>;

export class AdminJobs {
  readonly stop = new AbortController();
  private readonly running = new Map<JobName, Promise<unknown>>();
  private verify?: VerifyState;


  busy(name: JobName): boolean {
    return this.running.has(name);
  }

  async run<T>(name: JobName, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running.has(name)) throw new AdminError('Conflict', `a ${name} started over the admin API is still running`);
    const p = job(this.stop.signal);
    this.running.set(name, p);
    try {
      return await p;
    } finally {
      this.running.delete(name);
    }
  }

  /** Starts a verify without waiting for it; its progress and, at the end, result or error go to verifyState(). */
  startVerify<T>(job: ProgressJob<T>, onResult: (result: T) => void): VerifyState {
    if (this.busy('verify')) throw new AdminError('Conflict', 'a verify started over the admin API is still running');
    const state: VerifyState = { running: true, startedAt: new Date().toISOString(), done: 0, total: 0 };
    this.verify = state;
    const onProgress = (done: number, total: number) => {
      state.done = done;
      state.total = total;
    };
    this.run('verify', (signal) => job(signal, onProgress))
      .then(
        (result) => {
          onResult(result);
          state.result = result;
        },
        (err: Error) => {
          state.error = err.message;
        },
      )
      .finally(() => {
        state.running = false;
        state.finishedAt = new Date().toISOString();
      });
    return state;
  }

  /** The last background verify, or an idle state before any. */
  verifyState(): VerifyState | { running: false; done: number; total: number } {
    return this.verify ?? { running: false, done: 0, total: 0 };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.running.values()]);
  }
}
