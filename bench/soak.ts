// Soak: many concurrent SDK clients mixing PUT (buffer and stream), multipart, GET (whole and
// ranged), HEAD, LIST, COPY and DELETE of 1 KiB..64 MiB objects against `dist/cli.js serve` in
// its own process, for minutes. Every read is compared byte for byte with what was written;
// the server's RSS (VmRSS, VmHWM) and open file descriptors (/proc/<pid>/fd) are sampled
// every second.
//
//   npm run soak                                   10 minutes, 64 clients, 1 KiB..64 MiB
//   SOAK_SECONDS=60 SOAK_CLIENTS=16 npm run soak   shorter
//
// Environment: SOAK_SECONDS (600), SOAK_CLIENTS (64), SOAK_MIN_SIZE (1KiB), SOAK_MAX_SIZE
// (64MiB), SOAK_RESULTS (bench/results/soak.md; '' = do not write). The server runs with its
// defaults (fsync durability, 8 MiB chunks, 16 write buffers) unless CAIRN_* says otherwise.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib.js';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KiB = 1024;
const MiB = 1024 * KiB;
const ACCESS_KEY = 'CAIRNSOAKKEY00000001';
const SECRET = 'cairn-soak-secret-0123456789abcdefghij';
const BUCKET = 'soak';
const KEYS_PER_CLIENT = 6;
const PART_SIZE = 8 * MiB;
const MULTIPART_ABOVE = 24 * MiB;

