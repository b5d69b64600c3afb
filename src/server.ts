import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApp } from './app.js';
import { closeServer, createS3Server, listen, type HttpServer } from './http/listener.js';
import { adminTlsFiles, readTlsFiles, reloadTls, s3TlsFiles, type Reloadable, type TlsFiles, type TlsReloadResult } from './http/tls.js';
import type { Config } from './config.js';
import type { OpenedDb } from './db/client.js';
import type { Repository } from './db/repository.js';
import type { SqliteStore } from './db/sqlite-store.js';
import type { MetadataStore } from './store/metadata-store.js';
import { BufferPool } from './storage/pool.js';
import { HashPool } from './storage/hash-pool.js';
import { loadServerKeys } from './storage/keyring.js';
import { MAX_OVERHEAD } from './storage/chunk-cipher.js';
import { ChunkStore, type ChunkFsOps } from './storage/chunk-store.js';
import { SINGLE_NODE_TMP_ID } from './storage/tmp-folders.js';
import { chunkBackendFor, chunksShared } from './storage/chunk-backends.js';
import { ObjectService } from './storage/object-service.js';
import { MultipartService } from './storage/multipart-service.js';
import { startBackgroundJobs } from './storage/jobs.js';
import { LifecycleBusyError, runLifecycle, type LifecycleDeps, type LifecycleOptions } from './storage/lifecycle.js';
import { runGc } from './storage/gc.js';
import { runScrub } from './storage/scrub.js';
import { KeysRepository } from './db/keys-repository.js';
import type { RootCredentials } from './auth/credentials.js';
import { BucketService } from './services/buckets.js';
import { Principals } from './services/principals.js';
import { AccountService } from './services/accounts.js';
import { TaggingService } from './services/tagging.js';
import { AccessControlService } from './services/access-control.js';
import { KeyService } from './services/keys.js';
import { Metrics } from './admin/metrics.js';
import { startAdminServer } from './admin/server.js';
import { openMetadata } from './gateway/metadata.js';
import { countGateways, listGateways, newGatewayId, registerGateway } from './gateway/registry.js';

export interface RunningServer {
  url: string;
  port: number;
  /** The S3 listener: an https.Server when tlsCert/tlsKey are set. */
  server: HttpServer;
  credentials: RootCredentials;
  pool: BufferPool;
  store: ChunkStore;
  /** The metadata store: SQLite, or PostgreSQL with --metadata postgres://... */
  meta: MetadataStore;
  /** The SQLite engine and its internals (tests and tools inspect the file's rows); absent on PostgreSQL. */
  sqlite?: SqliteInternals;
  /** This gateway's id in the registry (--gateway-id, else random per start). */
  gatewayId: string;
  dataDir: string;
  /** The admin API (records, stats, /metrics, /health) and its bearer token. */
  adminUrl: string;
  /**
   * The admin token; undefined when another gateway generated it (PostgreSQL keeps only its
   * hash): set CAIRN_ADMIN_TOKEN on every gateway, or use the first one's printed token.
   */
  adminToken: string | undefined;
  /** 'sqlite' or 'postgres'. */
  engine: string;
  /** True when this start generated the admin token (the CLI prints it, once). */
  adminTokenGenerated: boolean;
  /** This server's Prometheus metrics; GC and scrub report through recordGc / recordScrub. */
  metrics: Metrics;
  /** Re-reads the PEM files of the TLS listeners (SIGHUP); a bad file keeps the old certificate. */
  reloadTls(): TlsReloadResult;
  close(): Promise<void>;
}

export interface SqliteInternals {
  store: SqliteStore;
  repo: Repository;
  keys: KeysRepository;
  db: OpenedDb;
}

