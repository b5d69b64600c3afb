// Group commit. With durable settings every SQLite COMMIT waits for an fsync of the WAL (a few
// milliseconds on the machines measured), and better-sqlite3 runs it on the event loop: one
// commit per small PUT caps them at a few hundred a second and stalls every other request. Commits requested in the
// same turn of the event loop are instead run together in ONE transaction (a failing one is
// rolled back alone, see runBatch), so one fsync makes the whole batch durable.
// Nothing resolves before that COMMIT returned: "200 means durable" holds for each of them.
import type Database from 'better-sqlite3';

interface Pending {
  fn: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Batches run and their sizes (for the metrics and the tests). */
  readonly stats = { batches: 0, commits: 0, largest: 0 };

  constructor(
    private readonly sqlite: Database.Database,
    private readonly maxBatch = 256,
  ) {}

  /** Runs `fn` (synchronous SQL) inside the next batch; resolves once the batch committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O callbacks of this turn: every request whose body ended in it has queued.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (also called on shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch(batch);
    } catch (err) {
      // The COMMIT itself failed (disk full, I/O error): none of them can be called durable.
      for (const item of batch) item.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.commits += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    batch.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  /**
   * One transaction for the batch. First without savepoints: a savepoint keeps a copy of every
   * page it changes, which cost about as much as the statements of a small commit, and a commit
   * that throws is rare (a bucket deleted meanwhile). If one does throw, the whole transaction
   * rolls back and the batch runs again with each commit in its own savepoint, so only the one
   * that threw fails. Throws only if the COMMIT failed.
   */
  private runBatch(batch: Pending[]): Outcome[] {
    let failed: { error: unknown } | undefined;
    try {
      return this.sqlite.transaction(() =>
        batch.map((item): Outcome => {
          try {
            return { ok: true, value: item.fn() };
          } catch (error) {
            failed = { error };
            throw error;
          }
        }),
      ).immediate(); // IMMEDIATE: see openDb in client.ts
    } catch (err) {
      if (!failed) throw err;
      if (batch.length === 1) return [{ ok: false, error: failed.error }];
    }
    const outcomes: Outcome[] = [];
    this.sqlite.transaction(() => {
      for (const item of batch) {
        try {
          // A nested better-sqlite3 transaction is a savepoint: on a throw only it rolls back.
          outcomes.push({ ok: true, value: this.sqlite.transaction(item.fn)() });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    }).immediate();
    return outcomes;
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
