// 1 GiB PUT and GET of one object with the AWS SDK v3 (default settings: CRC32, aws-chunked
// stream) against cairn with default (fsync) durability. Run: npm run build && npx tsx bench/large-sdk.ts
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, machine, median, randomFile, sdkClient, startCairn } from './lib.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const file = randomFile(SIZE);
const cairn = await startCairn();
const s3 = sdkClient(cairn.url);
await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
const put: number[] = [];
const get: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `big-${r}`, Body: fs.createReadStream(file, { highWaterMark: 1 << 20 }), ContentLength: SIZE }));
    put.push(SIZE / 2 ** 20 / ((performance.now() - t) / 1000));
    t = performance.now();
    const res = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `big-${r}` }));
    let n = 0;
    for await (const piece of res.Body as AsyncIterable<Uint8Array>) n += piece.length;
    if (n !== SIZE) throw new Error(`GET returned ${n} bytes`);
    get.push(SIZE / 2 ** 20 / ((performance.now() - t) / 1000));
    console.log(`round ${r + 1}: PUT ${put.at(-1)!.toFixed(0)} MiB/s, GET ${get.at(-1)!.toFixed(0)} MiB/s`);
  }
} finally {
  await cairn.stop();
}
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const report = `# Large object, AWS SDK v3, single stream

Machine: ${machine()}

One ${(SIZE / 2 ** 30).toFixed(2)} GiB object of random bytes, PUT from a file stream (SDK defaults: CRC32
trailer, aws-chunked) then GET to memory, ${ROUNDS} rounds; cairn with default settings
(fsync durability, 8 MiB chunks, 16 write buffers) in its own process on 127.0.0.1.

| operation | MiB/s median (min–max) |
|---|---|
| PUT | ${fmt(put)} |
| GET | ${fmt(get)} |

Command: \`npm run build && npx tsx bench/large-sdk.ts\`
`;
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench/results/large-sdk.md'), report);
console.log(report);