/** The stores and the domain services over a data dir, for the S3 listener and the admin API. */
async function openServices(config: Config, log: Logger, dataDir: string, gatewayId: string, fsOps?: Partial<ChunkFsOps>) {
  // First: a missing or malformed key file stops start-up before anything is opened.
  const keys = loadServerKeys(config);
  const opened = await openMetadata(config, log, dataDir, gatewayId);
  const { meta, credentials } = opened;
  // Hashing workers read the pool's buffers in place, so the pool is SharedArrayBuffer-backed.
  const hashPool = config.hashThreads > 0 ? new HashPool(config.hashThreads) : undefined;
  // Ready means ready: the first uploads do not wait for the hash threads to load.
  await hashPool?.ready;
  if (keys) log.info({ keyIds: keys.ids, active: keys.active.keyId, encryptAll: config.encryptAll }, 'server-side encryption keys loaded');
  // Sealed chunks (SSE-S3, SSE-C) are written into buffers of their own, one per write buffer at
  // most, allocated as first used: the data path's memory is at most 2 x writeBuffers x chunk
  // size, and as before when nothing is encrypted (docs/performance.md).
  const sealBuffers = new BufferPool({ bufferSize: config.chunkSize + MAX_OVERHEAD, buffers: config.writeBuffers, shared: hashPool !== undefined });
  // The gateway's own temp folder: a restart under the same id sweeps what its killed run left.
  const tmpId = config.metadata === undefined ? (config.gatewayId ?? SINGLE_NODE_TMP_ID) : gatewayId;
  // Chunks several gateways share (on S3, or beside PostgreSQL metadata) are guarded by claims in the metadata engine.
  const shared = chunksShared(config) || meta.engine !== 'sqlite' ? { claims: meta.claims, gatewayId, freedTtlMs: config.gcGrace, claimTtlMs: config.gcClaimTtl } : undefined;
  const store = new ChunkStore({ backend: chunkBackendFor(config, dataDir, { fsOps, gatewayId: tmpId }), hashPool, sealBuffers, shared });
  const { sweptTmpFiles } = await store.init();
  if (sweptTmpFiles > 0) log.warn({ sweptTmpFiles }, 'removed temporary chunk files left by an earlier run');
  const pool = new BufferPool({ bufferSize: config.chunkSize, buffers: config.writeBuffers, shared: hashPool !== undefined });
  const gateways = () => listGateways(meta.gateways, config.gatewayTimeout);
  const metrics = new Metrics({ pool, totals: () => meta.records.stats(), engine: meta.engine, gateways: async () => countGateways(await gateways()), retries: opened.retries });
  const objects = new ObjectService({
    meta,
    store,
    pool,
    maxBuffersPerRequest: Math.min(config.maxBuffersPerRequest, config.writeBuffers),
    hashPool,
    inlineMax: config.inlineMax > 0 ? Math.min(config.inlineMax, config.chunkSize) : undefined,
    encryption: { keys, encryptAll: config.encryptAll },
    onWarn: (msg, err) => log.warn({ err }, msg),
  });
  objects.receiveDeps.onChunks = (written) => metrics.recordChunks(written);
  const multipart = new MultipartService(meta, objects);
  const buckets = new BucketService(meta, config.region, multipart);
  const accounts = new AccountService(meta.accounts);
  const principals = new Principals(credentials, meta.keys, (await accounts.root()).id);
  const accessControl = new AccessControlService(meta, buckets, objects, accounts);
  const tagging = new TaggingService(meta, buckets, objects);
  return { opened, credentials, meta, hashPool, store, pool, metrics, objects, multipart, buckets, principals, accounts, accessControl, tagging, gateways };
}

/**
 * One lifecycle engine for the worker and the admin API (`cairn lifecycle run` against this
 * server): each pass reported to the metrics; the worker's skipped while another pass runs.
 */
function lifecycleRunners(deps: LifecycleDeps, config: Config, metrics: Metrics, log: Logger) {
  const lifecycle = async (o: Omit<LifecycleOptions, 'dayMs'>) => {
    const r = await runLifecycle(deps, { ...o, dayMs: config.lifecycleDaySeconds * 1000 });
    metrics.recordLifecycle(r);
    return r;
  };
  const lifecycleWorker = (signal: AbortSignal) =>
    lifecycle({ trigger: 'worker', signal }).then(
      (r) => void log[r.versionsExpired + r.markersAdded + r.markersRemoved + r.uploadsAborted > 0 ? 'info' : 'debug']({ lifecycle: { ...r, actions: undefined } }, 'lifecycle pass done'),
      (err: unknown) => {
        if (!(err instanceof LifecycleBusyError)) throw err;
      },
    );
  return { lifecycle, lifecycleWorker };
}

/** The listeners that speak TLS, with their files. */
function reloadable(listeners: Array<[TlsFiles | undefined, HttpServer, string]>): Reloadable[] {
  return listeners.flatMap(([files, server, name]) => (files ? [{ name, files, server: server as https.Server }] : []));
}

/**
 * Opens the data dir (SQLite + chunk files), builds the app and listens. Long: the one place that
 * wires every service, background job and listener, in start-up order.
 */
