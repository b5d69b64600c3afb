// The commit thread's side (see commit-thread.ts): its own connection to the database, where
// the commits of PUTs and DELETEs run in group-commit batches. Answers each with its result or
// its error once the batch holding it committed (and, with fsync durability, was synced).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './client.js';
import { GroupCommit } from './group-commit.js';
import { Repository } from './repository.js';
import { TurnBatch, describeError, type CommitOutcome, type CommitReply, type CommitRequest, type CommitThreadOptions } from './commit-thread.js';

// Module state is this thread's own: each CommitThread starts a worker of its own.
const port = parentPort!;
const options = workerData as CommitThreadOptions;
// The server opened (and migrated) the database before it started this thread.
const opened = openDb(options.file, { durability: options.durability, migrate: false });
const group = new GroupCommit(opened.sqlite);
const repo = new Repository(opened.db, group);

const replies = new TurnBatch<CommitOutcome>((items) => port.postMessage({ type: 'outcomes', items } satisfies CommitReply));

port.on('message', (m: CommitRequest) => {
  if (m.type === 'close') {
    group.flush();
    // After the answers of that last batch (promise callbacks, which run before setImmediate).
    setImmediate(() => {
      replies.flush();
      opened.close();
      port.close();
    });
    return;
  }
  for (const c of m.items) {
    const done = c.op === 'put' ? repo.commitObjectGrouped(c.bucketId, c.key, c.row, c.placements, c.opts) : repo.deleteObjectGrouped(c.bucketId, c.key, c.opts);
    done.then(
      (result) => replies.add({ id: c.id, result }),
      (err: unknown) => replies.add({ id: c.id, error: describeError(err) }),
    );
  }
});
port.postMessage({ type: 'ready' } satisfies CommitReply);
