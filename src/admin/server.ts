import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { Repository } from '../db/repository.js';
import type { KeysRepository } from '../db/keys-repository.js';
import { KeyValidationError } from '../db/keys-repository.js';
import { validateBucketName } from '../s3/names.js';
import { presignRequest } from '../auth/sigv4.js';
import { percentDecode, uriEncode } from '../auth/encoding.js';
import type { BufferPool } from '../storage/pool.js';
import type { GcSample, Metrics, ScrubSample } from './metrics.js';
import { AdminError, errorMiddleware, readJson, sendError } from './http.js';
import { bearerMatches } from './token.js';
import { AggregateWorkers } from './aggregates.js';
import {
  bucketSummaries,
  bucketSummariesVia,
  bucketSummary,
  chunkRecord,
  findObjects,
  isSha256,
  objectRecord,
  parseObjectQuery,
  QueryError,
  storeStats,
  storeStatsVia,
} from './queries.js';

// The admin listener: a JSON API over the records (docs/admin-contract.md), /metrics and
// /health, on its own port (loopback by default) behind a bearer token.

export interface AdminDeps<G extends GcSample = GcSample, S extends ScrubSample = ScrubSample> {
  db: Db;
  repo: Repository;
  pool: BufferPool;
  metrics: Metrics;
  token: string;
  log: Logger;
  /** Region for new buckets and presigned URLs. */
  region: string;
  /** Presigned URLs are signed with the root credentials for the S3 endpoint. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  s3Url: string;
  /** Absent: the /v1/keys endpoints answer 501. */
  keys?: KeysRepository;
  /**
   * Runs a GC now; absent: /v1/gc answers 501. The admin server records the result in metrics and
   * aborts the run (signal) when it closes.
   */
  gc?: (opts: { dryRun: boolean; signal: AbortSignal }) => Promise<G>;
  /** Runs a scrub now; absent: /v1/verify answers 501. Recorded and aborted like gc. */
  scrub?: (opts: { quarantine: boolean; signal: AbortSignal }) => Promise<S>;
}

/**
 * Work that outlives a request's handler: GC and verify runs started over the API (one of each
 * at a time) and aggregate workers. All stopped when the listener closes.
 */
class AdminJobs {
  readonly stop = new AbortController();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(readonly aggregates: AggregateWorkers) {}

  async run<T>(name: 'gc' | 'verify', job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running.has(name)) throw new AdminError('Conflict', `a ${name} started over the admin API is still running`);
    const p = job(this.stop.signal);
    this.running.set(name, p);
    try {
      return await p;
    } finally {
      this.running.delete(name);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.running.values(), this.aggregates.close()]);
  }
}

/** 7 days: the longest expiry SigV4 allows. */
const MAX_PRESIGN_SECONDS = 604_800;

