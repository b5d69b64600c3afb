import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { AuthResult } from '../auth/types.js';
import type { Principal } from '../auth/authorize.js';
import type { Config } from '../config.js';
import type { ObjectService } from '../storage/object-service.js';
import type { MultipartService } from '../storage/multipart-service.js';
import type { BucketService } from '../services/buckets.js';
import type { Principals } from '../services/principals.js';
import type { RequestSample } from '../admin/metrics.js';
import type { AccountService } from '../services/accounts.js';
import type { AccessControlService } from '../services/access-control.js';
import type { TaggingService } from '../services/tagging.js';
import type { AccessLookups, BucketAccess } from '../auth/access.js';

/** What every handler may use: the domain services (handlers never reach the stores). */
export interface AppDeps {
  config: Config;
  buckets: BucketService;
  objects: ObjectService;
  multipart: MultipartService;
  /** Who signed a request: the root pair or an access key with its current grants. */
  principals: Principals;
  /** Owners, ACL grantees and policy principals. */
  accounts: AccountService;
  /** ACLs, object ownership and bucket policies. */
  accessControl: AccessControlService;
  /** Object and bucket tags (src/services/tagging.ts). */
  tagging: TaggingService;
  /** What authorization looks up (buckets, an object's owner and ACL). */
  accessLookups: AccessLookups;
  /** Each request in a scope of its own (services/request-memo.ts): set on engines without caches. */
  requestScope?: boolean;
  log: Logger;
  /** Per-request Prometheus samples (admin /metrics); absent in tests that build the app alone. */
  metrics?: { observeRequest(sample: RequestSample): void };
}

/** Per-request state set by the middleware before the handler runs. */
export interface S3State {
  requestId: string;
  /** Path as received (still percent-encoded), without the query. */
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  bucket?: string;
  key?: string;
  /** null for an anonymous request. */
  auth: AuthResult | null;
  /** Set with `auth`: null for an anonymous request. Handlers check extra buckets with requireAccess(). */
  principal: Principal | null;
  operation?: string;
  /** The request's access decisions on its bucket (src/auth/access.ts), for the handler's further checks. */
  access?: BucketAccess;
  bytesIn: number;
}

export type S3Context = ParameterizedContext<S3State>;

/** What the router resolved an operation on: the bucket, and the key for object operations. */
export interface BucketTarget {
  bucket: string;
}
export interface ObjectTarget extends BucketTarget {
  key: string;
}
export type Handler<T = object> = (ctx: S3Context, deps: AppDeps, target: T) => Promise<void>;
export type BucketHandler = Handler<BucketTarget>;
export type ObjectHandler = Handler<ObjectTarget>;

export function header(ctx: S3Context, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
