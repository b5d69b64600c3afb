// The console's client: admin API calls (bearer token, or SigV4 with an access key pair) and the
// S3 URLs the browser uploads, downloads and deletes through (presigned by the admin API with the
// token, or by the browser itself with a key pair).
import { ApiError } from './lib/errors.js';
import { buildQuery, copySource, objectPath, presign, signHeaders, type Credentials } from './lib/sigv4.js';
import { parseS3Error } from './lib/upload.js';
import type { BucketSummary, ObjectRecord, ObjectSummary, StoreStats as StoreTotals } from '../../src/db/records/shapes.js';

export type { BucketSummary, ChunkEntry, LockState, ObjectRecord, ObjectSummary, OwnerRef, VersionEntry } from '../../src/db/records/shapes.js';
import type { OwnerRef } from '../../src/db/records/shapes.js';
import type { LifecycleRunRow } from '../../src/store/lifecycle.js';
import type { GatewayView } from '../../src/gateway/registry.js';

export type Auth = { kind: 'token'; token: string } | { kind: 'key'; accessKeyId: string; secretAccessKey: string };

export interface Grant {
  bucket: string;
  permission: 'read' | 'write' | 'bypass';
}
export interface ConsoleConfig {
  s3Url: string;
  region: string;
  principal: { kind: 'admin' | 'root' | 'key'; accessKeyId?: string; grants?: Grant[]; account?: OwnerRef };
  can: { admin: boolean; manageBuckets: boolean; seeAll: boolean };
  chunkSize: number;
}
export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
}
export interface ListPage {
  bucket: string;
  prefix: string;
  prefixes: string[];
  objects: ListEntry[];
  nextCursor?: string;
}
/** GET /v1/stats: the store's totals and the write pool. */
export interface StoreStats extends StoreTotals {
  pool: { total: number; free: number; inUse: number; waiters: number; bufferSize: number };
  /** The latest lifecycle pass (docs/lifecycle.md), null before the first. */
  lifecycle: LifecycleRun | null;
  /** The metadata engine: 'sqlite' or 'postgres'. */
  engine?: string;
  /** The gateway registry, each with its state (alive: heartbeat within the timeout). */
  gateways?: Gateway[];
}
/** A gateway's registry row as /v1/stats sends it (times in ms). */
export type Gateway = GatewayView;
/** A lifecycle pass as lifecycle_runs records it (times in ms): the store's row, as /v1/stats sends it. */
export type LifecycleRun = LifecycleRunRow;
/** GET /v1/accounts (docs/admin-contract.md). */
export interface AccountInfo {
  id: string;
  name: string;
  email: string | null;
  createdAt: string;
  root: boolean;
  buckets: number;
  keys: number;
}
export interface AccessKeyInfo {
  id: string;
  accountId: string;
  description: string;
  createdAt: string;
  grants: Grant[];
}
/** An ACL grant with its grantee named (an account's name, or a group's URI). */
export interface AclGrant {
  grantee: { type: 'CanonicalUser'; id: string; name: string | null } | { type: 'Group'; uri: string };
  permission: 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
}
export interface BucketAcl {
  bucket: string;
  ownership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
  public: boolean;
  owner: OwnerRef;
  grants: AclGrant[];
}
export interface ObjectAcl {
  bucket: string;
  key: string;
  versionId: string;
  owner: OwnerRef;
  grants: AclGrant[];
}
export interface BucketPolicy {
  bucket: string;
  policy: unknown;
  isPublic: boolean;
}
export interface VerifyState {
  running: boolean;
  startedAt?: string;
  finishedAt?: string;
  done: number;
  total: number;
  result?: { checked: number; bytes: number; broken: Array<{ sha256: string; problem: string; objects: Array<{ bucket: string; key: string }>; objectCount: number }>; durationMs: number };
  error?: string;
}

export class Api {
  private endpoint?: { origin: string; host: string; region: string };

  constructor(
    readonly auth: Auth,
    readonly base = location.origin,
  ) {}

  setS3(config: ConsoleConfig): void {
    const u = new URL(config.s3Url);
    this.endpoint = { origin: u.origin, host: u.host, region: config.region };
  }

  private creds(region: string): Credentials {
    if (this.auth.kind !== 'key') throw new Error('no key pair');
    return { accessKeyId: this.auth.accessKeyId, secretAccessKey: this.auth.secretAccessKey, region };
  }

  /** region: the key pair signs for the server's region, learnt from /v1/config (tried with us-east-1 first). */
  region = 'us-east-1';