export function createAdminApp(deps: AdminDeps, jobs = new AdminJobs(AggregateWorkers.forDb(deps.db))): Koa {
  const app = new Koa();
  app.proxy = false;
  app.on('error', (err: Error) => deps.log.debug({ err: err.message }, 'admin response stream error'));
  app.use(async (ctx, next) => {
    const started = performance.now();
    await next();
    deps.log.debug({ admin: true, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 }, 'admin request');
  });
  app.use(errorMiddleware(deps.log));
  app.use(async (ctx, next) => {
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (!bearerMatches(ctx.get('authorization'), deps.token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cairn-admin"');
      return sendError(ctx, 'Unauthorized', 'a valid bearer token is required (Authorization: Bearer <CAIRN_ADMIN_TOKEN>)');
    }
    await next();
  });

  const router = new Router();
  const db = deps.db;

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });

  // Sums over every row: off the event loop when the DB is a file (see aggregates.ts).
  const aggregates = jobs.aggregates;
  router.get('/v1/buckets', async (ctx) => {
    ctx.body = { buckets: aggregates.available ? await bucketSummariesVia(db, aggregates.run) : bucketSummaries(db) };
  });

  router.post('/v1/buckets', async (ctx) => {
    const body = parseBody(z.object({ name: z.string(), public: z.boolean().default(false) }), await readJson(ctx));
    try {
      validateBucketName(body.name);
    } catch {
      throw new AdminError('BadRequest', `not a valid bucket name: "${body.name}"`, 'name');
    }
    if (!deps.repo.createBucket({ name: body.name, region: deps.region, publicRead: body.public })) {
      throw new AdminError('Conflict', `bucket ${body.name} already exists`, 'name');
    }
    ctx.status = 201;
    ctx.body = bucketSummary(db, body.name);
  });

  router.delete('/v1/buckets/:name', (ctx) => {
    const bucket = requireBucket(deps, ctx.params.name!);
    if (deps.repo.deleteBucket(bucket.id) === 'not-empty') {
      throw new AdminError('Conflict', `bucket ${bucket.name} is not empty (objects or multipart uploads remain)`);
    }
    ctx.status = 204;
  });

  router.put('/v1/buckets/:name/public', async (ctx) => {
    const bucket = requireBucket(deps, ctx.params.name!);
    const body = parseBody(z.object({ public: z.boolean() }), await readJson(ctx));
    deps.repo.setBucketPublic(bucket.id, body.public);
    ctx.body = bucketSummary(db, bucket.name);
  });

  router.get('/v1/objects', (ctx) => {
    ctx.body = findObjects(db, parseObjectQuery(queryParams(ctx.querystring)));
  });

  // The key is the rest of the raw path, decoded once: router params would mangle '/', '%2F', '+'.
  router.get(/^\/v1\/objects\/[^/]+\/./, (ctx) => {
    const { bucket, key } = objectPath(ctx.path);
    const record = objectRecord(db, bucket, key);
    if (!record) throw new AdminError('NotFound', 'no such object');
    ctx.body = record;
  });

  router.get('/v1/chunks/:sha256', (ctx) => {
    const hash = ctx.params.sha256!.toLowerCase();
    if (!isSha256(hash)) throw new QueryError('sha256', 'a SHA-256 in hex (64 digits)');
    const record = chunkRecord(db, hash);
    if (!record) throw new AdminError('NotFound', 'no such chunk');
    ctx.body = record;
  });

  router.get('/v1/stats', async (ctx) => {
    const stats = aggregates.available ? await storeStatsVia(aggregates.run) : storeStats(db);
    const p = deps.pool.stats();
    ctx.body = { ...stats, pool: { total: p.total, free: p.free, inUse: p.inUse, waiters: p.waiters, bufferSize: deps.pool.bufferSize } };
  });

  router.get('/v1/keys', (ctx) => {
    ctx.body = { keys: requireKeys(deps).list() };
  });

  router.post('/v1/keys', async (ctx) => {
    const keys = requireKeys(deps);
    const body = await readJson(ctx);
    try {
      const created = keys.create({ description: body.description as string | undefined, grants: body.grants as never });
      ctx.status = 201;
      ctx.body = created;
    } catch (err) {
      if (err instanceof KeyValidationError) throw new AdminError('BadRequest', err.message, err.field);
      throw err;
    }
  });

  router.delete('/v1/keys/:id', (ctx) => {
    if (!requireKeys(deps).revoke(ctx.params.id!)) throw new AdminError('NotFound', 'no such access key');
    ctx.status = 204;
  });

  router.post('/v1/presign', async (ctx) => {
    const body = parseBody(
      z.object({
        bucket: z.string(),
        key: z.string().min(1, 'must not be empty'),
        expires: z.number().int().min(1, 'at least 1 second').max(MAX_PRESIGN_SECONDS, `at most ${MAX_PRESIGN_SECONDS} seconds (7 days)`).default(3600),
      }),
      await readJson(ctx),
    );
    try {
      validateBucketName(body.bucket);
    } catch {
      throw new AdminError('BadRequest', `not a valid bucket name: "${body.bucket}"`, 'bucket');
    }
    ctx.body = { url: presignUrl(deps, body.bucket, body.key, body.expires) };
  });

  router.post('/v1/gc', async (ctx) => {
    if (!deps.gc) throw new AdminError('NotImplemented', 'garbage collection is not available in this build');
    const body = parseBody(z.object({ dryRun: z.boolean().default(false) }), await readJson(ctx));
    const gc = deps.gc;
    const result = await jobs.run('gc', (signal) => gc({ dryRun: body.dryRun, signal }));
    deps.metrics.recordGc(result);
    ctx.body = result;
  });

  router.post('/v1/verify', async (ctx) => {
    if (!deps.scrub) throw new AdminError('NotImplemented', 'verify (scrub) is not available in this build');
    const body = parseBody(z.object({ quarantine: z.boolean().default(true) }), await readJson(ctx));
    const scrub = deps.scrub;
    const result = await jobs.run('verify', (signal) => scrub({ quarantine: body.quarantine, signal }));
    deps.metrics.recordScrub(result);
    ctx.body = result;
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

export interface AdminServer {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export async function startAdminServer(deps: AdminDeps, opts: { port: number; host: string }): Promise<AdminServer> {
  const jobs = new AdminJobs(AggregateWorkers.forDb(deps.db));
  const server = http.createServer(createAdminApp(deps, jobs).callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await jobs.close();
    },
  };
}

// ---- helpers ----

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  throw new AdminError('BadRequest', `${field}: ${issue.message}`, field);
}

/** Query string -> params; a repeated parameter is ambiguous, so it is refused. */
function queryParams(querystring: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(querystring)) {
    if (Object.hasOwn(out, name)) throw new QueryError(name, 'given more than once');
    out[name] = value;
  }
  return out;
}

function objectPath(rawPath: string): { bucket: string; key: string } {
  const rest = rawPath.slice('/v1/objects/'.length);
  const slash = rest.indexOf('/');
  return { bucket: percentDecode(rest.slice(0, slash)), key: percentDecode(rest.slice(slash + 1)) };
}

function requireBucket(deps: AdminDeps, name: string) {
  const bucket = deps.repo.getBucket(name);
  if (!bucket) throw new AdminError('NotFound', 'no such bucket');
  return bucket;
}

function requireKeys(deps: AdminDeps): KeysRepository {
  if (!deps.keys) throw new AdminError('NotImplemented', 'access keys are not available in this build');
  return deps.keys;
}

/** A path-style SigV4 GET URL for the S3 endpoint, signed with the root credentials. */
function presignUrl(deps: AdminDeps, bucket: string, key: string, expiresSeconds: number): string {
  const base = new URL(deps.s3Url);
  const rawPath = `/${bucket}/${key.split('/').map((s) => uriEncode(s)).join('/')}`;
  const signed = presignRequest(
    { method: 'GET', rawPath, rawQuery: '', headers: {}, host: base.host },
    { accessKeyId: deps.credentials.accessKeyId, secretAccessKey: deps.credentials.secretAccessKey, region: deps.region, date: new Date(), expiresSeconds },
  );
  return `${base.origin}${signed.request.rawPath}?${signed.request.rawQuery}`;
}
