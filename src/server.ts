import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createApp, MAX_HEADERS_COUNT } from './app.js';
import { errorXml } from './s3/xml.js';
import { S3_ERRORS, type S3ErrorCode } from './s3/errors.js';
import type { Config } from './config.js';
import type { OpenedDb } from './db/client.js';
import type { Repository } from './db/repository.js';
import { SqliteStore } from './db/sqlite-store.js';
import { BufferPool } from './storage/pool.js';
import { HashPool } from './storage/hash-pool.js';
import { ChunkStore, type ChunkFsOps } from './storage/chunk-store.js';
import { ObjectService } from './storage/object-service.js';
import { MultipartService } from './storage/multipart-service.js';
import { startBackgroundJobs } from './storage/jobs.js';
import { runGc } from './storage/gc.js';
import { runScrub } from './storage/scrub.js';
import { KeysRepository } from './db/keys-repository.js';
import { loadRootCredentials, type RootCredentials } from './auth/credentials.js';
import { randomBytes } from 'node:crypto';
import { BucketService } from './services/buckets.js';
import { Principals } from './services/principals.js';
import { KeyService } from './services/keys.js';
import { Metrics } from './admin/metrics.js';
import { loadAdminToken } from './admin/token.js';
import { startAdminServer } from './admin/server.js';

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  credentials: RootCredentials;
  pool: BufferPool;
  store: ChunkStore;
  /** The metadata store (SQLite). */
  meta: SqliteStore;
  /** The SQLite engine's internals, for tests and tools that inspect the file's rows. */
  repo: Repository;
  keys: KeysRepository;
  db: OpenedDb;
  dataDir: string;
  /** The admin API (records, stats, /metrics, /health) and its bearer token. */
  adminUrl: string;
  adminToken: string;
  /** True when this start generated the admin token (the CLI prints it, once). */
  adminTokenGenerated: boolean;
  /** This server's Prometheus metrics; GC and scrub report through recordGc / recordScrub. */
  metrics: Metrics;
  close(): Promise<void>;
}

