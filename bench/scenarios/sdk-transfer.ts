// One SDK transfer (PutObject of a file or GetObject drained to nowhere) in a fresh process of
// its own, so that every target meets the same client: no heap grown by the gigabytes a shared
// client moved for the targets before. Set-up (imports, client, file) is done before "ready";
// the transfer starts when "go" arrives on stdin and "done" follows once it was checked (a PUT's
// ETag must be the file's MD5, a GET must bring exactly `size` bytes); a failure exits 1 with
// the reason on stderr.
// Usage: node --import tsx bench/scenarios/sdk-transfer.ts '<json TransferSpec>'
import fs from 'node:fs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { targetClient, type TargetKind } from '../harness.js';

export interface TransferSpec {
  op: 'PUT' | 'GET';
  kind: TargetKind;
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  key: string;
  file: string;
  size: number;
  md5: string;
  timeoutMs: number;
  sdkDefaults: boolean;
}

const spec = JSON.parse(process.argv[2] ?? 'null') as TransferSpec | null;
if (!spec) {
  process.stderr.write("usage: sdk-transfer.ts '<json TransferSpec>'\n");
  process.exit(2);
}
const target = { kind: spec.kind, url: spec.url, pid: 0, credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey }, stop: async () => {} };
const s3 = targetClient(target, { sdkDefaults: spec.sdkDefaults });

async function transfer(): Promise<void> {
  const abortSignal = AbortSignal.timeout(spec!.timeoutMs);
  const { bucket: Bucket, key: Key } = spec!;
  if (spec!.op === 'PUT') {
    const Body = fs.createReadStream(spec!.file, { highWaterMark: 1 << 20 });
    const res = await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: spec!.size }), { abortSignal });
    if (res.ETag?.replace(/"/g, '').toLowerCase() !== spec!.md5) throw new Error(`PUT ${Key} on ${spec!.kind}: ETag ${res.ETag}, expected "${spec!.md5}"`);
    return;
  }
  const res = await s3.send(new GetObjectCommand({ Bucket, Key }), { abortSignal });
  let n = 0;
  for await (const piece of res.Body as AsyncIterable<Uint8Array>) n += piece.length;
  if (n !== spec!.size) throw new Error(`GET ${Key} on ${spec!.kind}: ${n} bytes, expected ${spec!.size}`);
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  transfer().then(
    () => {
      process.stdout.write('done\n');
      s3.destroy();
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});