export interface SoakOptions {
  seconds: number;
  clients: number;
  minSize: number;
  maxSize: number;
  /** Extra environment for the server (CAIRN_*). */
  serverEnv?: Record<string, string>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface Sample {
  t: number;
  rss: number;
  fds: number;
  poolInUse?: number;
  poolWaiters?: number;
  /** V8 heap in use and memory outside it (Buffers, ArrayBuffers), from the server's /metrics. */
  heap?: number;
  external?: number;
}

export interface SoakResult {
  options: SoakOptions;
  durationS: number;
  requests: number;
  byOp: Record<string, number>;
  errors: number;
  corrupt: number;
  errorSamples: string[];
  bytesUp: number;
  bytesDown: number;
  /** Server process, from /proc. */
  rssStartBytes: number;
  rssPeakBytes: number;
  rssEndBytes: number;
  poolBytes: number;
  poolPeakInUse: number;
  poolPeakWaiters: number;
  fdsStart: number;
  fdsAfterWarmup: number;
  fdsMax: number;
  fdsEndUnderLoad: number;
  fdsIdle: number;
  objectsVerifiedAtEnd: number;
  samples: Sample[];
  serverExit: number | null;
}

interface Expected {
  stamp: Buffer;
  off: number;
  size: number;
}

/** One pool of random bytes; an object is a 16-byte stamp + a slice of it, so any range can be rebuilt. */
class Content {
  readonly pool: Buffer;
  private counter = 0;
  constructor(maxSize: number) {
    this.pool = randomBytes(maxSize + MiB);
  }
  make(size: number): Expected {
    const stamp = Buffer.alloc(16);
    stamp.writeUInt32BE(++this.counter, 0);
    randomBytes(12).copy(stamp, 4);
    return { stamp, off: randomInt(0, MiB), size };
  }
  /** Bytes [start, end) of the object. */
  slice(e: Expected, start = 0, end = e.size): Buffer[] {
    const out: Buffer[] = [];
    if (start < 16) out.push(e.stamp.subarray(start, Math.min(16, end)));
    const from = Math.max(start, 16);
    if (end > from) out.push(this.pool.subarray(e.off + from - 16, e.off + end - 16));
    return out;
  }
  whole(e: Expected): Buffer {
    return Buffer.concat(this.slice(e));
  }
}

function logUniform(min: number, max: number): number {
  return Math.round(Math.exp(Math.log(min) + Math.random() * (Math.log(max) - Math.log(min))));
}


function readProc(pid: number): { rss: number; hwm: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

async function scrapePool(adminUrl: string, token: string): Promise<{ inUse: number; waiters: number; heap: number; external: number } | undefined> {
  try {
    const res = await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { inUse: num('cairn_pool_buffers_in_use'), waiters: num('cairn_pool_waiters'), heap: num('nodejs_heap_size_used_bytes'), external: num('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}

async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; adminUrl: string; token: string; dataDir: string; exited: Promise<number | null> }> {
  const cli = path.join(ROOT, 'dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm run soak does)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-soak-'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      ...process.env,
      CAIRN_HOST: '127.0.0.1',
      CAIRN_PORT: String(port),
      CAIRN_ADMIN_PORT: String(adminPort),
      CAIRN_ADMIN_TOKEN: token,
      CAIRN_DATA_DIR: dataDir,
      CAIRN_ACCESS_KEY_ID: ACCESS_KEY,
      CAIRN_SECRET_ACCESS_KEY: SECRET,
      // One log line per request would make the soak measure the log pipe.
      CAIRN_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cairn exited with ${child.exitCode} before it was ready`);
    try {
      await fetch(url + '/', { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > until) throw new Error('cairn did not answer within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, url, adminUrl: `http://127.0.0.1:${adminPort}`, token, dataDir, exited };
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  const server = await startServer(o.serverEnv ?? {});
  const pid = server.child.pid!;
  const chunkSize = parseSizeEnv(o.serverEnv?.CAIRN_CHUNK_SIZE ?? process.env.CAIRN_CHUNK_SIZE, 8 * MiB);
  const buffers = Number(o.serverEnv?.CAIRN_WRITE_BUFFERS ?? process.env.CAIRN_WRITE_BUFFERS ?? 16);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients + 4 });
  const s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    // Every failure counts: no retries to hide one.
    maxAttempts: 1,
    requestHandler: { httpAgent: agent, connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
  const content = new Content(o.maxSize);
  const byOp: Record<string, number> = {};
  let errors = 0;
  let corrupt = 0;
  let bytesUp = 0;
  let bytesDown = 0;
  const errorSamples: string[] = [];
  const fail = (what: string, err: unknown) => {
    errors++;
    if (errorSamples.length < 20) errorSamples.push(`${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  };
  const count = (op: string) => (byOp[op] = (byOp[op] ?? 0) + 1);

  const samples: Sample[] = [];
  const started = Date.now();
  const first = readProc(pid);
  let stopSampling = false;
  const sampler = (async () => {
    while (!stopSampling) {
      try {
        const p = readProc(pid);
        const pool = await scrapePool(server.adminUrl, server.token);
        samples.push({ t: (Date.now() - started) / 1000, rss: p.rss, fds: p.fds, poolInUse: pool?.inUse, poolWaiters: pool?.waiters, heap: pool?.heap, external: pool?.external });
      } catch {
        // The process is gone: the caller will see it.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const deadline = started + o.seconds * 1000;
  const progress = setInterval(() => {
    const total = Object.values(byOp).reduce((a, b) => a + b, 0);
    const last = samples.at(-1);
    log(`${Math.round((Date.now() - started) / 1000)} s: ${total} requests, ${errors} errors, ${corrupt} corrupt, RSS ${mb(last?.rss ?? 0)} MiB (heap ${mb(last?.heap ?? 0)}, external ${mb(last?.external ?? 0)}), ${last?.fds ?? '?'} fds, pool ${last?.poolInUse ?? '?'}/${buffers} (${last?.poolWaiters ?? '?'} waiting)`);
  }, 10_000);

  const expected: Array<Map<string, Expected | undefined>> = [];

  async function verifyGet(key: string, e: Expected, range?: [number, number]): Promise<void> {
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range ? `bytes=${range[0]}-${range[1]}` : undefined }));
    const [start, end] = range ? [range[0], Math.min(range[1], e.size - 1) + 1] : [0, e.size];
    const want = content.slice(e, start, end);
    let wi = 0;
    let wo = 0;
    let got = 0;
    let ok = true;
    for await (const piece of res.Body as AsyncIterable<Uint8Array>) {
      let p = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      got += p.length;
      // Compare against the expected pieces without concatenating anything.
      while (ok && p.length > 0) {
        const w = want[wi];
        if (!w) {
          ok = false;
          break;
        }
        const n = Math.min(p.length, w.length - wo);
        if (!p.subarray(0, n).equals(w.subarray(wo, wo + n))) ok = false;
        p = p.subarray(n);
        wo += n;
        if (wo === w.length) {
          wi++;
          wo = 0;
        }
      }
    }
    bytesDown += got;
    if (!ok || got !== end - start) {
      corrupt++;
      throw new Error(`corrupt read of ${key}${range ? ` bytes=${range[0]}-${range[1]}` : ''}: ${got} bytes, expected ${end - start}${ok ? '' : ', content differs'}`);
    }
  }

  async function put(key: string, e: Expected): Promise<void> {
    if (e.size > MULTIPART_ABOVE) {
      count('CreateMultipartUpload');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      const abort = Math.random() < 0.05;
      for (let start = 0, n = 1; start < e.size; start += PART_SIZE, n++) {
        const body = Buffer.concat(content.slice(e, start, Math.min(start + PART_SIZE, e.size)));
        const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: n, Body: body }));
        count('UploadPart');
        bytesUp += body.length;
        parts.push({ PartNumber: n, ETag: r.ETag! });
        if (abort && n === 2) break;
      }
      if (abort) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }));
        count('AbortMultipartUpload');
        throw new AbortedUpload();
      }
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      count('CompleteMultipartUpload');
      return;
    }
    if (Math.random() < 0.5) {
      // A Buffer: hex SHA-256 payload hash and a CRC32 header.
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: content.whole(e) }));
      count('PutObject(buffer)');
    } else {
      // A stream: aws-chunked with a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Readable.from(content.slice(e)), ContentLength: e.size }));
      count('PutObject(stream)');
    }
    bytesUp += e.size;
  }

  async function worker(id: number): Promise<void> {
    const mine = new Map<string, Expected | undefined>();
    expected[id] = mine;
    const keys = Array.from({ length: KEYS_PER_CLIENT }, (_, j) => `c${id}/k${j}`);
    while (Date.now() < deadline) {
      const key = keys[randomInt(keys.length)]!;
      const e = mine.get(key);
      const roll = Math.random();
      try {
        if (!mine.has(key)) {
          // Unknown (first use, or a failed request left it so): make it known by deleting it.
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
          count('DeleteObject');
          mine.set(key, undefined);
        } else if (roll < 0.35) {
          const next = content.make(logUniform(o.minSize, o.maxSize));
          try {
            await put(key, next);
            mine.set(key, next);
          } catch (err) {
            if (!(err instanceof AbortedUpload)) throw err;
          }
        } else if (roll < 0.65) {
          if (e) {
            const ranged = Math.random() < 0.3 && e.size > 1;
            const a = ranged ? randomInt(0, e.size) : 0;
            await verifyGet(key, e, ranged ? [a, a + randomInt(0, Math.min(e.size, 4 * MiB))] : undefined);
            count(ranged ? 'GetObject(range)' : 'GetObject');
          } else {
            const err = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then(
              (r) => {
                (r.Body as Readable | undefined)?.destroy();
                return new Error(`GET of deleted ${key} succeeded`);
              },
              (x: Error) => x,
            );
            count('GetObject(missing)');
            if (err.name !== 'NoSuchKey') throw err;
          }
        } else if (roll < 0.72) {
          const r = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then((x) => x, (x: { name?: string }) => x);
          count('HeadObject');
          if (e ? (r as { ContentLength?: number }).ContentLength !== e.size : (r as { name?: string }).name !== 'NotFound') {
            throw new Error(`HEAD ${key}: ${JSON.stringify(r).slice(0, 200)}, expected ${e ? e.size : 'NotFound'}`);
          }
        } else if (roll < 0.82) {
          const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `c${id}/` }));
          count('ListObjectsV2');
          // Keys a failed request left unknown are not compared.
          const listed = Object.fromEntries((r.Contents ?? []).filter((c) => mine.has(c.Key!)).map((c) => [c.Key!, c.Size!]));
          const want = Object.fromEntries([...mine].filter(([, v]) => v).map(([k, v]) => [k, v!.size]));
          if (JSON.stringify(sortKeys(listed)) !== JSON.stringify(sortKeys(want))) throw new Error(`LIST c${id}/: ${JSON.stringify(listed)} != ${JSON.stringify(want)}`);
        } else if (roll < 0.88) {
          const src = keys.find((k) => mine.get(k) && k !== key);
          if (src) {
            await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/${src}` }));
            count('CopyObject');
            mine.set(key, mine.get(src));
          }
        } else if (roll < 0.97) {
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
          count('DeleteObject');
          mine.set(key, undefined);
        } else {
          const two = [key, keys[randomInt(keys.length)]!];
          await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: two.map((Key) => ({ Key })) } }));
          count('DeleteObjects');
          for (const k of two) mine.set(k, undefined);
        }
      } catch (err) {
        fail(`client ${id} ${key}`, err);
        // The state of this key is unknown now: the next turn on it deletes it.
        mine.delete(key);
      }
    }
  }

  // Ramp the clients up over the first seconds so start-up is not one burst.
  await Promise.all(Array.from({ length: o.clients }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * Math.min(5000, (o.seconds * 1000) / 10)) / o.clients));
    return worker(i);
  }));
  clearInterval(progress);
  const loadEnded = Date.now();
  const underLoad = samples.filter((s) => s.t * 1000 <= loadEnded - started);
  const fdsEndUnderLoad = underLoad.at(-1)?.fds ?? 0;

  // Every object as the clients left it, read back once more.
  let objectsVerifiedAtEnd = 0;
  for (const [id, mine] of expected.entries()) {
    for (const [key, e] of mine ?? []) {
      if (!e) continue;
      try {
        await verifyGet(key, e);
        objectsVerifiedAtEnd++;
      } catch (err) {
        fail(`final read of client ${id} ${key}`, err);
      }
    }
  }

  // Idle: the client's keep-alive sockets closed, the server's descriptors back to their baseline.
  // The server sees each close when its turn comes: on a loaded machine that can take seconds, so
  // wait for the baseline (bounded: 10 s), and report what is left if it never comes.
  agent.destroy();
  s3.destroy();
  let idle = readProc(pid);
  for (let i = 0; i < 20 && idle.fds > first.fds + 2; i++) {
    await new Promise((r) => setTimeout(r, 500));
    idle = readProc(pid);
  }
  stopSampling = true;
  await sampler;

  server.child.kill('SIGTERM');
  const serverExit = await server.exited;
  fs.rmSync(server.dataDir, { recursive: true, force: true });

  const warmup = samples.find((s) => s.t >= Math.min(30, o.seconds / 5)) ?? samples[0];
  return {
    options: o,
    durationS: (loadEnded - started) / 1000,
    requests: Object.values(byOp).reduce((a, b) => a + b, 0),
    byOp,
    errors,
    corrupt,
    errorSamples,
    bytesUp,
    bytesDown,
    rssStartBytes: first.rss,
    rssPeakBytes: Math.max(idle.hwm, ...samples.map((s) => s.rss)),
    rssEndBytes: idle.rss,
    poolBytes: chunkSize * buffers,
    poolPeakInUse: Math.max(0, ...samples.map((s) => s.poolInUse ?? 0)),
    poolPeakWaiters: Math.max(0, ...samples.map((s) => s.poolWaiters ?? 0)),
    fdsStart: first.fds,
    fdsAfterWarmup: warmup?.fds ?? 0,
    fdsMax: Math.max(0, ...underLoad.map((s) => s.fds)),
    fdsEndUnderLoad,
    fdsIdle: idle.fds,
    objectsVerifiedAtEnd,
    samples,
    serverExit,
  };
}