export async function startServer(config: Config, opts: { log?: Logger; /** Test-only: fault injection into chunk writes. */ fsOps?: Partial<ChunkFsOps> } = {}): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: config.logLevel });
  const dataDir = path.resolve(config.dataDir);
  // Before anything is opened: a bad certificate stops start-up naming its setting.
  const [s3Tls, adminTls] = [s3TlsFiles(config), adminTlsFiles(config)];
  const [s3Pem, adminPem] = [s3Tls && readTlsFiles(s3Tls), adminTls && readTlsFiles(adminTls)];
  fs.mkdirSync(dataDir, { recursive: true });
  const gatewayId = config.gatewayId ?? newGatewayId();
  const { opened, credentials, meta, hashPool, store, pool, metrics, objects, multipart, buckets, principals, accounts, accessControl, tagging, gateways } = await openServices(config, log, dataDir, gatewayId, opts.fsOps);
  const adminToken = opened.adminToken;
  const { lifecycle, lifecycleWorker } = lifecycleRunners({ meta, objects, multipart }, config, metrics, log);
  // Multipart expiry sweep (at start-up, then every min(1h, expiry/2)), GC, slow scrub, lifecycle.
  const stopJobs = startBackgroundJobs(
    { dataDir, meta, multipart, store },
    {
      gcIntervalMs: config.gcInterval,
      gcGraceMs: config.gcGrace,
      // Shared storage: claims must be renewed well within their ttl, or a long upload's chunks lapse.
      ...(store.shared ? { touchIntervalMs: Math.max(250, Math.min(60_000, Math.floor(config.gcClaimTtl / 4), Math.floor(config.gcGrace / 4) || 60_000)) } : {}),
      scrubIntervalMs: config.scrubInterval,
      multipartExpiryMs: config.multipartExpiry,
      log,
      onGc: (r) => metrics.recordGc(r),
      onScrub: (r) => metrics.recordScrub(r),
      lifecycleIntervalMs: config.lifecycleInterval, lifecycle: lifecycleWorker,
    },
  );
  const app = createApp({
    config,
    buckets,
    objects,
    multipart,
    principals,
    log,
    metrics,
    accounts, accessControl, tagging,
    requestScope: meta.engine !== 'sqlite',
    accessLookups: { bucket: (name) => buckets.find(name), object: (b, key, v) => objects.aclTarget(b, key, v), tags: (b, key, v) => tagging.existingTags(b, key, v) },
  });
  const server = createS3Server(app.callback(), config, s3Pem);
  const { url, port } = await listen(server, config.port, config.host);
  const closeS3 = () => closeServer(server);
  let registration: { stop(): Promise<void> } | undefined;
  const shutDown = async () => {
    await registration?.stop();
    await stopJobs();
    await closeS3();
    await hashPool?.close();
    await meta.close();
  };
  let admin;
  try {
    admin = await startAdminServer(
      {
        records: meta.records, buckets, objects, principals, keys: new KeyService(meta.keys, { accounts, reserved: (id) => principals.isRoot(id) }), accounts, accessControl, tagging, pool, metrics, token: adminToken.check, log, region: config.region, credentials, s3Url: url,
        s3Wildcard: config.host === '0.0.0.0' || config.host === '::',
        gc: ({ dryRun, signal }) => runGc({ dataDir, meta, store }, { graceMs: config.gcGrace, multipartExpiryMs: config.multipartExpiry, dryRun, signal }),
        scrub: ({ quarantine, signal, onProgress }) => runScrub({ dataDir, meta, store }, { quarantine, signal, onProgress }),
        lifecycle: (o) => lifecycle({ ...o, trigger: 'cli' }), lastLifecycleRun: () => meta.lifecycle.lastRun(),
        engine: meta.engine, gateways,
      },
      { port: config.adminPort, host: config.adminHost, tls: adminPem },
    );
    registration = await registerGateway(meta.gateways, { id: gatewayId, s3Url: url, adminUrl: admin.url }, { timeoutMs: config.gatewayTimeout, log });
  } catch (err) {
    await admin?.close();
    await shutDown();
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
    sqlite: opened.sqlite && { store: opened.sqlite, repo: opened.sqlite.repo, keys: new KeysRepository(opened.sqlite.db), db: opened.sqlite.opened },
    gatewayId,
    dataDir,
    adminUrl: admin.url,
    adminToken: adminToken.token,
    adminTokenGenerated: adminToken.generated,
    engine: meta.engine,
    metrics,
    reloadTls: () => reloadTls(reloadable([[s3Tls, server, 's3'], [adminTls, admin.server, 'admin']]), log),
    close: async () => {
      await admin.close();
      await shutDown();
    },
  };
}

