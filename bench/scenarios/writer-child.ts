// The writer scenario's child process: the same operation as the in-process table, run in its
// own process so a memory cap (cgroup) applies to it alone. Reads its source from a random file
// (a capped process cannot hold 1000 MiB of source in memory) and prints one JSON line.
//
//   node --import tsx bench/scenarios/writer-child.ts <file> <bytes> <chunkSize> <writers> <rounds> <durability> <tmpRoot>
// tmpRoot holds the per-operation data dirs: the parent removes it, also after an OOM kill.
import fs from 'node:fs';
import type { Durability } from '../../src/storage/chunk-store.js';
import { measureWrite, startHashPool, type WriteMeasure } from './writer-op.js';

const [file, bytes, chunkSize, writers, rounds, durability, tmpRoot] = process.argv.slice(2);
if (!file || !tmpRoot) throw new Error('usage: writer-child.ts <file> <bytes> <chunkSize> <writers> <rounds> <durability> <tmpRoot>');
const hashPool = await startHashPool();
const results: WriteMeasure[] = [];
for (let r = 0; r < Number(rounds); r++) {
  results.push(
    await measureWrite({
      source: () => fs.createReadStream(file, { highWaterMark: 2 ** 20, end: Number(bytes) - 1 }),
      bytes: Number(bytes),
      chunkSize: Number(chunkSize),
      writers: Number(writers),
      durability: durability as Durability,
      hashPool,
      tmpRoot,
    }),
  );
}
await hashPool?.close();
process.stdout.write(JSON.stringify(results) + '\n');