class AbortedUpload extends Error {}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function parseSizeEnv(v: string | undefined, dflt: number): number {
  if (!v) return dflt;
  const m = /^(\d+)\s*(k|kib|m|mib|g|gib)?$/i.exec(v.trim());
  if (!m) return dflt;
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? KiB : unit.startsWith('m') ? MiB : unit.startsWith('g') ? 1024 * MiB : 1);
}

export const mb = (bytes: number) => Math.round(bytes / MiB);

export function summary(r: SoakResult): string {
  const o = r.options;
  const gib = (b: number) => (b / 1024 ** 3).toFixed(1);
  const ops = Object.entries(r.byOp).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `${o.clients} clients, ${r.durationS.toFixed(0)} s, objects ${o.minSize} B..${mb(o.maxSize)} MiB (log-uniform)`,
    `requests: ${r.requests} (${ops})`,
    `errors: ${r.errors}, corrupt reads: ${r.corrupt}, objects read back at the end: ${r.objectsVerifiedAtEnd}`,
    `traffic: ${gib(r.bytesUp)} GiB up, ${gib(r.bytesDown)} GiB down`,
    `server RSS: ${mb(r.rssStartBytes)} MiB at start, peak ${mb(r.rssPeakBytes)} MiB, ${mb(r.rssEndBytes)} MiB at the end; write-buffer pool ${mb(r.poolBytes)} MiB (peak ${r.poolPeakInUse} buffers lent, ${r.poolPeakWaiters} uploads waiting)`,
    `server fds: ${r.fdsStart} at start, ${r.fdsAfterWarmup} after warm-up, max ${r.fdsMax}, ${r.fdsEndUnderLoad} at the end of the load, ${r.fdsIdle} idle`,
    `server exit code: ${r.serverExit}`,
    ...r.errorSamples.map((e) => `  error: ${e}`),
  ].join('\n');
}

