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
import { presignRequest, signRequest } from '../auth/sigv4.js';
import { percentDecode, uriEncode } from '../auth/encoding.js';
import { createHash } from 'node:crypto';
import { authenticate } from '../auth/authenticate.js';
import { S3Error } from '../s3/errors.js';
import { encodeContinuationToken, parseListParams } from '../s3/list-params.js';
import {
  canManageBuckets,
  canRead,
  canWrite,
  consoleMiddleware,
  findConsoleDir,
  isAdmin,
  requireThat,
  seesAll,
  type AdminPrincipal,
} from './console.js';
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
} from '../db/records/index.js';

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
  /**
   * The S3 listener binds every address (0.0.0.0 / ::): URLs handed to a browser use the host name
   * it reached the admin listener with (a LAN address) and the S3 port, not s3Url's loopback host.
   */
  s3Wildcard?: boolean;
  /** The built web console (index.html and assets); default: found beside the code (dist/console); null: none. */
  consoleDir?: string | null;
  /** Absent: the /v1/keys endpoints answer 501. */
  keys?: KeysRepository;
  /**
   * Runs a GC now; absent: /v1/gc answers 501. The admin server records the result in metrics and
   * aborts the run (signal) when it closes.
   */
  gc?: (opts: { dryRun: boolean; signal: AbortSignal }) => Promise<G>;
  /** Runs a scrub now; absent: /v1/verify answers 501. Recorded and aborted like gc. */
  scrub?: (opts: { quarantine: boolean; signal: AbortSignal; onProgress?: (done: number, total: number) => void }) => Promise<S>;
}

/** A verify started with `background: true`, polled with GET /v1/verify (the console's progress bar). */
interface VerifyState {
  running: boolean;
  startedAt: string;
  finishedAt?: string;
  done: number;
  total: number;
  result?: unknown;
  error?: string;
}

/**
 * Work that outlives a request's handler: GC and verify runs started over the API (one of each
 * at a time) and aggregate workers. All stopped when the listener closes.
 */
class AdminJobs {
  readonly stop = new AbortController();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(readonly aggregates: AggregateWorkers) {}

