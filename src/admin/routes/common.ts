import type Koa from 'koa';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RecordsStore } from '../../store/metadata-store.js';
import type { BufferPool } from '../../storage/pool.js';
import type { ObjectService } from '../../storage/object-service.js';
import type { AccountService } from '../../services/accounts.js';
import type { TaggingService } from '../../services/tagging.js';
import type { AccessControlService } from '../../services/access-control.js';
import type { BucketService } from '../../services/buckets.js';
import type { KeyService } from '../../services/keys.js';
import type { Principals } from '../../services/principals.js';
import type { BucketRow } from '../../store/types.js';
import { percentDecode } from '../../auth/encoding.js';
import type { GcSample, Metrics, ScrubSample } from '../metrics.js';
import { AdminError } from '../http.js';
import { QueryError } from '../../db/records/index.js';
import type { AdminJobs } from '../jobs.js';
import type { TokenCheck } from '../token.js';
import type { GatewayView } from '../../gateway/registry.js';
import type { LifecycleOptions, LifecycleResult } from '../../storage/lifecycle.js';
import type { LifecycleRunRow } from '../../store/lifecycle.js';

// What the admin routes are built from, and the small parsing helpers they share.

export interface AdminDeps<G extends GcSample = GcSample, S extends ScrubSample = ScrubSample> {
  /** The records queries (docs/admin-contract.md). */
  records: RecordsStore;
  buckets: BucketService;
  /** The folder listing (/v1/list): S3's ListObjectsV2 walk; headObject for an object ACL's check. */
  objects: Pick<ObjectService, 'list' | 'headObject'>;
  /** Who signed a request (the root pair or an access key), looked up in constant time. */
  principals: Principals;
  /** Absent: the /v1/keys endpoints answer 501. */
  keys?: KeyService;
  /** Absent: the /v1/accounts endpoints answer 501. */
  accounts?: AccountService;
  /** Bucket creation for an account, the public switch, ACLs and policies. */
  accessControl: AccessControlService;
  /** Object tags (read in the object record, set with PUT ?tags); absent: those answer 501. */
  tagging?: TaggingService;
  pool: BufferPool;
  metrics: Metrics;
  /** The admin token, or its SHA-256 only (a token another gateway generated: admin/token.ts). */
  token: TokenCheck;
  log: Logger;
  /** Region for presigned URLs and SigV4-signed admin requests. */
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
  /**
   * Runs a GC now; absent: /v1/gc answers 501. The admin server records the result in metrics and
   * aborts the run (signal) when it closes.
   */
  gc?: (opts: { dryRun: boolean; signal: AbortSignal }) => Promise<G>;
  /** Runs a scrub now; absent: /v1/verify answers 501. Recorded and aborted like gc. */
  scrub?: (opts: { quarantine: boolean; signal: AbortSignal; onProgress?: (done: number, total: number) => void }) => Promise<S>;
  /** Runs a lifecycle pass now (recorded in the metrics by the caller); absent: /v1/lifecycle answers 501. */
  lifecycle?: (opts: Pick<LifecycleOptions, 'dryRun' | 'now' | 'bucket' | 'signal'>) => Promise<LifecycleResult>;
  /** The latest lifecycle pass, for /v1/stats and the dashboard. */
  lastLifecycleRun?: () => Promise<LifecycleRunRow | undefined>;
  /** The metadata engine ('sqlite', 'postgres'), for /v1/stats. */
  engine?: string;
  /** The gateway registry with each one's state, for /v1/stats and the dashboard. */
  gateways?: () => Promise<GatewayView[]>;
}

/** Each routes file exports one of these: it adds its routes to the admin router. */
export type RegisterRoutes = (router: Router, deps: AdminDeps, jobs: AdminJobs) => void;

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  throw new AdminError('BadRequest', `${field}: ${issue.message}`, field);
}

/** Query string -> params; a repeated parameter is ambiguous, so it is refused. */
export function queryParams(querystring: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(querystring)) {
    if (Object.hasOwn(out, name)) throw new QueryError(name, 'given more than once');
    out[name] = value;
  }
  return out;
}

/** The bucket, or 404 (checked before the body is read, as the routes always did). */
export async function requireBucket(deps: AdminDeps, name: string): Promise<BucketRow> {
  const bucket = await deps.buckets.find(name);
  if (!bucket) throw new AdminError('NotFound', 'no such bucket');
  return bucket;
}

/** /v1/objects/{bucket}/{key...}: the raw path decoded once (router params would mangle '/', '%2F', '+'). */
export function objectPath(rawPath: string): { bucket: string; key: string } {
  const rest = rawPath.slice('/v1/objects/'.length);
  const slash = rest.indexOf('/');
  return { bucket: percentDecode(rest.slice(0, slash)), key: percentDecode(rest.slice(slash + 1)) };
}

/** The S3 URL as the client should reach it (see AdminDeps.s3Wildcard). */
export function s3UrlFor(deps: AdminDeps, ctx: Koa.Context): string {
  if (!deps.s3Wildcard) return deps.s3Url;
  const base = new URL(deps.s3Url);
  const host = ctx.hostname;
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return deps.s3Url;
  base.hostname = host;
  return base.origin;
}
