import path from 'node:path';
import { openDb } from '../db/client.js';
import { SqliteStore } from '../db/sqlite-store.js';
import { loadSettings, redactUrl } from '../config.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { metadataError } from '../gateway/metadata.js';
import { ROOT_CREDENTIALS_SETTING } from '../gateway/shared-settings.js';
import { listGateways } from '../gateway/registry.js';
import { CredentialsFileError, readRootCredentials, type CredentialPair } from '../auth/credentials.js';
import { S3Error } from '../s3/errors.js';
import { presignUrl } from '../services/presign.js';
import type { LocalServices } from '../services/local.js';
import { describeAccounts } from '../services/accounts.js';
import { AccountValidationError, NoSuchAccountError } from '../store/accounts.js';
import { parseObjectQuery, type BucketSummary } from '../db/records/index.js';
import type { Backend, LifecycleRunOptions, GcOptions, NewKey, OnProgress, QueryParams } from './backend.js';
import { CliError, EXIT_FAILED, usage } from './common.js';

// The SQLite file of a data dir as a Backend (works beside a running server: SQLite WAL lets
// readers in), or with --metadata the PostgreSQL database of the gateways (chunks in the data dir). Records are read through the metadata store's records queries; every change goes through the same
// services the server uses (src/services/local.ts), so a rule holds whichever front-end asks.