  busy(name: 'gc' | 'verify'): boolean {
    return this.running.has(name);
  }

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
  // The console's files need no token (they hold no data); the API below does.
  const consoleDir = deps.consoleDir === undefined ? findConsoleDir() : (deps.consoleDir ?? undefined);
  app.use(consoleMiddleware(consoleDir, (ctx) => {
    const s3 = new URL(s3UrlFor(deps, ctx)).origin;
    return `default-src 'self'; connect-src 'self' ${s3}; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`;
  }));
  const lookupSecret = (id: string) => (id === deps.credentials.accessKeyId ? deps.credentials.secretAccessKey : deps.keys?.secretFor(id));
  app.use(async (ctx, next) => {
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
    const authorization = ctx.get('authorization');
    if (authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      // An access key pair (the console signed in with one): SigV4 over the admin request, as S3 checks it.
      let principal: AdminPrincipal | undefined;
      try {
        const auth = authenticate(
          { method: ctx.method, rawPath: (ctx.req.url ?? '/').split('?')[0]!, rawQuery: ctx.querystring, headers: ctx.req.headersDistinct, host: ctx.req.headers.host },
          { lookup: lookupSecret, region: deps.region },
        );
        if (auth) {
          if (auth.payload.kind === 'sha256') ctx.state.bodySha256 = auth.payload.expectedHex;
          if (auth.accessKeyId === deps.credentials.accessKeyId) principal = { kind: 'root', accessKeyId: auth.accessKeyId };
          else {
            const key = deps.keys?.get(auth.accessKeyId);
            if (key) principal = { kind: 'key', accessKeyId: key.id, grants: key.grants };
          }
        }
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        return sendError(ctx, 'Unauthorized', `the access key signature was refused: ${err.message} (${err.code})`);
      }
      if (!principal) return sendError(ctx, 'Unauthorized', 'unknown access key');
      ctx.state.principal = principal;
      return next();
    }
    if (!bearerMatches(authorization, deps.token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cairn-admin"');
      return sendError(ctx, 'Unauthorized', 'a valid bearer token is required (Authorization: Bearer <CAIRN_ADMIN_TOKEN>), or a request signed with an access key (SigV4)');
    }
    ctx.state.principal = { kind: 'admin' } satisfies AdminPrincipal;
    await next();
  });
  const who = (ctx: Koa.Context): AdminPrincipal => ctx.state.principal as AdminPrincipal;

  const router = new Router();
  const db = deps.db;

  router.get('/metrics', async (ctx) => {
    requireThat(seesAll(who(ctx)), 'read server-wide metrics (it needs a grant on every bucket, \'*\')');
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });

  // Sums over every row: off the event loop when the DB is a file (see aggregates.ts).
  const aggregates = jobs.aggregates;
  router.get('/v1/buckets', async (ctx) => {
    const all = aggregates.available ? await bucketSummariesVia(db, aggregates.run) : bucketSummaries(db);
    const p = who(ctx);
    ctx.body = { buckets: all.filter((b) => canRead(p, b.name)) };
  });

  // What the console needs to know after signing in: where S3 is, and what this principal may do.
  router.get('/v1/config', (ctx) => {
    const p = who(ctx);
    ctx.body = {
      s3Url: s3UrlFor(deps, ctx),
      region: deps.region,
      principal: p.kind === 'key' ? { kind: 'key', accessKeyId: p.accessKeyId, grants: p.grants } : { kind: p.kind, ...(p.kind === 'root' ? { accessKeyId: p.accessKeyId } : {}) },
      can: { admin: isAdmin(p), manageBuckets: canManageBuckets(p), seeAll: seesAll(p) },
      chunkSize: deps.pool.bufferSize,
    };
  });

  // Folder-style listing (delimiter), the S3 ListObjectsV2 walk as JSON: one index seek per page.
  router.get('/v1/list', (ctx) => {
    const params = queryParams(ctx.querystring);
    for (const name of Object.keys(params)) {
      if (!['bucket', 'prefix', 'delimiter', 'cursor', 'limit'].includes(name)) throw new QueryError(name, 'unknown parameter');
    }
    if (!params.bucket) throw new QueryError('bucket', 'required');
    requireThat(canRead(who(ctx), params.bucket), `read bucket ${params.bucket}`);
    const bucket = requireBucket(deps, params.bucket);
    if (params.limit !== undefined && !/^\d{1,4}$/.test(params.limit)) throw new QueryError('limit', 'an integer 1..1000');
    const q = new URLSearchParams({ 'list-type': '2', prefix: params.prefix ?? '', delimiter: params.delimiter ?? '', 'max-keys': String(Math.max(1, Math.min(Number(params.limit ?? 1000), 1000))) });
    if (params.cursor) q.set('continuation-token', params.cursor);
    let lp;
    try {
      lp = parseListParams(q, 2);
    } catch (err) {
      if (err instanceof S3Error) throw new QueryError('cursor', 'not a cursor of this listing');
      throw err;
    }
    const page = deps.repo.listPage(bucket.id, lp);
    ctx.body = {
      bucket: bucket.name,
      prefix: lp.prefix,
      prefixes: page.commonPrefixes,
      objects: page.contents.map((o) => ({
        key: o.key,
        size: o.size,
        etag: o.etag,
        lastModified: new Date(o.lastModified).toISOString(),
        contentType: o.contentType ?? 'binary/octet-stream',
      })),
      ...(page.isTruncated && page.lastKey !== undefined ? { nextCursor: encodeContinuationToken(page.lastKey) } : {}),
    };
  });

  // A bucket CORS rule for the console's origin, so the browser may upload and download over S3.
  // Set through the S3 API itself (PutBucketCors, signed with the root credentials).
  router.put('/v1/buckets/:name/cors', async (ctx) => {
    const name = ctx.params.name!;
    requireThat(canWrite(who(ctx), name), `change bucket ${name}`);
    requireBucket(deps, name);
    const body = parseBody(z.object({ origins: z.array(z.string().regex(/^https?:\/\/[^\s/<>&]+$|^\*$/, 'an origin such as http://nas.local:9001, or *')).min(1).max(20) }), await readJson(ctx));
    ctx.body = await putBucketCors(deps, name, body.origins);
  });

  router.post('/v1/buckets', async (ctx) => {
    requireThat(canManageBuckets(who(ctx)), "create buckets (it needs write on every bucket, '*')");
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
    requireThat(canManageBuckets(who(ctx)), "delete buckets (it needs write on every bucket, '*')");
    const bucket = requireBucket(deps, ctx.params.name!);
    if (deps.repo.deleteBucket(bucket.id) === 'not-empty') {
      throw new AdminError('Conflict', `bucket ${bucket.name} is not empty (objects or multipart uploads remain)`);
    }
    ctx.status = 204;
  });

  router.put('/v1/buckets/:name/public', async (ctx) => {
    requireThat(canManageBuckets(who(ctx)), "make buckets public or private (it needs write on every bucket, '*')");
    const bucket = requireBucket(deps, ctx.params.name!);
    const body = parseBody(z.object({ public: z.boolean() }), await readJson(ctx));
    deps.repo.setBucketPublic(bucket.id, body.public);
    ctx.body = bucketSummary(db, bucket.name);
  });

  router.get('/v1/objects', (ctx) => {
    const q = parseObjectQuery(queryParams(ctx.querystring));
    const p = who(ctx);
    if (!seesAll(p)) {
      if (q.bucket === undefined) throw new AdminError('Forbidden', 'an access key limited to some buckets must name one (bucket=)', 'bucket');
      requireThat(canRead(p, q.bucket), `read bucket ${q.bucket}`);
    }
    ctx.body = findObjects(db, q);
  });

  // The key is the rest of the raw path, decoded once: router params would mangle '/', '%2F', '+'.
  router.get(/^\/v1\/objects\/[^/]+\/./, (ctx) => {
    const { bucket, key } = objectPath(ctx.path);
    requireThat(canRead(who(ctx), bucket), `read bucket ${bucket}`);
    const record = objectRecord(db, bucket, key);
    if (!record) throw new AdminError('NotFound', 'no such object');
    ctx.body = record;
  });

  router.get('/v1/chunks/:sha256', (ctx) => {
    const hash = ctx.params.sha256!.toLowerCase();
    if (!isSha256(hash)) throw new QueryError('sha256', 'a SHA-256 in hex (64 digits)');
    const record = chunkRecord(db, hash);
    if (!record) throw new AdminError('NotFound', 'no such chunk');
    const p = who(ctx);
    if (!seesAll(p)) {
      // Only the references this key may read; a chunk none of them use is not its business.
      record.objects = record.objects.filter((o) => canRead(p, o.bucket));
      record.uploads = record.uploads.filter((u) => canRead(p, u.bucket));
      if (record.objects.length === 0 && record.uploads.length === 0) throw new AdminError('NotFound', 'no such chunk');
    }
    ctx.body = record;
  });

  router.get('/v1/stats', async (ctx) => {
    requireThat(seesAll(who(ctx)), "read store-wide totals (it needs a grant on every bucket, '*')");
    const stats = aggregates.available ? await storeStatsVia(aggregates.run) : storeStats(db);
    const p = deps.pool.stats();
    ctx.body = { ...stats, pool: { total: p.total, free: p.free, inUse: p.inUse, waiters: p.waiters, bufferSize: deps.pool.bufferSize } };
  });

  router.get('/v1/keys', (ctx) => {
    requireThat(isAdmin(who(ctx)), 'manage access keys (the admin token or the root key pair can)');
    ctx.body = { keys: requireKeys(deps).list() };
  });

  router.post('/v1/keys', async (ctx) => {
    requireThat(isAdmin(who(ctx)), 'manage access keys (the admin token or the root key pair can)');
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
    requireThat(isAdmin(who(ctx)), 'manage access keys (the admin token or the root key pair can)');
    if (!requireKeys(deps).revoke(ctx.params.id!)) throw new AdminError('NotFound', 'no such access key');
    ctx.status = 204;
  });

  router.post('/v1/presign', async (ctx) => {
    // Signed with the root credentials: a URL outlives a revoked key, so keys sign their own.
    requireThat(isAdmin(who(ctx)), 'presign with the root credentials (sign the URL with the access key itself)');
    const body = parseBody(
      z.object({
        bucket: z.string(),
        key: z.string().min(1, 'must not be empty'),
        expires: z.number().int().min(1, 'at least 1 second').max(MAX_PRESIGN_SECONDS, `at most ${MAX_PRESIGN_SECONDS} seconds (7 days)`).default(3600),
        // The console uploads, deletes and runs multipart uploads through presigned URLs.
        method: z.enum(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']).default('GET'),
        query: z
          .record(z.string().refine((n) => !RESERVED_QUERY.test(n), 'signature parameters are added by the server'), z.string())
          .optional(),
      }),
      await readJson(ctx),
    );
    try {
      validateBucketName(body.bucket);
    } catch {
      throw new AdminError('BadRequest', `not a valid bucket name: "${body.bucket}"`, 'bucket');
    }
    ctx.body = { url: presignUrl(deps, body.bucket, body.key, body.expires, { method: body.method, query: body.query, s3Url: s3UrlFor(deps, ctx) }) };
  });

  router.post('/v1/gc', async (ctx) => {
    requireThat(isAdmin(who(ctx)), 'run garbage collection (the admin token or the root key pair can)');
    if (!deps.gc) throw new AdminError('NotImplemented', 'garbage collection is not available in this build');
    const body = parseBody(z.object({ dryRun: z.boolean().default(false) }), await readJson(ctx));
    const gc = deps.gc;
    const result = await jobs.run('gc', (signal) => gc({ dryRun: body.dryRun, signal }));
    deps.metrics.recordGc(result);
    ctx.body = result;
  });

  router.post('/v1/verify', async (ctx) => {
    if (!deps.scrub) throw new AdminError('NotImplemented', 'verify (scrub) is not available in this build');
    requireThat(isAdmin(who(ctx)), 'run verify (the admin token or the root key pair can)');
    const body = parseBody(z.object({ quarantine: z.boolean().default(true), background: z.boolean().default(false) }), await readJson(ctx));
    const scrub = deps.scrub;
    if (body.background) {
      // Answer at once; GET /v1/verify reports progress and, at the end, the result.
      if (jobs.busy('verify')) throw new AdminError('Conflict', 'a verify started over the admin API is still running');
      const state: VerifyState = { running: true, startedAt: new Date().toISOString(), done: 0, total: 0 };
      verifyState = state;
      const onProgress = (done: number, total: number) => {
        state.done = done;
        state.total = total;
      };
      jobs
        .run('verify', (signal) => scrub({ quarantine: body.quarantine, signal, onProgress }))
        .then(
          (result) => {
            deps.metrics.recordScrub(result);
            state.result = result;
          },
          (err: Error) => {
            state.error = err.message;
          },
        )
        .finally(() => {
          state.running = false;
          state.finishedAt = new Date().toISOString();
        });
      ctx.status = 202;
      ctx.body = state;
      return;
    }
    const result = await jobs.run('verify', (signal) => scrub({ quarantine: body.quarantine, signal }));
    deps.metrics.recordScrub(result);
    ctx.body = result;
  });

  let verifyState: VerifyState | undefined;
  router.get('/v1/verify', (ctx) => {
    requireThat(isAdmin(who(ctx)), 'run verify (the admin token or the root key pair can)');
    ctx.body = verifyState ?? { running: false, done: 0, total: 0 };
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

const RESERVED_QUERY = /^(x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token)|awsaccesskeyid|signature|expires)$/i;

/** The S3 URL as the client should reach it (see AdminDeps.s3Wildcard). */
function s3UrlFor(deps: AdminDeps, ctx: Koa.Context): string {
  if (!deps.s3Wildcard) return deps.s3Url;
  const base = new URL(deps.s3Url);
  const host = ctx.hostname;
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return deps.s3Url;
  base.hostname = host;
  return base.origin;
}

/** A path-style SigV4 URL (GET unless told) for the S3 endpoint, signed with the root credentials. */
function presignUrl(
  deps: AdminDeps,
  bucket: string,
  key: string,
  expiresSeconds: number,
  opts: { method?: string; query?: Record<string, string>; s3Url?: string } = {},
): string {
  const base = new URL(opts.s3Url ?? deps.s3Url);
  const rawPath = `/${bucket}/${key.split('/').map((s) => uriEncode(s)).join('/')}`;
  const rawQuery = Object.entries(opts.query ?? {})
    .map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`))
    .join('&');
  const signed = presignRequest(
    { method: opts.method ?? 'GET', rawPath, rawQuery, headers: {}, host: base.host },
    { accessKeyId: deps.credentials.accessKeyId, secretAccessKey: deps.credentials.secretAccessKey, region: deps.region, date: new Date(), expiresSeconds },
  );
  return `${base.origin}${signed.request.rawPath}?${signed.request.rawQuery}`;
}

/**
 * PutBucketCors on the S3 listener for `origins`: every method the console uses, any header, ETag
 * exposed (multipart parts). Answers what S3 said; NotImplemented when this build has no bucket CORS.
 */
async function putBucketCors(deps: AdminDeps, bucket: string, origins: string[]): Promise<{ bucket: string; origins: string[] }> {
  const xmlEscape = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rule =
    '<CORSRule>' +
    origins.map((o) => `<AllowedOrigin>${xmlEscape(o)}</AllowedOrigin>`).join('') +
    ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
    '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>' +
    '<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule>';
  const s3 = (method: 'GET' | 'PUT', body?: string) => {
    const base = new URL(deps.s3Url);
    const headers: Record<string, string> = { host: base.host, 'x-amz-content-sha256': createHash('sha256').update(body ?? '').digest('hex') };
    if (body) {
      headers['content-md5'] = createHash('md5').update(body).digest('base64');
      headers['content-type'] = 'application/xml';
    }
    const signed = signRequest(
      { method, rawPath: `/${bucket}`, rawQuery: 'cors=', host: base.host, headers },
      { accessKeyId: deps.credentials.accessKeyId, secretAccessKey: deps.credentials.secretAccessKey, region: deps.region, date: new Date() },
    );
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.request.headers)) if (k !== 'host' && typeof v === 'string') out[k] = v;
    return fetch(`${base.origin}/${bucket}?cors=`, { method, headers: out, body });
  };
  const fail = (status: number, text: string): never => {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(status);
    if (status === 501 || code === 'NotImplemented') throw new AdminError('NotImplemented', 'bucket CORS is not available in this build of the S3 listener');
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `HTTP ${status}`;
    throw new AdminError('BadRequest', `the S3 listener refused the CORS rule: ${message} (${code})`);
  };
  // Keep the bucket's other rules: the new one goes after them; nothing to do if every origin is allowed already.
  const current = await s3('GET');
  const currentText = await current.text();
  let xml = `<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration>${rule}</CORSConfiguration>`;
  if (current.ok && currentText.includes('</CORSConfiguration>')) {
    const allowed = new Set([...currentText.matchAll(/<AllowedOrigin>([^<]*)<\/AllowedOrigin>/g)].map((m) => m[1]));
    if (origins.every((o) => allowed.has(xmlEscape(o)))) return { bucket, origins };
    const at = currentText.lastIndexOf('</CORSConfiguration>');
    xml = currentText.slice(0, at) + rule + currentText.slice(at);
  } else if (!current.ok && current.status !== 404) {
    fail(current.status, currentText);
  }
  const res = await s3('PUT', xml);
  const text = await res.text();
  if (!res.ok) fail(res.status, text);
  return { bucket, origins };
}
