import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { AuthResult } from '../auth/types.js';
import type { Principal } from '../auth/authorize.js';
import type { Config } from '../config.js';
import type { Repository } from '../db/repository.js';
import type { ObjectService } from '../storage/object-service.js';
import type { MultipartService } from '../storage/multipart-service.js';
import type { MultipartRepository } from '../db/multipart-repository.js';
import type { RequestSample } from '../admin/metrics.js';

/** What every handler may use; built once in app.ts. */
export interface AppDeps {
  config: Config;
  repo: Repository;
  objects: ObjectService;
  multipart: MultipartService;
  mp: MultipartRepository;
  /** Secret for an access key id, or undefined when the key is unknown. */
  lookupSecret: (accessKeyId: string) => string | undefined;
  /**
   * Who an authenticated access key is: root, or a key with its current grants (read per
   * request). Undefined when the key no longer exists (revoked since its signature was checked).
   */
  principalFor: (accessKeyId: string) => Principal | undefined;
  /** The owner shown in listings and ACLs. */
  owner: { id: string; displayName: string };
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
  bytesIn: number;
}

export type S3Context = ParameterizedContext<S3State>;
export type Handler = (ctx: S3Context, deps: AppDeps) => Promise<void>;

export function header(ctx: S3Context, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