  async request<T>(method: string, path: string, opts: { query?: Record<string, string>; body?: unknown; text?: boolean } = {}): Promise<T> {
    const query = opts.query ? buildQuery(opts.query) : '';
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth.kind === 'token') headers.authorization = `Bearer ${this.auth.token}`;
    else Object.assign(headers, signHeaders({ method, path, query, host: new URL(this.base).host }, this.creds(this.region), { body }));
    const res = await fetch(`${this.base}${path}${query ? `?${query}` : ''}`, { method, headers, body });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!res.ok) {
      let e: { code?: string; message?: string; field?: string } = {};
      try {
        e = (JSON.parse(text) as { error?: typeof e }).error ?? {};
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, e.code ?? `HTTP${res.status}`, e.message ?? res.statusText, e.field);
    }
    if (opts.text) return text as T;
    return JSON.parse(text) as T;
  }

  config = () => this.request<ConsoleConfig>('GET', '/v1/config');
  buckets = () => this.request<{ buckets: BucketSummary[] }>('GET', '/v1/buckets').then((r) => r.buckets);
  createBucket = (name: string, isPublic: boolean, owner?: string) => this.request<BucketSummary>('POST', '/v1/buckets', { body: { name, public: isPublic, ...(owner ? { owner } : {}) } });
  deleteBucket = (name: string) => this.request<void>('DELETE', `/v1/buckets/${encodeURIComponent(name)}`);
  setPublic = (name: string, isPublic: boolean) => this.request<BucketSummary>('PUT', `/v1/buckets/${encodeURIComponent(name)}/public`, { body: { public: isPublic } });
  allowConsole = (name: string) => this.request<unknown>('PUT', `/v1/buckets/${encodeURIComponent(name)}/cors`, { body: { origins: [location.origin] } });
  list = (bucket: string, prefix: string, cursor?: string, limit = 200) =>
    this.request<ListPage>('GET', '/v1/list', { query: { bucket, prefix, delimiter: '/', limit: String(limit), ...(cursor ? { cursor } : {}) } });
  find = (params: Record<string, string>) => this.request<{ objects: ObjectSummary[]; nextCursor?: string }>('GET', '/v1/objects', { query: params });
  object = (bucket: string, key: string, versionId?: string) =>
    this.request<ObjectRecord>('GET', `${objectPath(bucket, key).replace(/^/, '/v1/objects')}`, versionId === undefined ? {} : { query: { versionId } });
  stats = () => this.request<StoreStats>('GET', '/v1/stats');
  accounts = () => this.request<{ accounts: AccountInfo[] }>('GET', '/v1/accounts').then((r) => r.accounts);
  createAccount = (name: string, email?: string) => this.request<AccountInfo>('POST', '/v1/accounts', { body: { name, ...(email ? { email } : {}) } });
  deleteAccount = (account: string) => this.request<void>('DELETE', `/v1/accounts/${encodeURIComponent(account)}`);
  keys = () => this.request<{ keys: AccessKeyInfo[] }>('GET', '/v1/keys').then((r) => r.keys);
  createKey = (key: { account: string; grants: Grant[]; description?: string; accessKeyId?: string; secretAccessKey?: string }) =>
    this.request<AccessKeyInfo & { secret: string }>('POST', '/v1/keys', { body: key });
  revokeKey = (id: string) => this.request<void>('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  bucketAcl = (bucket: string) => this.request<BucketAcl>('GET', `/v1/buckets/${encodeURIComponent(bucket)}/acl`);
  bucketPolicy = (bucket: string) => this.request<BucketPolicy>('GET', `/v1/buckets/${encodeURIComponent(bucket)}/policy`);
  objectAcl = (bucket: string, key: string, versionId?: string) =>
    this.request<ObjectAcl>('GET', `/v1/objects${objectPath(bucket, key)}`, { query: { acl: '', ...(versionId === undefined ? {} : { versionId }) } });
  /** Replaces a version's tags ([] removes them): the admin API's PUT ?tags, S3's rules. */
  putObjectTags = (bucket: string, key: string, versionId: string, tags: Array<{ key: string; value: string }>) =>
    this.request<{ tags: Array<{ key: string; value: string }> }>('PUT', `/v1/objects${objectPath(bucket, key)}`, { query: { tags: '', versionId }, body: { tags } });
  metrics = () => this.request<string>('GET', '/metrics', { text: true });
  verifyState = () => this.request<VerifyState>('GET', '/v1/verify');
  startVerify = () => this.request<VerifyState>('POST', '/v1/verify', { body: { background: true } });

  /**
   * A URL for an S3 request on an object: presigned by the admin API (token) or here (key pair).
   * `headers` (lower-case x-amz-* names) are signed into it; the request must send them.
   */
  async presign(bucket: string, key: string, method = 'GET', query: Record<string, string> = {}, expires = 3600, headers: Record<string, string> = {}): Promise<string> {
    if (this.auth.kind === 'token') {
      const extra = { ...(Object.keys(query).length ? { query } : {}), ...(Object.keys(headers).length ? { headers } : {}) };
      const r = await this.request<{ url: string }>('POST', '/v1/presign', { body: { bucket, key, method, expires, ...extra } });
      return r.url;
    }
    if (!this.endpoint) throw new Error('the S3 endpoint is not known yet');
    return presign({ method, path: objectPath(bucket, key), query: buildQuery(query), host: this.endpoint.host, origin: this.endpoint.origin, headers }, this.creds(this.endpoint.region), expires);
  }

  /** A presigned S3 request with fetch; S3 XML errors become ApiError. x-amz-* headers are signed (S3 refuses them unsigned). */
  async s3(bucket: string, key: string, method: string, opts: { query?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<string> {
    const amz = Object.fromEntries(Object.entries(opts.headers ?? {}).flatMap(([k, v]) => (/^x-amz-/i.test(k) ? [[k.toLowerCase(), v]] : [])));
    const url = await this.presign(bucket, key, method, opts.query, 3600, amz);
    const res = await fetch(url, { method, body: opts.body, headers: opts.headers });
    const text = await res.text();
    if (!res.ok) throw s3Error(res.status, text);
    return text;
  }

  /** Restores an older version: CopyObject of it onto its own key makes a new current version with its bytes. */
  restoreVersion = (bucket: string, key: string, versionId: string) => this.s3(bucket, key, 'PUT', { headers: { 'x-amz-copy-source': copySource(bucket, key, versionId) } });
}

export function s3Error(status: number, body: string): ApiError {
  const e = parseS3Error(body);
  return new ApiError(status, e?.code ?? `HTTP${status}`, e?.message ?? `the S3 listener answered HTTP ${status}`);
}
