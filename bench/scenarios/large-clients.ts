// The two ways the large-object scenario moves bytes: the AWS SDK v3 and the system curl, each
// transfer in a process of its own. Every transfer is checked (ETag, byte count), so a broken or
// truncated transfer throws instead of being timed as a fast one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { targetClient, type Target } from '../harness.js';
import { ROOT } from '../lib.js';
import type { TransferSpec } from './sdk-transfer.js';

export const BUCKET = 'bench';

/** What every transfer sends or expects back. */
export interface Payload {
  file: string;
  size: number;
  /** Hex MD5 of the file: a single PUT's ETag on every target, so it proves all bytes arrived. */
  md5: string;
  timeoutMs: number;
}

export type Op = 'PUT' | 'GET';

export interface Mover {
  /**
   * Gets one transfer ready (a client process started and set up); the function it resolves to
   * runs the transfer and resolves once it was checked. Only that part is timed.
   */
  prepare(op: Op, key: string): Promise<() => Promise<void>>;
  close(): void;
}

function checkEtag(target: Target, key: string, etag: string | undefined, md5: string): void {
  if (etag?.replace(/"/g, '').toLowerCase() !== md5) throw new Error(`PUT ${key} on ${target.kind}: ETag ${etag}, expected "${md5}"`);
}

function checkSize(target: Target, key: string, got: number, want: number): void {
  if (got !== want) throw new Error(`GET ${key} on ${target.kind}: ${got} bytes, expected ${want}`);
}

/**
 * The SDK in a fresh process per transfer (bench/scenarios/sdk-transfer.ts). In the runner's own
 * process the client's heap carried the gigabytes moved for every target before: the same GET
 * of the file ceiling measured 637 to 1,260 MiB/s from one round to the next.
 */
export function sdkMover(target: Target, p: Payload, opts: { sdkDefaults?: boolean } = {}): Mover {
  return {
    async prepare(op, key) {
      const spec: TransferSpec = {
        op,
        kind: target.kind,
        url: target.url,
        ...target.credentials,
        bucket: BUCKET,
        key,
        file: p.file,
        size: p.size,
        md5: p.md5,
        timeoutMs: p.timeoutMs,
        sdkDefaults: opts.sdkDefaults ?? false,
      };
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/scenarios/sdk-transfer.ts'), JSON.stringify(spec)], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code));
      });
      const failed = (code: number | null) => new Error(`SDK ${op} ${key} on ${target.kind} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' / ')}`);
      // Ready, or gone before it was.
      await new Promise<void>((resolve, reject) => {
        const onData = () => {
          if (!out.includes('ready')) return;
          child.stdout.off('data', onData);
          resolve();
        };
        child.stdout.on('data', onData);
        exited.then((code) => reject(failed(code)), reject);
      });
      return async () => {
        child.stdin.end('go\n');
        const code = await exited;
        if (code !== 0 || !out.includes('done')) throw failed(code);
      };
    },
    close: () => {},
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

/**
 * `headers`: more request headers, signed (SSE-C's); `cacert`: the CA of an https target;
 * `anyEtag`: the ETag is not the MD5 (SSE-C); `presign`: curl sends a URL presigned with these
 * headers signed instead of signing itself (curl 7.88's --aws-sigv4 sorts `...-key-md5` before
 * `...-key`, so S3 and cairn refuse its SSE-C signatures).
 */
export function curlMover(
  target: Target,
  p: Payload,
  opts: { headers?: Record<string, string>; cacert?: string; anyEtag?: boolean; presign?: (op: Op, key: string) => Promise<string> } = {},
): Mover {
  // The ceilings take anything. For cairn and s3rver curl signs the headers but not the body
  // (it cannot hash a file it streams), so it has to say UNSIGNED-PAYLOAD; s3rver refuses
  // any request without x-amz-content-sha256, GETs included.
  const auth =
    target.kind === 'cairn' || target.kind === 's3rver'
      ? ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${target.credentials.accessKeyId}:${target.credentials.secretAccessKey}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD']
      : [];
  const extra: string[] = [];
  for (const [k, v] of Object.entries(opts.headers ?? {})) extra.push('-H', `${k}: ${v}`);
  const cacert = opts.cacert ?? target.ca;
  if (cacert) extra.push('--cacert', cacert);
  const plainUrl = (key: string) => `${target.url}/${BUCKET}/${encodeURIComponent(key)}`;
  const urls = new Map<string, string>();
  const url = (key: string, op: Op = 'PUT') => urls.get(`${op} ${key}`) ?? plainUrl(key);
  const args = (op: Op, key: string) => (urls.has(`${op} ${key}`) ? extra : [...auth, ...extra]);
  const report = `\n${MARK} %{http_code} %{size_upload} %{size_download}\n`;
  const put = async (key: string) => {
    const out = await runCurl(`PUT ${plainUrl(key)}`, [...args('PUT', key), '-T', p.file, '-o', '/dev/null', '-D', '-', '-w', report, url(key, 'PUT')], p.timeoutMs);
    const r = curlReport(out);
    if (r.status !== 200 || r.upload !== p.size) throw new Error(`PUT ${key} on ${target.kind}: status ${r.status}, sent ${r.upload} of ${p.size} bytes`);
    // With Expect: 100-continue there is an interim answer first; the ETag is in the last.
    const etags = [...out.slice(0, out.lastIndexOf(MARK)).matchAll(/^etag:\s*(.*?)\s*$/gim)];
    if (!opts.anyEtag) checkEtag(target, key, etags.at(-1)?.[1], p.md5);
  };
  const get = async (key: string) => {
    const r = curlReport(await runCurl(`GET ${plainUrl(key)}`, [...args('GET', key), '-o', '/dev/null', '-w', report, url(key, 'GET')], p.timeoutMs));
    if (r.status !== 200) throw new Error(`GET ${key} on ${target.kind}: status ${r.status}`);
    checkSize(target, key, r.download, p.size);
  };
  return {
    // curl starts in milliseconds: its start is part of the timed transfer.
    prepare: async (op, key) => {
      // Presigning is not part of the timed transfer.
      if (opts.presign) urls.set(`${op} ${key}`, await opts.presign(op, key));
      return () => (op === 'PUT' ? put(key) : get(key));
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
