import type { AccessKeyInfo } from '../store/types.js';
import type { AccountInfo } from '../services/accounts.js';
import type { BucketSummary, ChunkRecord, ObjectRecord, StoreStats } from '../db/records/index.js';
import type { GcResult } from '../storage/gc.js';
import type { GatewayView } from '../gateway/registry.js';
import type { LifecycleRunRow } from '../store/lifecycle.js';
import type { ScrubResult } from '../storage/scrub.js';
import type { LifecycleResult } from '../storage/lifecycle.js';
import type { Backend, LifecycleRunOptions, GcOptions, NewKey, ObjectPage, PoolStats, QueryParams } from './backend.js';
import { CliError, EXIT_FAILED, EXIT_USAGE, flagForField, usage } from './common.js';

// A running server's admin API as a Backend: the server runs each operation through its services.

interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

export class RemoteBackend implements Backend {
  readonly kind = 'remote';

  constructor(
    readonly where: string,
    private readonly token: string,
  ) {}

  /** `conflictIsUsage`: a 409 is the caller's mistake (a key id or account name taken), exit 2 as in local mode. */
  private async call<T>(method: string, pathAndQuery: string, body?: unknown, opts: { conflictIsUsage?: boolean } = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.where + pathAndQuery, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      // A self-signed or private-CA certificate: say how Node is told to trust it.
      const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(why) ? ' (the server\'s certificate is not trusted: NODE_EXTRA_CA_CERTS=<its PEM file> trusts it)' : '';
      throw new CliError(`cannot reach the admin API at ${this.where}: ${why}${hint}`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new CliError(`the admin API at ${this.where} sent a response that is not JSON (status ${res.status})`);
      }
    }
    let parsed: ApiErrorBody | undefined;
    try {
      parsed = JSON.parse(text) as ApiErrorBody;
    } catch {
      /* not JSON */
    }
    const e = parsed?.error;
    if (res.status === 401) throw usage(`the admin API refused the token (check --token / CAIRN_ADMIN_TOKEN)${e?.message ? `: ${e.message}` : ''}`);
    let msg = e?.message ?? `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (e?.code === 'BadFilter' && e.field) {
      const own = `${e.field}: `;
      msg = `${flagForField(e.field)}: ${msg.startsWith(own) ? msg.slice(own.length) : msg}`;
    }
    // A bad filter or argument is the caller's mistake: a usage error, like in local mode.
    throw new CliError(msg, res.status === 400 || (res.status === 409 && opts.conflictIsUsage) ? EXIT_USAGE : EXIT_FAILED);
  }

  async buckets(filter: { owner?: string } = {}) {
    const query = filter.owner === undefined ? '' : `?owner=${encodeURIComponent(filter.owner)}`;
    return (await this.call<{ buckets: BucketSummary[] }>('GET', `/v1/buckets${query}`)).buckets;
  }

  async findObjects(params: QueryParams) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, v);
    const s = qs.toString();
    return this.call<ObjectPage>('GET', `/v1/objects${s ? `?${s}` : ''}`);
  }

  async objectRecord(bucket: string, key: string, versionId?: string) {
    const query = versionId === undefined ? '' : `?versionId=${encodeURIComponent(versionId)}`;
    return this.call<ObjectRecord>('GET', `/v1/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}${query}`);
  }

  async chunkRecord(sha256: string) {
    return this.call<ChunkRecord>('GET', `/v1/chunks/${encodeURIComponent(sha256)}`);
  }

  async stats() {
    return this.call<StoreStats & { pool?: PoolStats; lifecycle?: LifecycleRunRow | null; engine?: string; gateways?: GatewayView[] }>('GET', '/v1/stats');
  }

  async createBucket(name: string, isPublic: boolean, owner?: string) {
    return this.call<BucketSummary>('POST', '/v1/buckets', { name, public: isPublic, owner });
  }

  async deleteBucket(name: string) {
    await this.call<void>('DELETE', `/v1/buckets/${encodeURIComponent(name)}`);
  }

  async setBucketPublic(name: string, isPublic: boolean) {
    return this.call<BucketSummary>('PUT', `/v1/buckets/${encodeURIComponent(name)}/public`, { public: isPublic });
  }

  async listKeys(account?: string) {
    const query = account === undefined ? '' : `?account=${encodeURIComponent(account)}`;
    return (await this.call<{ keys: AccessKeyInfo[] }>('GET', `/v1/keys${query}`)).keys;
  }

  async createKey(opts: NewKey) {
    return this.call<AccessKeyInfo & { secret: string }>('POST', '/v1/keys', opts, { conflictIsUsage: true });
  }

  async listAccounts() {
    return (await this.call<{ accounts: AccountInfo[] }>('GET', '/v1/accounts')).accounts;
  }

  async createAccount(opts: { name: string; email?: string }) {
    return this.call<AccountInfo>('POST', '/v1/accounts', opts, { conflictIsUsage: true });
  }

  async deleteAccount(account: string) {
    await this.call<void>('DELETE', `/v1/accounts/${encodeURIComponent(account)}`);
  }

  async revokeKey(id: string) {
    await this.call<void>('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }

  async presign(bucket: string, key: string, opts: { expiresSeconds: number }) {
    return this.call<{ url: string }>('POST', '/v1/presign', { bucket, key, expires: opts.expiresSeconds });
  }

  async gc(opts: GcOptions) {
    return this.call<GcResult>('POST', '/v1/gc', { dryRun: opts.dryRun });
  }

  async lifecycle(opts: LifecycleRunOptions) {
    const at = opts.at === undefined ? undefined : new Date(opts.at).toISOString();
    return this.call<LifecycleResult>('POST', '/v1/lifecycle', { dryRun: opts.dryRun, at, bucket: opts.bucket });
  }

  async verify(opts: { quarantine: boolean }) {
    return this.call<ScrubResult>('POST', '/v1/verify', { quarantine: opts.quarantine });
  }

  close() {}
}