function markdown(r: SoakResult, command: string, commit: string): string {
  const o = r.options;
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const every = Math.max(1, Math.floor(r.samples.length / 20));
  const rows = r.samples.filter((_, i) => i % every === 0).map((s) => `| ${s.t.toFixed(0)} | ${mb(s.rss)} | ${s.heap === undefined ? '' : mb(s.heap)} | ${s.external === undefined ? '' : mb(s.external)} | ${s.fds} | ${s.poolInUse ?? ''} | ${s.poolWaiters ?? ''} |`);
  const ops = Object.entries(r.byOp).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `| ${k} | ${v} |`);
  return `# Soak: ${o.clients} concurrent SDK clients for ${Math.round(r.durationS / 60)} minutes

Machine: ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, commit ${commit}, ${new Date().toISOString()}

\`dist/cli.js serve\` in its own process on 127.0.0.1 with its defaults (fsync durability, 8 MiB chunks,
16 write buffers = ${mb(r.poolBytes)} MiB pool; log level warn). ${o.clients} AWS SDK v3 clients in one driver process
(keep-alive, no retries: every failure counts) each own ${KEYS_PER_CLIENT} keys and loop for ${o.seconds} s over:
PUT 35% (half Buffer bodies: hex SHA-256 + CRC32 header; half streams: aws-chunked with a CRC32
trailer; above ${mb(MULTIPART_ABOVE)} MiB multipart in ${mb(PART_SIZE)} MiB parts, 5% of those aborted after two parts),
GET 30% (30% of them ranged), HEAD 7%, ListObjectsV2 of the client's prefix 10%, CopyObject 6%,
DeleteObject 9%, DeleteObjects 3%. Sizes are log-uniform ${o.minSize} B..${mb(o.maxSize)} MiB. Every GET is compared
byte for byte with what was written, every listing and HEAD with the expected keys and sizes;
at the end every object is read back once more. RSS (VmRSS, peak from VmHWM) and open file
descriptors (/proc/<pid>/fd) of the server are sampled every second, pool use from /metrics.

| | |
|---|---|
| requests | ${r.requests} |
| errors | ${r.errors} |
| corrupt reads | ${r.corrupt} |
| objects read back at the end | ${r.objectsVerifiedAtEnd} |
| traffic | ${(r.bytesUp / 1024 ** 3).toFixed(1)} GiB up, ${(r.bytesDown / 1024 ** 3).toFixed(1)} GiB down |
| server RSS | ${mb(r.rssStartBytes)} MiB at start, **peak ${mb(r.rssPeakBytes)} MiB**, ${mb(r.rssEndBytes)} MiB at the end |
| write-buffer pool | ${mb(r.poolBytes)} MiB; peak ${r.poolPeakInUse} buffers lent, ${r.poolPeakWaiters} uploads waiting |
| server file descriptors | ${r.fdsStart} at start, ${r.fdsAfterWarmup} after warm-up, max ${r.fdsMax}, ${r.fdsEndUnderLoad} at the end of the load, ${r.fdsIdle} once idle |
| server exit (SIGTERM) | ${r.serverExit} |

What the RSS holds besides the write-buffer pool (SharedArrayBuffers allocated on first use and
kept, so not in the "external" column): the hashing workers' own V8 heaps, for each GET in flight
a few 1 MiB pieces (the one being sent, one buffered, one held back until its chunk verified),
V8's heap, SQLite's page cache, and pages malloc keeps after buffers are freed. It levels off
instead of growing with the traffic or the object sizes; the samples below show it.
${r.errorSamples.length ? `\nFirst errors:\n\n${r.errorSamples.map((e) => `- ${e}`).join('\n')}\n` : ''}
Requests by operation:

| operation | requests |
|---|---|
${ops.join('\n')}

Samples:

| s | RSS MiB | V8 heap MiB | external MiB | fds | pool buffers lent | uploads waiting |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Command: \`${command}\`
`;
}

