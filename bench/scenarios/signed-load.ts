// SigV4-signed S3 request load from autocannon, shared by the `small` and `responsive`
// scenarios. autocannon runs in this process and is the same generator for every target.
// Figures come from its per-response events rather than its own summary: that way a run has a
// warm-up that is not counted, can be cut short by an outside event (the end of an upload), and
// latencies keep their sub-millisecond part (autocannon's histogram stores whole milliseconds).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ALGORITHM, canonicalRequest, credentialScope, formatAmzDate, signatureHex, signingKey, stringToSign } from '../../src/auth/sigv4.js';
import { targetClient, type Target } from '../harness.js';

export const BUCKET = 'bench';
const REGION = 'us-east-1';
const MAX_REQUESTS_PER_SOCKET = 1000;
const SIGNED_HEADERS = ['host', 'x-amz-content-sha256', 'x-amz-date'];
export const EMPTY_SHA256 = createHash('sha256').digest('hex');

// autocannon ships no types; the part of its programmatic API used here.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
/** autocannon's per-connection client; internal, used only to let connections drain at the end. */
interface AutocannonClient {
  reqsMade: number;
  responseMax: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', fn: (client: AutocannonClient, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
  stop(): void;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
  sampleInt: number;
  reconnectRate: number;
  requests: Array<AutocannonRequest | { setupRequest(req: AutocannonRequest): AutocannonRequest }>;
}) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/**
 * Header signing for one target. The signing key only changes with the date, so it is derived
 * once a day instead of per request: the generator's CPU is what limits the rate a single
 * process can offer, and four HMACs per request would be spent on nothing.
 */
export class Signer {
  private day = '';
  private key: Buffer = Buffer.alloc(0);
  private readonly host: string;

  constructor(private readonly target: Target) {
    this.host = new URL(target.url).host;
  }

  headers(method: string, rawPath: string, payloadHash: string): Record<string, string> {
    const amzDate = formatAmzDate(new Date());
    const day = amzDate.slice(0, 8);
    if (day !== this.day) {
      this.key = signingKey(this.target.credentials.secretAccessKey, day, REGION, 's3');
      this.day = day;
    }
    const headers: Record<string, string> = { host: this.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
    const scope = credentialScope(day, REGION, 's3');
    const cr = canonicalRequest({ method, rawPath, rawQuery: '', headers, signedHeaders: SIGNED_HEADERS, payloadHash });
    const signature = signatureHex(this.key, stringToSign(amzDate, scope, cr));
    headers.authorization = `${ALGORITHM} Credential=${this.target.credentials.accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS.join(';')}, Signature=${signature}`;
    return headers;
  }
}

export interface LoadRequest {
  method: 'GET' | 'PUT';
  key: string;
  body?: Buffer;
  /** Hex SHA-256 of the body (x-amz-content-sha256). */
  sha256: string;
}

/**
 * 4 KiB PUT bodies that never repeat: cairn stores chunks by content and skips writing one it
 * already has, so one fixed body would measure its dedup path instead of a durable write. A
 * random base with a per-generator nonce and a counter in front is as cheap to hash as a
 * fixed body (a few µs for 4 KiB), and distinct across cells, rounds and targets.
 */
export function uniqueBodies(size: number): (n: number) => { body: Buffer; sha256: string } {
  const base = randomBytes(size);
  const nonce = randomBytes(8);
  nonce.copy(base, 0);
  return (n) => {
    const body = Buffer.from(base);
    body.writeUInt32BE(n >>> 0, 8);
    return { body, sha256: createHash('sha256').update(body).digest('hex') };
  };
}

/** Puts `count` objects of `size` random bytes at keys made by `key(i)`, `concurrency` at a time. */
export async function seedObjects(target: Target, count: number, size: number, key: (i: number) => string, concurrency = 16): Promise<void> {
  const s3 = targetClient(target, { maxSockets: concurrency });
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(i), Body: randomBytes(size) }));
        }
      }),
    );
  } finally {
    s3.destroy();
  }
}

export interface LoadOptions {
  connections: number;
  /** Load that is run but not counted (connections, JIT, server warm-up). */
  warmupSeconds: number;
  /** The longest counted window after the warm-up. */
  seconds: number;
  /**
   * The n-th request over all connections, signed as it is sent; or a fixed list that every
   * connection walks in turn, signed once when the load starts (a signature stays valid for
   * the 15 minutes of allowed clock skew). A fixed list spares the generator the signing and
   * the request building per request: at several thousand GETs a second on two cores, that
   * work was taking CPU from the server under test.
   */
  request: ((n: number) => LoadRequest) | LoadRequest[];
  /** Ends the counted window (and the load) early when it settles. */
  until?: Promise<unknown>;
}

export interface LoadFigures {
  /** 2xx responses per second within the counted window. */
  ops: number;
  /** Latency percentiles in ms of the responses within the window. */
  p50: number;
  p99: number;
  responses: number;
  /** Length of the counted window; shorter than asked if `until` settled first. */
  seconds: number;
  shortened: boolean;
  /** CPU used during the window, in cores (1 = one core busy all the time). */
  generatorCpu: number;
  serverCpu: number;
}

