import fs from 'node:fs';
import path from 'node:path';
import { openDb, type OpenedDb } from '../db/client.js';
import { Repository } from '../db/repository.js';
import { KeysRepository, type AccessKeyInfo, type Grant } from '../db/keys-repository.js';
import {
  bucketSummaries,
  bucketSummary,
  chunkRecord,
  findObjects,
  objectRecord,
  parseObjectQuery,
  storeStats,
  type BucketSummary,
  type ChunkRecord,
  type ObjectRecord,
  type ObjectSummary,
  type StoreStats,
} from '../db/records/index.js';
import type { GcResult } from '../storage/gc.js';
import type { ScrubResult } from '../storage/scrub.js';
import { validateBucketName } from '../s3/names.js';
import { presignRequest } from '../auth/sigv4.js';
import { uriEncode } from '../auth/encoding.js';
import { CliError, EXIT_FAILED, EXIT_USAGE, flagForField, usage, type TargetFlags } from './common.js';

// Where a command gets its data: the SQLite file of a data dir (LocalBackend; works beside a
// running server, SQLite WAL lets readers in) or a running server's admin API (RemoteBackend).
// Both return exactly the shapes of docs/admin-contract.md.

export type QueryParams = Record<string, string | undefined>;
export type OnProgress = (done: number, total: number) => void;
export interface PoolStats {
  total: number;
  free: number;
  inUse: number;
  waiters: number;
  bufferSize: number;
}
export interface ObjectPage {
  objects: ObjectSummary[];
  nextCursor?: string;
}

export interface GcOptions {
  dryRun: boolean;
  /** Local only: orphan chunks and temp files younger than this are kept. */
  graceMs?: number;
  /** Local only: multipart uploads older than this are removed. */
  multipartExpiryMs?: number;
}

export interface Backend {
  readonly kind: 'local' | 'remote';
  /** The data dir or the admin URL, for messages. */
  readonly where: string;
  buckets(): Promise<BucketSummary[]>;
  findObjects(params: QueryParams): Promise<ObjectPage>;
  /** Throws CliError (exit 1) when there is no such object. */
  objectRecord(bucket: string, key: string): Promise<ObjectRecord>;
  chunkRecord(sha256: string): Promise<ChunkRecord>;
  stats(): Promise<StoreStats & { pool?: PoolStats }>;
  createBucket(name: string, isPublic: boolean): Promise<BucketSummary>;
  deleteBucket(name: string): Promise<void>;
  setBucketPublic(name: string, isPublic: boolean): Promise<BucketSummary>;
  listKeys(): Promise<AccessKeyInfo[]>;
  createKey(opts: { description?: string; grants: Grant[] }): Promise<AccessKeyInfo & { secret: string }>;
  revokeKey(id: string): Promise<void>;
  presign(bucket: string, key: string, opts: { expiresSeconds: number; endpoint?: string; region?: string }): Promise<{ url: string }>;
  gc(opts: GcOptions, onProgress?: OnProgress): Promise<GcResult>;
  verify(opts: { quarantine: boolean }, onProgress?: OnProgress): Promise<ScrubResult>;
  close(): void;
}

export type Target = { kind: 'local'; dataDir: string } | { kind: 'remote'; url: string; token: string };

/**
 * --url (+ --token or CAIRN_ADMIN_TOKEN) talks to a server; otherwise --data-dir, CAIRN_DATA_DIR
 * or ./data. Configuration problems are usage errors (exit 2) with a message saying what to pass.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  if (flags.url !== undefined && flags.dataDir !== undefined) throw usage('use either --data-dir or --url, not both');
  if (flags.url !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      throw usage(`--url: not an http(s) URL: "${flags.url}" (the admin API, e.g. http://127.0.0.1:9001)`);
    }
    const token = flags.token ?? (env.CAIRN_ADMIN_TOKEN || undefined);
    if (!token) throw usage('--url needs an admin token: --token or CAIRN_ADMIN_TOKEN (the server keeps it in <data-dir>/admin-token)');
    return { kind: 'remote', url: url.toString().replace(/\/+$/, ''), token };
  }
  const given = flags.dataDir ?? (env.CAIRN_DATA_DIR || undefined);
  const dir = given ?? './data';
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw usage(`no cairn data dir at ${dir} (use --data-dir or --url)`);
  }
  if (!fs.existsSync(path.join(dir, 'cairn.db'))) {
    throw usage(`${dir} has no cairn.db: not a cairn data dir (start \`cairn serve --data-dir ${dir}\` once, or use --url)`);
  }
  return { kind: 'local', dataDir: path.resolve(dir) };
}

/** `write`: the command changes the data dir (buckets, keys, gc, verify's quarantine). */
export function openBackend(flags: TargetFlags, opts: { write: boolean }): Backend {
  const target = resolveTarget(flags);
  return target.kind === 'remote' ? new RemoteBackend(target.url, target.token) : new LocalBackend(target.dataDir, opts);
}

