// The two ways the large-object scenario moves bytes: the AWS SDK v3 in the runner's process
// and the system curl as a child process. Every transfer is checked (ETag, byte count), so a
// broken or truncated transfer throws instead of being timed as a fast one.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { targetClient, type Target } from '../harness.js';

export const BUCKET = 'bench';

/** What every transfer sends or expects back. */
export interface Payload {
  file: string;
  size: number;
  /** Hex MD5 of the file: a single PUT's ETag on every target, so it proves all bytes arrived. */
  md5: string;
  timeoutMs: number;
}

export interface Mover {
  put(key: string): Promise<void>;
  get(key: string): Promise<void>;
  close(): void;
}

function checkEtag(target: Target, key: string, etag: string | undefined, md5: string): void {
  if (etag?.replace(/"/g, '').toLowerCase() !== md5) throw new Error(`PUT ${key} on ${target.kind}: ETag ${etag}, expected "${md5}"`);
}

function checkSize(target: Target, key: string, got: number, want: number): void {
  if (got !== want) throw new Error(`GET ${key} on ${target.kind}: ${got} bytes, expected ${want}`);
}

export function sdkMover(target: Target, p: Payload, opts: { sdkDefaults?: boolean } = {}): Mover {
  const s3 = targetClient(target, opts);
  return {
    async put(key) {
      const body = fs.createReadStream(p.file, { highWaterMark: 1 << 20 });
      const res = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: p.size }), {
        abortSignal: AbortSignal.timeout(p.timeoutMs),
      });
      checkEtag(target, key, res.ETag, p.md5);
    },
    async get(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }), { abortSignal: AbortSignal.timeout(p.timeoutMs) });
      let n = 0;
      for await (const piece of res.Body as AsyncIterable<Uint8Array>) n += piece.length;
      checkSize(target, key, n, p.size);
    },
    close: () => s3.destroy(),
  };
}

// Marks where curl's -w report starts, after the response headers that -D - puts on stdout.
const MARK = '@@cairn-bench@@';

function runCurl(what: string, args: string[], timeoutMs: number): Promise<string> {
  const all = ['-sS', '--fail', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('curl', all, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`curl ${what} failed (${signal ?? `exit ${code}`}): ${err.trim()}`));
    });
  });
}

/** The -w report: HTTP status and bytes moved. */
function curlReport(out: string): { status: number; upload: number; download: number } {
  const at = out.lastIndexOf(MARK);
  const [status, upload, download] = out.slice(at + MARK.length).trim().split(/\s+/).map(Number);
  if (at < 0 || !Number.isFinite(status)) throw new Error(`curl printed no report: ${out.slice(-300)}`);
  return { status: status!, upload: upload!, download: download! };
}

export function curlMover(target: Target, p: Payload): Mover {
  // The ceilings take anything. For cairn and s3rver curl signs the headers but not the body
  // (it cannot hash a file it streams), so it has to say UNSIGNED-PAYLOAD; s3rver refuses
  // any request without x-amz-content-sha256, GETs included.
  const auth =
    target.kind === 'cairn' || target.kind === 's3rver'
      ? ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.credentials.accessKeyId}:${target.credentials.secretAccessKey}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD']
      : [];
  const url = (key: string) => `${target.url}/${BUCKET}/${encodeURIComponent(key)}`;
  const report = `\n${MARK} %{http_code} %{size_upload} %{size_download}\n`;
  return {
    async put(key) {
      const out = await runCurl(`PUT ${url(key)}`, [...auth, '-T', p.file, '-o', '/dev/null', '-D', '-', '-w', report, url(key)], p.timeoutMs);
      const r = curlReport(out);
      if (r.status !== 200 || r.upload !== p.size) throw new Error(`PUT ${key} on ${target.kind}: status ${r.status}, sent ${r.upload} of ${p.size} bytes`);
      // With Expect: 100-continue there is an interim answer first; the ETag is in the last.
      const etags = [...out.slice(0, out.lastIndexOf(MARK)).matchAll(/^etag:\s*(.*?)\s*$/gim)];
      checkEtag(target, key, etags.at(-1)?.[1], p.md5);
    },
    async get(key) {
      const r = curlReport(await runCurl(`GET ${url(key)}`, [...auth, '-o', '/dev/null', '-w', report, url(key)], p.timeoutMs));
      if (r.status !== 200) throw new Error(`GET ${key} on ${target.kind}: status ${r.status}`);
      checkSize(target, key, r.download, p.size);
    },
    close: () => {},
  };
}

/** Removes keys between PUT rounds (untimed), so rounds create afresh and the disk does not fill. */
export async function deleteKeys(target: Target, keys: string[]): Promise<void> {
  const s3 = targetClient(target);
  try {
    for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  } finally {
    s3.destroy();
  }
}