/** User+system CPU seconds of a process (all its threads), from /proc. */
function procCpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * Runs signed requests against `target` with autocannon and returns the figures of the counted
 * window. Any connection error, timeout or non-2xx answer during the whole run (warm-up
 * included) fails it: a benchmark that counts errors as fast answers proves nothing.
 */
export async function signedLoad(target: Target, opts: LoadOptions): Promise<LoadFigures> {
  const signer = new Signer(target);
  const signed = (r: LoadRequest): AutocannonRequest => {
    const path = `/${BUCKET}/${r.key}`;
    return { method: r.method, path, body: r.body ?? Buffer.alloc(0), headers: signer.headers(r.method, path, r.sha256) };
  };
  let n = 0;
  let firstError: Error | undefined;
  const latencies: number[] = [];
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let shortened = false;
  let cpuAtStart = { gen: 0, srv: 0 };
  let cpuAtEnd = { gen: 0, srv: 0 };
  const cpuNow = () => {
    const u = process.cpuUsage();
    return { gen: (u.user + u.system) / 1e6, srv: procCpuSeconds(target.pid) };
  };

  const instance = autocannon({
    url: target.url,
    connections: opts.connections,
    pipelining: 1,
    // The window is ended here, by stop(); autocannon's own clock is only a backstop.
    duration: opts.warmupSeconds + opts.seconds + 60,
    timeout: 30,
    // autocannon only notices stop() at its next sample tick.
    sampleInt: 100,
    // cairn answers a socket's 1000th request with Connection: close (node's
    // maxRequestsPerSocket) and a 503 to anything sent on it after that. autocannon ignores
    // that header, so it reconnects by itself at the same count, as an HTTP client honouring
    // the header would; s3rver's connections get the same treatment. (autocannon does not
    // report the response it reconnects on: 1 in 1000 goes uncounted, for both targets.)
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    requests: Array.isArray(opts.request)
      ? opts.request.map(signed)
      : [{ setupRequest: (req) => ({ ...req, ...signed((opts.request as (n: number) => LoadRequest)(n++)) }) }],
  });
  const clients = new Set<AutocannonClient>();
  instance.on('response', (client, status, _bytes, ms) => {
    clients.add(client);
    const now = performance.now();
    if (now >= windowStart && now <= windowEnd && status >= 200 && status < 300) latencies.push(ms);
  });
  instance.on('reqError', (err) => {
    firstError ??= err;
  });

  const started = performance.now();
  // autocannon's stop() destroys sockets with requests in flight, which servers log as errors
  // (and a half-received PUT is work thrown away). Instead each connection is told to finish
  // after the request it has in flight; stop() is only the backstop for one that never answers.
  let backstop: NodeJS.Timeout | undefined;
  const stop = () => {
    if (windowEnd !== Infinity) return;
    windowEnd = performance.now();
    cpuAtEnd = cpuNow();
    for (const c of clients) c.responseMax = Math.max(1, c.reqsMade);
    if (clients.size < opts.connections) instance.stop();
    else backstop = setTimeout(() => instance.stop(), 10_000);
  };
  void opts.until?.then(
    () => {
      if (windowEnd === Infinity) shortened = true;
      stop();
    },
    () => stop(),
  );
  const warm = setTimeout(() => {
    if (windowEnd !== Infinity) return;
    windowStart = performance.now();
    cpuAtStart = cpuNow();
  }, opts.warmupSeconds * 1000);
  const end = setTimeout(stop, (opts.warmupSeconds + opts.seconds) * 1000);
  let result: AutocannonResult;
  try {
    result = await instance;
  } finally {
    clearTimeout(warm);
    clearTimeout(end);
    clearTimeout(backstop);
  }

  if (result.errors || result.timeouts || result.non2xx) {
    const codes = Object.entries(result.statusCodeStats)
      .map(([code, s]) => `${code}×${s.count}`)
      .join(', ');
    throw new Error(
      `${target.kind}: ${result.errors} errors (${result.timeouts} timeouts), ${result.non2xx} non-2xx [${codes}]` +
        (firstError ? `; first error: ${firstError.message}` : '') +
        ` after ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const seconds = windowStart === Infinity ? 0 : (windowEnd - windowStart) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    ops: seconds > 0 ? sorted.length / seconds : NaN,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    responses: sorted.length,
    seconds,
    shortened,
    generatorCpu: seconds > 0 ? (cpuAtEnd.gen - cpuAtStart.gen) / seconds : NaN,
    serverCpu: seconds > 0 ? (cpuAtEnd.srv - cpuAtStart.srv) / seconds : NaN,
  };
}

/** A GET load over `keys` seeded objects (`key(i)`): each connection walks them in turn. */
export function rotatingGets(keys: number, key: (i: number) => string): LoadRequest[] {
  return Array.from({ length: keys }, (_, i) => ({ method: 'GET', key: key(i), sha256: EMPTY_SHA256 }));
}

/** A PUT load of never-repeating `size`-byte bodies over `keys` keys (`key(i)`). */
export function rotatingPuts(keys: number, size: number, key: (i: number) => string): (n: number) => LoadRequest {
  const bodies = uniqueBodies(size);
  return (n) => ({ method: 'PUT', key: key(n % keys), ...bodies(n) });
}