export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly where: string;
  private store?: MetadataStore;
  private opening?: Promise<MetadataStore>;
  private built?: Promise<LocalServices>;
  private readonly settings: { region: string; durability: 'fsync' | 'relaxed'; gatewayTimeout: number };

  constructor(
    readonly dataDir: string,
    private readonly opts: { write: boolean; /** A postgres:// URL: the metadata engine instead of <dataDir>/cairn.db. */ metadata?: string },
  ) {
    this.where = opts.metadata ? redactUrl(opts.metadata) : dataDir;
    this.settings = loadSettings(['region', 'durability', 'gatewayTimeout']);
  }

  private meta(): Promise<MetadataStore> {
    return (this.opening ??= this.open());
  }

  private async open(): Promise<MetadataStore> {
    const url = this.opts.metadata;
    if (url !== undefined) {
      const { PgStore } = await import('../db/pg/pg-store.js');
      try {
        // Migrations are `cairn migrate`'s (or a gateway's) to apply, not a record command's.
        this.store = await PgStore.open({ url, poolSize: 2, migrate: false, applicationName: 'cairn cli' });
      } catch (err) {
        throw new CliError(metadataError(url, err).message, EXIT_FAILED);
      }
      return this.store;
    }
    const file = path.join(this.dataDir, 'cairn.db');
    try {
      // Read commands open read-only: no migrations, no journal-mode change, no locks held.
      this.store = SqliteStore.over(openDb(file, { durability: this.settings.durability, readonly: !this.opts.write }));
    } catch (err) {
      throw new CliError(`cannot open ${file}: ${(err as Error).message}`, EXIT_FAILED);
    }
    return this.store;
  }

  /** The root pair: the environment, else credentials.json (SQLite) or the settings table (PostgreSQL). */
  private async rootPair(): Promise<CredentialPair> {
    if (this.opts.metadata === undefined) return rootCredentials(this.dataDir);
    const fromEnv = loadSettings(['accessKeyId', 'secretAccessKey']);
    if (fromEnv.accessKeyId && fromEnv.secretAccessKey) return { accessKeyId: fromEnv.accessKeyId, secretAccessKey: fromEnv.secretAccessKey };
    const saved = await (await this.meta()).settings.get(ROOT_CREDENTIALS_SETTING);
    const pair = saved === undefined ? undefined : (JSON.parse(saved) as CredentialPair);
    if (!pair?.accessKeyId || !pair.secretAccessKey) throw usage('no root credentials: set CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY, or start a gateway on this database once');
    return pair;
  }

  private writable(): void {
    if (!this.opts.write) throw new Error('internal: this command opened the data dir read-only');
  }

  /**
   * The services, loaded on first use (the chunk store pulls in the checksum native code;
   * listing commands start faster without it), with their errors in the CLI's words.
   */
  private async services<T>(use: (s: LocalServices) => Promise<T>): Promise<T> {
    this.built ??= (async () => {
      const meta = await this.meta();
      // No key may take the root pair's id, when this process can know it.
      const reserved = this.opts.metadata === undefined ? rootKeyId(this.dataDir) : await this.rootPair().then((p) => (id: string) => id === p.accessKeyId, () => undefined);
      const { localServices } = await import('../services/local.js');
      return localServices(meta, { dataDir: this.dataDir, durability: this.settings.durability, region: this.settings.region, reserved });
    })();
    try {
      return await use(await this.built);
    } catch (err) {
      throw cliErrorFor(err);
    }
  }

  private async summary(name: string): Promise<BucketSummary> {
    const s = await (await this.meta()).records.bucket(name);
    if (!s) throw new CliError(`no bucket ${name}`);
    return s;
  }

  async buckets(filter: { owner?: string } = {}) {
    return (await this.meta()).records.buckets(filter);
  }

  async findObjects(params: QueryParams) {
    return (await this.meta()).records.findObjects(parseObjectQuery(params));
  }

  async objectRecord(bucket: string, key: string, versionId?: string) {
    const rec = await (await this.meta()).records.object(bucket, key, versionId);
    if (!rec) {
      await this.services((s) => s.buckets.require(bucket));
      throw new CliError(versionId === undefined ? `no object ${bucket}/${key}` : `no version ${versionId} of ${bucket}/${key}`);
    }
    return rec;
  }

  async chunkRecord(sha256: string) {
    const rec = await (await this.meta()).records.chunk(sha256);
    if (!rec) throw new CliError(`no chunk ${sha256}`);
    return rec;
  }

  async stats() {
    const meta = await this.meta();
    const gateways = await listGateways(meta.gateways, this.settings.gatewayTimeout);
    return { ...(await meta.records.stats()), lifecycle: (await meta.lifecycle.lastRun()) ?? null, engine: meta.engine, gateways };
  }

  async createBucket(name: string, isPublic: boolean, owner?: string) {
    this.writable();
    await this.services((s) => s.accessControl.createBucket(name, { public: isPublic, owner })).catch((err: unknown) => {
      throw err instanceof NoSuchAccountError ? usage(`--owner: ${err.message}`) : err;
    });
    return this.summary(name);
  }

  /** S3's rule: uploads in progress are aborted with the bucket; objects keep it. */
  async deleteBucket(name: string) {
    this.writable();
    await this.services((s) => s.buckets.delete(name));
  }

  async setBucketPublic(name: string, isPublic: boolean) {
    this.writable();
    await this.services((s) => s.accessControl.setPublic(name, isPublic));
    return this.summary(name);
  }

  async listKeys(account?: string) {
    return this.services((s) => s.keys.list(account));
  }

  async createKey(opts: NewKey) {
    this.writable();
    return this.services((s) => s.keys.create(opts));
  }

  async listAccounts() {
    return this.services(async (s) => {
      const [rows, root, buckets, keys] = await Promise.all([s.accounts.list(), s.accounts.root(), s.buckets.list(), s.keys.list()]);
      return describeAccounts(rows, root.id, buckets, keys);
    });
  }

  async createAccount(opts: { name: string; email?: string }) {
    this.writable();
    return this.services(async (s) => {
      const row = await s.accounts.create(opts);
      return describeAccounts([row], (await s.accounts.root()).id, [], [])[0]!;
    });
  }

  /** A refusal (the root account, one owning buckets) and an unknown account fail (exit 1), as over the admin API. */
  async deleteAccount(account: string) {
    this.writable();
    await this.services((s) => s.accounts.delete(account)).catch((err: unknown) => {
      throw err instanceof AccountValidationError || err instanceof NoSuchAccountError ? new CliError(err.message) : err;
    });
  }

  async revokeKey(id: string) {
    this.writable();
    await this.services((s) => s.keys.revoke(id));
  }

  async presign(bucket: string, key: string, opts: { expiresSeconds: number; endpoint?: string; region?: string }) {
    if (this.opts.metadata === undefined) return { url: localPresign(this.dataDir, { bucket, key, ...opts }) };
    return { url: localPresign(this.dataDir, { bucket, key, ...opts, credentials: await this.rootPair() }) };
  }

  async gc(opts: GcOptions, onProgress?: OnProgress) {
    this.writable();
    const { runGc } = await import('../storage/gc.js');
    return this.services(({ meta, store }) =>
      runGc(
        { dataDir: this.dataDir, meta, store },
        { graceMs: opts.graceMs ?? 3_600_000, multipartExpiryMs: opts.multipartExpiryMs ?? 7 * 86_400_000, dryRun: opts.dryRun, onProgress },
      ),
    );
  }

  /** A pass in this process (the data dir's settings: CAIRN_LIFECYCLE_DAY_SECONDS), the server's engine. */
  async lifecycle(opts: LifecycleRunOptions, onProgress?: OnProgress) {
    this.writable();
    const { runLifecycle } = await import('../storage/lifecycle.js');
    const { lifecycleDaySeconds } = loadSettings(['lifecycleDaySeconds']);
    return this.services(({ meta, objects, multipart }) =>
      runLifecycle({ meta, objects, multipart }, { trigger: 'cli', dryRun: opts.dryRun, now: opts.at, bucket: opts.bucket, dayMs: lifecycleDaySeconds * 1000, onProgress }),
    );
  }

  async verify(opts: { quarantine: boolean }, onProgress?: OnProgress) {
    this.writable();
    const { runScrub } = await import('../storage/scrub.js');
    return this.services(({ meta, store }) => runScrub({ dataDir: this.dataDir, meta, store }, { quarantine: opts.quarantine, onProgress }));
  }

  close() {
    // Synchronous for SQLite: a store over its own connection has no commit thread or workers to
    // wait for. A PostgreSQL pool ends in the background (the process exits once it has).
    const store = this.store;
    if (store && 'opened' in store) (store as SqliteStore).opened.close();
    else if (store) void store.close().catch(() => undefined);
    this.store = undefined;
    this.opening = undefined;
    this.built = undefined;
  }
}