// ---------------------------------------------------------------------------------------------

const durability = (): 'fsync' | 'relaxed' => (process.env.CAIRN_DURABILITY === 'relaxed' ? 'relaxed' : 'fsync');

export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly where: string;
  private opened?: OpenedDb;

  constructor(
    readonly dataDir: string,
    private readonly opts: { write: boolean },
  ) {
    this.where = dataDir;
  }

  private get db() {
    if (!this.opened) {
      const file = path.join(this.dataDir, 'cairn.db');
      try {
        // Read commands open read-only: no migrations, no journal-mode change, no locks held.
        this.opened = openDb(file, { durability: durability(), readonly: !this.opts.write });
      } catch (err) {
        throw new CliError(`cannot open ${file}: ${(err as Error).message}`, EXIT_FAILED);
      }
    }
    return this.opened.db;
  }

  private writable(): void {
    if (!this.opts.write) throw new Error('internal: this command opened the data dir read-only');
  }

  /**
   * What gc and verify need, loaded on use (the chunk store pulls in the checksum native code;
   * listing commands start faster without it). Never listens, never sweeps tmp/ at open: a
   * running server may be writing there.
   */
  private async services() {
    this.writable();
    const [{ ChunkStore }, { SqliteStore }] = await Promise.all([import('../storage/chunk-store.js'), import('../db/sqlite-store.js')]);
    this.db;
    const meta = SqliteStore.over(this.opened!);
    const store = new ChunkStore({ dataDir: this.dataDir, durability: durability() });
    return { meta, store };
  }

  private requireBucket(name: string) {
    const b = new Repository(this.db).getBucket(name);
    if (!b) throw new CliError(`no bucket ${name}`);
    return b;
  }

  private summary(name: string): BucketSummary {
    const s = bucketSummary(this.db, name);
    if (!s) throw new CliError(`no bucket ${name}`);
    return s;
  }

  async buckets() {
    return bucketSummaries(this.db);
  }

  async findObjects(params: QueryParams) {
    const q = parseObjectQuery(params);
    return findObjects(this.db, q);
  }

  async objectRecord(bucket: string, key: string) {
    const rec = objectRecord(this.db, bucket, key);
    if (!rec) {
      this.requireBucket(bucket);
      throw new CliError(`no object ${bucket}/${key}`);
    }
    return rec;
  }

  async chunkRecord(sha256: string) {
    const rec = chunkRecord(this.db, sha256);
    if (!rec) throw new CliError(`no chunk ${sha256}`);
    return rec;
  }

  async stats() {
    return storeStats(this.db);
  }

  async createBucket(name: string, isPublic: boolean) {
    this.writable();
    try {
      validateBucketName(name);
    } catch {
      throw usage(`invalid bucket name: "${name}" (3-63 characters: a-z, 0-9, '.', '-')`);
    }
    const region = process.env.CAIRN_REGION || 'us-east-1';
    const created = new Repository(this.db).createBucket({ name, region, publicRead: isPublic });
    if (!created) throw new CliError(`bucket ${name} already exists`);
    return this.summary(name);
  }

  async deleteBucket(name: string) {
    this.writable();
    const b = this.requireBucket(name);
    if (new Repository(this.db).deleteBucket(b.id) === 'not-empty') {
      throw new CliError(`bucket ${name} is not empty (objects or multipart uploads remain)`);
    }
  }

  async setBucketPublic(name: string, isPublic: boolean) {
    this.writable();
    const b = this.requireBucket(name);
    new Repository(this.db).setBucketPublic(b.id, isPublic);
    return this.summary(name);
  }

  async listKeys() {
    return new KeysRepository(this.db).list();
  }

  async createKey(opts: { description?: string; grants: Grant[] }) {
    this.writable();
    return new KeysRepository(this.db).create(opts);
  }

  async revokeKey(id: string) {
    this.writable();
    if (!new KeysRepository(this.db).revoke(id)) throw new CliError(`no access key ${id}`);
  }

  async presign(bucket: string, key: string, opts: { expiresSeconds: number; endpoint?: string; region?: string }) {
    const creds = rootCredentials(this.dataDir);
    return { url: presignUrl({ ...creds, bucket, key, expiresSeconds: opts.expiresSeconds, endpoint: opts.endpoint, region: opts.region }) };
  }

  async gc(opts: GcOptions, onProgress?: OnProgress) {
    const s = await this.services();
    const { runGc } = await import('../storage/gc.js');
    return runGc(
      { dataDir: this.dataDir, meta: s.meta, store: s.store },
      { graceMs: opts.graceMs ?? 3_600_000, multipartExpiryMs: opts.multipartExpiryMs ?? 7 * 86_400_000, dryRun: opts.dryRun, onProgress },
    );
  }

  async verify(opts: { quarantine: boolean }, onProgress?: OnProgress) {
    const s = await this.services();
    const { runScrub } = await import('../storage/scrub.js');
    return runScrub({ dataDir: this.dataDir, meta: s.meta, store: s.store }, { quarantine: opts.quarantine, onProgress });
  }

  close() {
    this.opened?.close();
    this.opened = undefined;
  }
}

