import type { Worker } from 'node:worker_threads';
import type { Db } from '../client.js';
import { startWorker } from '../../workers.js';
import type { AggregateRunner } from './totals.js';

// Runs the admin API's aggregate passes (sums over every object and chunk row: about a second per
// million objects) on a worker thread with its own read-only SQLite connection, so S3 requests on
// the main event loop do not wait for them. WAL lets that reader run beside the server's writer,
// on a consistent snapshot. The worker's side is aggregate-worker.ts.

export class AggregateWorkers {
  private readonly live = new Set<Worker>();

  constructor(private readonly file: string | undefined) {}

  /** The runner for this database: a worker per call when the DB is a file, else inline. */
  static forDb(db: Db): AggregateWorkers {
    const client = (db as unknown as { $client?: { name?: string; memory?: boolean } }).$client;
    return new AggregateWorkers(client && !client.memory && client.name ? client.name : undefined);
  }

  readonly run: AggregateRunner = (statements) => {
    const file = this.file;
    if (!file) return Promise.reject(new Error('aggregate workers need a database file'));
    return new Promise((resolve, reject) => {
      const worker = startWorker(import.meta.url, 'aggregate-worker', { workerData: { file, statements } });
      this.live.add(worker);
      let settled = false;
      worker.once('message', (m: { rows?: unknown[][]; error?: string }) => {
        settled = true;
        if (m.error !== undefined) reject(new Error(`aggregate query failed: ${m.error}`));
        else resolve(m.rows!);
      });
      worker.once('error', (err) => {
        settled = true;
        reject(err);
      });
      worker.once('exit', (code) => {
        this.live.delete(worker);
        if (!settled) reject(new Error(`aggregate worker stopped (exit code ${code})`));
      });
    });
  };

  get available(): boolean {
    return this.file !== undefined;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.live].map((w) => w.terminate()));
  }
}