/** The services' S3 errors in the CLI's words: exit 2 for the caller's mistake, 1 otherwise. */
function cliErrorFor(err: unknown): unknown {
  if (!(err instanceof S3Error)) return err;
  const bucket = String(err.details.BucketName ?? '');
  switch (err.code) {
    case 'NoSuchBucket':
      return new CliError(`no bucket ${bucket}`);
    case 'InvalidBucketName':
      return usage(`invalid bucket name: "${bucket}" (3-63 characters: a-z, 0-9, '.', '-')`);
    case 'BucketAlreadyExists':
    case 'BucketAlreadyOwnedByYou':
      return new CliError(`bucket ${bucket} already exists`);
    case 'BucketNotEmpty':
      return new CliError(`bucket ${bucket} is not empty (objects remain)`);
    case 'InvalidAccessKeyId':
      return new CliError(`no access key ${String(err.details.AWSAccessKeyId ?? '')}`);
  }
  return err;
}

/** The root pair's access key id, when this process can know it: no key may take it. */
function rootKeyId(dataDir: string): ((id: string) => boolean) | undefined {
  let id: string | undefined;
  try {
    id = rootCredentials(dataDir).accessKeyId;
  } catch {
    // No credentials here (the server was given them some other way): the store's own check remains.
    return undefined;
  }
  return (asked) => asked === id;
}

/**
 * Root credentials for a local presign: CAIRN_ACCESS_KEY_ID/SECRET (read as the server reads
 * them), else <data-dir>/credentials.json. Never generates a pair: that is the server's job.
 */
export function rootCredentials(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): CredentialPair {
  const fromEnv = loadSettings(['accessKeyId', 'secretAccessKey'], {}, env);
  let found: CredentialPair | undefined;
  try {
    found = readRootCredentials(dataDir, fromEnv);
  } catch (err) {
    if (err instanceof CredentialsFileError) throw usage(`${err.file} is damaged (not JSON, or no accessKeyId/secretAccessKey)`);
    throw usage(`cannot read ${path.join(dataDir ?? '.', 'credentials.json')}: ${(err as Error).message}`);
  }
  if (found) return found;
  const file = dataDir ? path.join(dataDir, 'credentials.json') : undefined;
  throw usage(`no root credentials: set CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY${file ? ` (${file} does not exist)` : ''}, or use --url`);
}

/**
 * A presigned GET URL signed here with the root credentials, for clients of `endpoint` (default
 * http://127.0.0.1:9000); the region is --region, else CAIRN_REGION, else us-east-1.
 */
export function localPresign(
  dataDir: string | undefined,
  o: { bucket: string; key: string; expiresSeconds: number; endpoint?: string; region?: string; env?: NodeJS.ProcessEnv; /** Known already (PostgreSQL settings). */ credentials?: CredentialPair },
): string {
  let endpoint: URL;
  try {
    endpoint = new URL(o.endpoint ?? 'http://127.0.0.1:9000');
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new Error();
  } catch {
    throw usage(`--endpoint: not an http(s) URL: "${o.endpoint}"`);
  }
  const { region } = loadSettings(['region'], { region: o.region }, o.env);
  return presignUrl({ credentials: o.credentials ?? rootCredentials(dataDir, o.env), region, endpoint, bucket: o.bucket, key: o.key, expiresSeconds: o.expiresSeconds });
}