/** Opens the data dir (SQLite + chunk files), builds the app and listens. */
export async function startServer(config: Config, opts: { log?: Logger; /** Test-only: fault injection into chunk writes. */ fsOps?: Partial<ChunkFsOps> } = {}): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: config.logLevel });
  const dataDir = path.resolve(config.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const credentials = loadRootCredentials(dataDir, config);
  const meta = await SqliteStore.open({
    file: path.join(dataDir, 'cairn.db'),
    durability: config.durability,
    commitThread: config.commitThread === 'on',
    onThreadStopped: (err) => log.error({ err }, 'the commit thread stopped: PUTs and DELETEs fail until a restart'),
  });
  // Hashing workers read the pool's buffers in place, so the pool is SharedArrayBuffer-backed.
  const hashPool = config.hashThreads > 0 ? new HashPool(config.hashThreads) : undefined;
  const store = new ChunkStore({ dataDir, durability: config.durability, fsOps: opts.fsOps, hashPool });
  const { sweptTmpFiles } = await store.init();
  if (sweptTmpFiles > 0) log.warn({ sweptTmpFiles }, 'removed temporary chunk files left by an earlier run');
  const pool = new BufferPool({ bufferSize: config.chunkSize, buffers: config.writeBuffers, shared: hashPool !== undefined });
  const metrics = new Metrics({ pool });
  const adminToken = loadAdminToken(dataDir, config.adminToken);
  const objects = new ObjectService({
    meta,
    store,
    pool,
    maxBuffersPerRequest: Math.min(config.maxBuffersPerRequest, config.writeBuffers),
    hashPool,
    inlineMax: config.inlineMax > 0 ? Math.min(config.inlineMax, config.chunkSize) : undefined,
    onWarn: (msg, err) => log.warn({ err }, msg),
  });
  objects.receiveDeps.onChunks = (written) => metrics.recordChunks(written);
  const multipart = new MultipartService(meta, objects);
  const buckets = new BucketService(meta, config.region, multipart);
  const principals = new Principals(credentials, meta.keys);
  // Multipart expiry sweep (at start-up, then every min(1h, expiry/2)), GC, slow scrub.
  const stopJobs = startBackgroundJobs(
    { dataDir, meta, multipart, store },
    {
      gcIntervalMs: config.gcInterval,
      gcGraceMs: config.gcGrace,
      scrubIntervalMs: config.scrubInterval,
      multipartExpiryMs: config.multipartExpiry,
      log,
      onGc: (r) => metrics.recordGc(r),
      onScrub: (r) => metrics.recordScrub(r),
    },
  );
  const repo = meta.repo;
  const keys = new KeysRepository(meta.db);
  const app = createApp({
    config,
    buckets,
    objects,
    multipart,
    principals,
    log,
    metrics,
    owner: { id: credentials.accessKeyId, displayName: 'cairn' },
  });
  // No total request timeout (a 5 GiB PUT may take minutes), but an idle socket is closed:
  // a client that stops sending mid-upload must not hold pool buffers forever. Headers must
  // arrive within headersTimeout (slowloris), idle keep-alive sockets go after keepAliveTimeout,
  // and a socket serves at most MAX_REQUESTS_PER_SOCKET requests before it is told to close.
  const server = http.createServer(
    {
      requestTimeout: 0,
      headersTimeout: config.headersTimeout,
      keepAliveTimeout: config.keepAliveTimeout,
      // How often node checks headersTimeout: often enough that a short timeout is honoured.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(config.headersTimeout / 4))),
      maxHeaderSize: MAX_HEADER_BYTES,
      // app.ts answers a missing Host itself: node's bare 400 would also hide a Host that
      // maxHeadersCount dropped, where the real problem is the header count.
      requireHostHeader: false,
    },
    watchingUploadRate(app.callback(), config),
  );
  // Headers beyond this count are dropped by node without notice: app.ts refuses such requests.
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  server.setTimeout(config.idleTimeout, (socket) => {
    // Quiet because cairn is not reading (the upload waits for a write buffer) is not idle.
    if (!waitingOnUs(socket)) socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  const closeS3 = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  let admin;
  try {
    admin = await startAdminServer(
      {
        records: meta.records, buckets, objects, principals, keys: new KeyService(meta.keys), pool, metrics, token: adminToken.token, log, region: config.region, credentials, s3Url: url,
        s3Wildcard: config.host === '0.0.0.0' || config.host === '::',
        gc: ({ dryRun, signal }) => runGc({ dataDir, meta, store }, { graceMs: config.gcGrace, multipartExpiryMs: config.multipartExpiry, dryRun, signal }),
        scrub: ({ quarantine, signal, onProgress }) => runScrub({ dataDir, meta, store }, { quarantine, signal, onProgress }),
      },
      { port: config.adminPort, host: config.adminHost },
    );
  } catch (err) {
    await stopJobs();
    await closeS3();
    await hashPool?.close();
    await meta.close();
    throw err;
  }
  return {
    url,
    port,
    server,
    credentials,
    pool,
    store,
    meta,
    repo,
    keys,
    db: meta.opened,
    dataDir,
    adminUrl: admin.url,
    adminToken: adminToken.token,
    adminTokenGenerated: adminToken.generated,
    metrics,
    close: async () => {
      await stopJobs();
      await admin.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await hashPool?.close();
      await meta.close();
    },
  };
}

/** Node's default; S3 allows 8 KiB, but a signed request with 2 KiB of metadata must fit. */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_REQUESTS_PER_SOCKET = 1000;

/**
 * Requests node's parser refuses before the app sees them (headers too large or too slow,
 * malformed framing): an S3 XML error instead of node's bare status line, then close.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    // The body of the request being answered is cut short (EOF, bad chunked framing): as node
    // does, end the connection, so the handler sees the request aborted and cleans up.
    if (!inFlight.req.complete) {
      socket.destroy();
      return;
    }
    // Bytes after a whole request still being answered (a Content-Length shorter than the body,
    // a bad pipelined request): that answer goes out first, then this one.
    inFlight.once('finish', () => answerClientError(err, socket));
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy();
    });
    return;
  }
  const code: S3ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'RequestHeaderSectionTooLarge' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : 'InvalidRequest';
  const [status, message] = S3_ERRORS[code];
  const id = randomBytes(8).toString('hex').toUpperCase();
  const details = code === 'RequestHeaderSectionTooLarge' ? { MaxSizeAllowed: MAX_HEADER_BYTES } : {};
  const body = errorXml({ code, message: code === 'InvalidRequest' ? 'The request could not be parsed as HTTP/1.1.' : message, requestId: id, details });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The request on this socket has bytes cairn has not read yet: backpressure, not a slow client. */
function waitingOnUs(socket: import('node:stream').Duplex): boolean {
  const res = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  return res?.req !== undefined && !res.req.complete && res.req.readableLength > 0;
}

/**
 * Slow-POST guard: an upload trickling its body (a few bytes now and then, never quiet long
 * enough for the idle timeout) would hold a write buffer forever, and a handful of them the
 * whole pool. A body that delivers less than config.minUploadRate bytes/s over a window of
 * min(idle timeout, 30 s), while cairn was waiting for it (not the other way round), is cut.
 */
function watchingUploadRate(handler: http.RequestListener, config: Config): http.RequestListener {
  const windowMs = Math.min(config.idleTimeout || 30_000, 30_000);
  const minBytes = (config.minUploadRate * windowMs) / 1000;
  const TICKS = 4;
  return (req, res) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (minBytes > 0 && hasBody) {
      const socket = req.socket;
      let last = socket.bytesRead;
      let tick = 0;
      let waitedOnUs = false;
      const timer = setInterval(() => {
        if (req.complete || socket.destroyed) return stop();
        if (req.readableLength > 0) waitedOnUs = true;
        if (++tick < TICKS) return;
        const got = socket.bytesRead - last;
        if (!waitedOnUs && got < minBytes) socket.destroy();
        tick = 0;
        last = socket.bytesRead;
        waitedOnUs = false;
      }, windowMs / TICKS);
      timer.unref();
      // A keep-alive socket carries many requests: nothing of this one may stay on it.
      const stop = () => {
        clearInterval(timer);
        socket.off('close', stop);
        req.off('end', stop);
      };
      req.once('end', stop);
      socket.once('close', stop);
    }
    handler(req, res);
  };
}
