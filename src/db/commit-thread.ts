// The commits of PUTs and DELETEs, off the event loop. A small PUT's commit (its rows, then the
// COMMIT that writes some 15 WAL frames, two write() calls each, and syncs them) was a large share
// of the event loop's time per small PUT (docs/performance.md); on the event loop it holds up
// every other request meanwhile. Here a worker thread with its own connection runs them, in the same
// group-commit batches (group-commit.ts), while the event loop goes on parsing, authenticating
// and hashing.
//
// What stays the same:
// - "200 means durable": a commit's promise settles only after its batch committed (synced).
// - Read after write: the server's connection reads the latest commit in each new statement,
//   and the Repository empties its read cache when a commit from here returns (see
//   Repository.grouped), before the request is answered.
// Every other write (buckets, multipart, copies, GC) still runs on the server's connection.
// SQLite serializes the two writers: write transactions begin IMMEDIATE for that (see openDb in
// client.ts), and one that meets a batch in progress waits for it (busy_timeout), on the event
// loop; a batch takes a few ms.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers.js';
import type { ChunkPlacement } from './chunk-refs.js';
import type { CommitResult, DeleteResult, NewObject } from './repository.js';
import type { DeleteOptions, WriteOptions } from '../store/types.js';
import { S3Error, type S3ErrorCode, type S3ErrorDetails } from '../s3/errors.js';

export interface CommitThreadOptions {
  file: string;
  durability: 'fsync' | 'relaxed';
}

export interface CommitThreadHooks {
  /** The thread stopped while the server runs (a bug in it): every later PUT or DELETE fails with a 500. */
  onStopped?: (err: Error) => void;
}

/** A PutObject commit (commitObject) or a DeleteObject (deleteObject), run in a batch. */
export type CommitItem =
  | { id: number; op: 'put'; bucketId: number; key: string; row: NewObject; placements: ChunkPlacement[]; opts: WriteOptions }
  | { id: number; op: 'delete'; bucketId: number; key: string; opts: DeleteOptions };

/** An error as it crosses the thread: structured clone drops an Error's own fields. */
export interface ErrorDescription {
  name: string;
  message: string;
  code?: string;
  /** An S3Error's details (the refusals decided at commit: conditions, object lock). */
  details?: S3ErrorDetails;
}

export type CommitOutcome = { id: number; result: CommitResult | DeleteResult } | { id: number; error: ErrorDescription };

// Messages carry the commits (and the answers) of one turn of the event loop together: each
// message costs a wake-up of the other thread, which cost more than copying a 4 KiB body. A turn
// that gathers COMMIT_BATCH_SEND commits sends them at once (see TurnBatch).
export type CommitRequest = { type: 'commits'; items: CommitItem[] } | { type: 'close' };

export type CommitReply = { type: 'ready' } | { type: 'outcomes'; items: CommitOutcome[] };

/**
 * Commits a turn sends as soon as it has gathered them, instead of at the end of the turn.
 *
 * Why: when all connections' PUTs arrive in one turn, the thread used to wait for the event loop
 * to parse, check and hash every one of them, then commit them all while the event loop sat idle
 * waiting for the answers. Sending the first few early lets the thread commit them while the event
 * loop works through the rest: the two overlap. A batch this size still shares its fsync widely;
 * sizes from 4 to 16 measured alike (docs/performance.md, "Measurements behind constants").
 */
export const COMMIT_BATCH_SEND = 8;

/**
 * Collects what one turn of the event loop produces and hands it to `send` in one piece at the
 * end of the turn, or as soon as `max` items are waiting.
 */
export class TurnBatch<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly max = Infinity,
  ) {}

  add(item: T): void {
    this.items.push(item);
    // The turn's own flush stays scheduled: it sends what gathers after this.
    if (this.items.length >= this.max) {
      this.sendWaiting();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    this.sendWaiting();
  }

  private sendWaiting(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }
}

interface Waiter {
  resolve(r: unknown): void;
  reject(e: unknown): void;
}

/** An error from the commit thread, rebuilt with the fields callers look at (code: SQLITE_*). */
export class CommitError extends Error {
  constructor(
    name: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = name;
  }
}

export class CommitThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private readonly outbox: TurnBatch<CommitItem>;
  private failure?: Error;
  private started = false;
  private closed?: Promise<void>;
  private readonly exited: Promise<void>;
  /** Resolves once the thread opened its connection; rejects if it could not. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    options: CommitThreadOptions,
    private readonly hooks: CommitThreadHooks = {},
  ) {
    this.worker = startWorker(import.meta.url, 'commit-worker', { workerData: options });
    // Like the hash pool's workers: an idle thread must not keep a finished process alive.
    this.worker.unref();
    let failReady!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => {}); // also reported through commit(); a caller may never await it
    this.outbox = new TurnBatch((items) => this.worker.postMessage({ type: 'commits', items } satisfies CommitRequest), COMMIT_BATCH_SEND);
    this.worker.on('message', (m: CommitReply) => this.onReply(m));
    this.worker.on('error', (err) => {
      failReady(err);
      this.fail(err);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      const stopped = new Error('the commit thread stopped');
      failReady(stopped);
      this.fail(stopped);
      resolve();
    }));
  }

  /** commitObject on the commit thread: settles once the batch holding it committed. */
  commit(bucketId: number, key: string, row: NewObject, placements: ChunkPlacement[], opts: WriteOptions = {}): Promise<CommitResult> {
    return this.send<CommitResult>((id) => ({ id, op: 'put', bucketId, key, row, placements, opts }));
  }

  /** deleteObject on the commit thread: settles once the batch holding it committed. */
  delete(bucketId: number, key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.send<DeleteResult>((id) => ({ id, op: 'delete', bucketId, key, opts }));
  }

  private send<R>(item: (id: number) => CommitItem): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.outbox.add(item(id));
    });
  }

  /** Lets queued commits finish, then closes the thread's connection. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) {
        this.outbox.flush();
        this.worker.postMessage({ type: 'close' } satisfies CommitRequest);
      }
      await this.exited;
    })();
    return this.closed;
  }

  private onReply(m: CommitReply): void {
    if (m.type === 'ready') {
      this.started = true;
      this.markReady();
    }
    if (m.type !== 'outcomes') return;
    for (const o of m.items) {
      const w = this.waiting.get(o.id);
      if (!w) continue;
      this.waiting.delete(o.id);
      if ('result' in o) w.resolve(o.result);
      else w.reject(rebuildError(o.error));
    }
  }

  private fail(err: Error): void {
    // Before 'ready' the failure reaches the server through `ready` (a start-up error).
    if (this.started && !this.failure && !this.closed) this.hooks.onStopped?.(err);
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/** The error a commit failed with, as the caller would have seen it on this thread. */
function rebuildError(e: ErrorDescription): Error {
  if (e.name === 'S3Error' && e.code) return new S3Error(e.code as S3ErrorCode, e.details ?? {}, e.message);
  return new CommitError(e.name, e.message, e.code);
}

/** What the server needs of an error to rebuild it (rebuildError). */
export function describeError(err: unknown): ErrorDescription {
  if (err instanceof S3Error) return { name: err.name, message: err.message, code: err.code, details: err.details };
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
}
