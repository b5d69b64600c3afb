// One PutObject of a file with the AWS SDK's defaults (CRC32 trailer, aws-chunked), in a
// process of its own: the `responsive` scenario runs it next to its GET load so the SDK's CPU
// does not slow the load generator's event loop. Prints "start" just before sending and
// "done <ms>" once cairn has answered.
// Usage: node --import tsx bench/scenarios/sdk-upload.ts <url> <accessKeyId> <secret> <file> <key>
import fs from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { targetClient } from '../harness.js';

const [url, accessKeyId, secretAccessKey, file, key] = process.argv.slice(2);
if (!url || !accessKeyId || !secretAccessKey || !file || !key) {
  process.stderr.write('usage: sdk-upload.ts <url> <accessKeyId> <secret> <file> <key>\n');
  process.exit(2);
}
const s3 = targetClient({ kind: 'cairn', url, pid: 0, credentials: { accessKeyId, secretAccessKey }, stop: async () => {} }, { sdkDefaults: true });
const size = fs.statSync(file).size;
process.stdout.write('start\n');
const t = performance.now();
await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: fs.createReadStream(file, { highWaterMark: 1 << 20 }), ContentLength: size }));
process.stdout.write(`done ${(performance.now() - t).toFixed(1)}\n`);
s3.destroy();