/** Root credentials for a local presign: CAIRN_ACCESS_KEY_ID/SECRET, else <data-dir>/credentials.json. */
export function rootCredentials(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): { accessKeyId: string; secretAccessKey: string } {
  if (env.CAIRN_ACCESS_KEY_ID && env.CAIRN_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.CAIRN_ACCESS_KEY_ID, secretAccessKey: env.CAIRN_SECRET_ACCESS_KEY };
  }
  const file = dataDir ? path.join(dataDir, 'credentials.json') : undefined;
  if (!file || !fs.existsSync(file)) {
    throw usage(`no root credentials: set CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY${file ? ` (${file} does not exist)` : ''}, or use --url`);
  }
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { accessKeyId?: unknown; secretAccessKey?: unknown };
    if (typeof saved.accessKeyId === 'string' && typeof saved.secretAccessKey === 'string') {
      return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey };
    }
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT_USAGE);
  }
  throw new CliError(`${file} is damaged (no accessKeyId/secretAccessKey)`, EXIT_USAGE);
}

/** A path-style SigV4 presigned GET URL: `<endpoint>/<bucket>/<key>?X-Amz-...`. */
export function presignUrl(o: {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  key: string;
  expiresSeconds: number;
  endpoint?: string;
  region?: string;
  date?: Date;
}): string {
  let endpoint: URL;
  try {
    endpoint = new URL(o.endpoint ?? 'http://127.0.0.1:9000');
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new Error();
  } catch {
    throw usage(`--endpoint: not an http(s) URL: "${o.endpoint}"`);
  }
  const base = endpoint.pathname.replace(/\/+$/, '');
  const rawPath = `${base}/${uriEncode(o.bucket)}/${o.key.split('/').map((s) => uriEncode(s)).join('/')}`;
  const host = endpoint.host;
  const signed = presignRequest(
    { method: 'GET', rawPath, rawQuery: '', headers: { host }, host },
    {
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      region: o.region ?? 'us-east-1',
      date: o.date ?? new Date(),
      expiresSeconds: o.expiresSeconds,
    },
  );
  return `${endpoint.protocol}//${host}${signed.request.rawPath}?${signed.request.rawQuery}`;
}

// ---------------------------------------------------------------------------------------------

interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

export class RemoteBackend implements Backend {
  readonly kind = 'remote';

  constructor(
    readonly where: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
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
      throw new CliError(`cannot reach the admin API at ${this.where}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
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
    throw new CliError(msg, res.status === 400 ? EXIT_USAGE : EXIT_FAILED);
  }

  async buckets() {
    return (await this.call<{ buckets: BucketSummary[] }>('GET', '/v1/buckets')).buckets;
  }

  async findObjects(params: QueryParams) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, v);
    const s = qs.toString();
    return this.call<ObjectPage>('GET', `/v1/objects${s ? `?${s}` : ''}`);
  }

  async objectRecord(bucket: string, key: string) {
    return this.call<ObjectRecord>('GET', `/v1/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`);
  }

  async chunkRecord(sha256: string) {
    return this.call<ChunkRecord>('GET', `/v1/chunks/${encodeURIComponent(sha256)}`);
  }

  async stats() {
    return this.call<StoreStats & { pool?: PoolStats }>('GET', '/v1/stats');
  }

  async createBucket(name: string, isPublic: boolean) {
    return this.call<BucketSummary>('POST', '/v1/buckets', { name, public: isPublic });
  }

  async deleteBucket(name: string) {
    await this.call<void>('DELETE', `/v1/buckets/${encodeURIComponent(name)}`);
  }

  async setBucketPublic(name: string, isPublic: boolean) {
    return this.call<BucketSummary>('PUT', `/v1/buckets/${encodeURIComponent(name)}/public`, { public: isPublic });
  }

  async listKeys() {
    return (await this.call<{ keys: AccessKeyInfo[] }>('GET', '/v1/keys')).keys;
  }

  async createKey(opts: { description?: string; grants: Grant[] }) {
    return this.call<AccessKeyInfo & { secret: string }>('POST', '/v1/keys', opts);
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

  async verify(opts: { quarantine: boolean }) {
    return this.call<ScrubResult>('POST', '/v1/verify', { quarantine: opts.quarantine });
  }

  close() {}
}