function currentCommit(): string {
  try {
    let head = fs.readFileSync(path.join(ROOT, '.git/HEAD'), 'utf8').trim();
    if (head.startsWith('ref: ')) head = fs.readFileSync(path.join(ROOT, '.git', head.slice(5)), 'utf8').trim();
    return head.slice(0, 7) + (dirty() ? ' (with uncommitted changes)' : '');
  } catch {
    return '?';
  }
}

function dirty(): boolean {
  try {
    return execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd: ROOT }).toString().trim() !== '';
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const opts: SoakOptions = {
    seconds: Number(env.SOAK_SECONDS ?? 600),
    clients: Number(env.SOAK_CLIENTS ?? 64),
    minSize: parseSizeEnv(env.SOAK_MIN_SIZE, KiB),
    maxSize: parseSizeEnv(env.SOAK_MAX_SIZE, 64 * MiB),
    log: (line) => process.stdout.write(line + '\n'),
  };
  // The commit the server was built from: read before the run, which others may commit during.
  const commit = currentCommit();
  const r = await runSoak(opts);
  process.stdout.write('\n' + summary(r) + '\n');
  const out = env.SOAK_RESULTS ?? path.join(ROOT, 'bench/results/soak.md');
  const command = [
    env.SOAK_SECONDS ? `SOAK_SECONDS=${env.SOAK_SECONDS}` : '',
    env.SOAK_CLIENTS ? `SOAK_CLIENTS=${env.SOAK_CLIENTS}` : '',
    'npm run soak',
  ].filter(Boolean).join(' ');
  if (out) {
    fs.writeFileSync(out, markdown(r, command, commit));
    process.stdout.write(`written to ${path.relative(process.cwd(), out)}\n`);
  }
  process.exitCode = r.errors === 0 && r.corrupt === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
