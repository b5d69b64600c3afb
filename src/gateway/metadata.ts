import { memoizedBuckets, memoizedObjects } from '../services/request-memo.js';
import type { BucketStore, ObjectStore } from '../store/metadata-store.js';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, redactUrl, type Config } from '../config.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { SqliteStore } from '../db/sqlite-store.js';
import { loadRootCredentials, type RootCredentials } from '../auth/credentials.js';
import { loadAdminToken } from '../admin/token.js';
import { sharedAdminToken, sharedRootCredentials, type SharedAdminToken } from './shared-settings.js';

// The metadata engine a gateway runs on, chosen by --metadata (CAIRN_METADATA_URL): PostgreSQL
// for a postgres:// URL, else the SQLite file of the data dir. With it, where the root pair and
// the admin token come from: the data dir's files on SQLite (as always), the `settings` table on
// PostgreSQL (stateless gateways), the environment first on both.

export interface OpenedMetadata {
  meta: MetadataStore;
  /** Set on the SQLite engine only. */
  sqlite?: SqliteStore;
  credentials: RootCredentials;
  adminToken: SharedAdminToken;
  /** Retried PostgreSQL transactions by cause (zeros on SQLite), for /metrics. */
  retries: () => { serialization: number; deadlock: number };
}

export async function openMetadata(config: Config, log: Logger, dataDir: string, gatewayId: string): Promise<OpenedMetadata> {
  if (config.metadata !== undefined) return openPostgres(config.metadata, config, log, gatewayId);
  const credentials = loadRootCredentials(dataDir, config);
  const token = loadAdminToken(dataDir, config.adminToken);
  const sqlite = await SqliteStore.open({
    file: path.join(dataDir, 'cairn.db'),
    durability: config.durability,
    commitThread: config.commitThread === 'on',
    onThreadStopped: (err) => log.error({ err }, 'the commit thread stopped: PUTs and DELETEs fail until a restart'),
  });
  return { meta: sqlite, sqlite, credentials, adminToken: { check: token.token, ...token }, retries: () => ({ serialization: 0, deadlock: 0 }) };
}

/** Opens the database, applies pending migrations (under the advisory lock) and reads the shared settings. */
async function openPostgres(url: string, config: Config, log: Logger, gatewayId: string): Promise<OpenedMetadata> {
  const [{ PgStore }, { migratePg, retryCounts }, { bucketAndObject }] = await Promise.all([import('../db/pg/pg-store.js'), import('../db/pg/client.js'), import('../db/pg/read-path.js')]);
  let store;
  try {
    store = await PgStore.open({ url, poolSize: config.metadataPool, migrate: false, applicationName: `cairn ${gatewayId}`.slice(0, 63), freedTtlMs: config.gcGrace });
    const { applied } = await migratePg(store.pg.pool);
    if (applied > 0) log.info({ applied }, 'applied pending metadata migrations');
  } catch (err) {
    await store?.close().catch(() => undefined);
    throw metadataError(url, err);
  }
  try {
    const credentials = await sharedRootCredentials(store.settings, config);
    const adminToken = await sharedAdminToken(store.settings, config.adminToken);
    // A request reads its bucket once, a GET's with its object (services/request-memo.ts; app.ts
    // gives each request its scope).
    const pool = store.pg.pool;
    (store as { buckets: BucketStore }).buckets = memoizedBuckets(store.buckets, (name, key) => bucketAndObject(pool, name, key));
    (store as { objects: ObjectStore }).objects = memoizedObjects(store.objects);
    return { meta: store, credentials, adminToken, retries: () => ({ ...retryCounts }) };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw metadataError(url, err);
  }
}

/** Why the database cannot be used, without its password (the driver's messages may quote the URL). */
export function metadataError(url: string, err: unknown): Error {
  let message = (err as Error)?.message ?? String(err);
  for (const secret of passwordsOf(url)) message = message.split(secret).join('***');
  const cause = (err as { code?: string })?.code;
  const e = new Error(`cannot use the metadata database ${redactUrl(url)}: ${message}${cause && !message.includes(cause) ? ` (${cause})` : ''}`);
  return err instanceof ConfigError ? new ConfigError(e.message) : e;
}

/** The password as written in the URL and decoded (either may appear in a message). */
function passwordsOf(url: string): string[] {
  try {
    const u = new URL(url);
    const found = [u.password, safeDecode(u.password), u.searchParams.get('password') ?? ''];
    return [...new Set(found.filter((p) => p.length > 0))];
  } catch {
    return [];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
