import os from 'node:os';
import { z } from 'zod';

// One typed config: flags > CAIRN_* environment > defaults. Validated once at start-up so a
// bad value stops the server with a message naming the setting instead of failing later.

const MiB = 1024 * 1024;

/** Accepts plain bytes or a size with a unit (8MiB, 512KiB, 1GiB, 8M). */
export function parseSize(value: string): number {
  const m = /^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(value);
  if (!m) throw new Error(`not a size: "${value}" (use bytes or a unit such as 8MiB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? MiB : unit.startsWith('g') ? 1024 * MiB : 1;
  return n * mult;
}

const sizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** Accepts seconds or a duration with a unit (7d, 12h, 30m, 45s); returns milliseconds. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) throw new Error(`not a duration: "${value}" (use seconds or a unit such as 7d, 12h, 30m)`);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Number(m[1]) * mult;
}

const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const intSchema = z.coerce.number().int();

// The fields alone (no cross-field rules), so that loadSettings can pick some of them.
const configFields = z.object({
    port: intSchema.min(0).max(65535).default(9000),
    host: z.string().min(1).default('0.0.0.0'),
    dataDir: z.string().min(1).default('./data'),
    region: z.string().regex(/^[a-z0-9-]+$/, 'a region name such as us-east-1').default('us-east-1'),
    domain: z.string().min(1).optional(),
    accessKeyId: z.string().min(3).max(128).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -').optional(),
    secretAccessKey: z.string().min(8).max(256).optional(),
    chunkSize: sizeSchema.pipe(z.number().int().min(64 * 1024, 'at least 64KiB').max(64 * MiB, 'at most 64MiB')).default(8 * MiB),
    writeBuffers: intSchema.min(1).max(4096).default(16),
    maxBuffersPerRequest: intSchema.min(1).max(4096).default(4),
    /** PutObject bodies up to this size live in their SQLite row instead of a chunk file; 0 = never. */
    inlineMax: sizeSchema.pipe(z.number().int().min(0).max(1024 * 1024, 'at most 1MiB')).default(32 * 1024),
    /** Worker threads hashing uploads (MD5, checksums, chunk SHA-256); 0 = on the event loop. */
    hashThreads: intSchema.min(0).max(64).default(Math.min(4, Math.max(1, os.availableParallelism()))),
    durability: z.enum(['fsync', 'relaxed']).default('fsync'),
    /** PUT and DELETE commits run on a thread of their own (db/commit-thread.ts), or on the event loop. */
    commitThread: z.enum(['on', 'off']).default('on'),
    /** Uploads never completed are removed after this long (ms). */
    multipartExpiry: durationSchema.pipe(z.number().int().min(1000, 'at least 1s')).default(7 * 86_400_000),
    adminPort: intSchema.min(0).max(65535).default(9001),
    adminHost: z.string().min(1).default('127.0.0.1'),
    adminToken: z.string().min(16, 'at least 16 characters').optional(),
    /** Background GC period (ms); 0 turns it off. */
    gcInterval: durationSchema.pipe(z.number().int().min(0)).default(3_600_000),
    /** Orphan chunk and temp files younger than this are never collected (ms). */
    gcGrace: durationSchema.pipe(z.number().int().min(0)).default(3_600_000),
    /** Lifecycle worker period (ms), from the end of one pass to the start of the next; 0 turns it off. */
    lifecycleInterval: durationSchema.pipe(z.number().int().min(0)).default(3_600_000),
    /** Seconds in a lifecycle "day" (rules' Days): a testing aid; 86400 in production. */
    lifecycleDaySeconds: intSchema.min(1).max(86_400).default(86_400),
    /** Background scrub period (ms); 0 turns it off. */
    scrubInterval: durationSchema.pipe(z.number().int().min(0)).default(86_400_000),
    /** A connection that sends or receives nothing for this long is closed (ms); 0 = never. */
    idleTimeout: durationSchema.pipe(z.number().int().min(0)).default(120_000),
    /** Longest time to receive a request's headers (ms): slow-header (slowloris) clients are cut off. */
    headersTimeout: durationSchema.pipe(z.number().int().min(100, 'at least 100ms')).default(30_000),
    /** An idle keep-alive connection is closed after this long (ms). */
    keepAliveTimeout: durationSchema.pipe(z.number().int().min(100, 'at least 100ms')).default(65_000),
    /** An upload body arriving slower than this (bytes/s, over min(idle timeout, 30 s)) is cut; 0 = off. */
    minUploadRate: sizeSchema.pipe(z.number().int().min(0)).default(1024),
    /** Server keys for SSE-S3: lines `<key-id> <base64 of 32 bytes>`, the last one active (docs/encryption.md). */
    encryptionKeyFile: z.string().min(1).optional(),
    /** One server key (base64 of 32 bytes, key id "env") when there is no key file. */
    encryptionKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of 32 bytes (openssl rand -base64 32)').optional(),
    /** Every new write without SSE-C is SSE-S3 (needs a server key). */
    encryptAll: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' || v === '' ? false : v), z.boolean()).default(false),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** PEM certificate (chain) and key: the S3 listener speaks https; reloaded on SIGHUP. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /** The admin listener's and console's pair; when unset, the S3 listener's. */
    adminTlsCert: z.string().min(1).optional(),
    adminTlsKey: z.string().min(1).optional(),
    /** The metadata engine: a postgres:// URL; unset, the SQLite file in the data dir. */
    metadata: z.string().min(1).refine(isPostgresUrl, 'a postgres:// or postgresql:// URL (unset: the SQLite file in the data dir)').optional(),
    /** PostgreSQL connections of this gateway's pool (docs/postgresql.md). */
    metadataPool: intSchema.min(1).max(1000).default(10),
    /** This gateway's name in the registry; default: a random one per start. */
    gatewayId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, . _ -').optional(),
    /** A gateway whose last heartbeat is older than this is dead (ms); heartbeats come 4 times as often. */
    gatewayTimeout: durationSchema.pipe(z.number().int().min(2000, 'at least 2s').max(3_600_000, 'at most 1h')).default(30_000),
});

/** True for a URL the PostgreSQL engine opens. */
export function isPostgresUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && (u.hostname !== '' || u.searchParams.has('host'));
  } catch {
    return false;
  }
}

/** A metadata URL fit for messages and logs: its password replaced by ***. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    for (const name of ['password', 'sslpassword']) if (u.searchParams.has(name)) u.searchParams.set(name, '***');
    return u.toString();
  } catch {
    // Not a URL: it may still hold a password (user:pass@...), so nothing of it is shown.
    return '(not a URL)';
  }
}

const keysTogether = {
  check: (c: { accessKeyId?: string; secretAccessKey?: string }) => (c.accessKeyId === undefined) === (c.secretAccessKey === undefined),
  params: { message: 'CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY must be set together', path: ['accessKeyId'] },
};

/** A certificate without its key (or the reverse) is a mistake, not "plain HTTP". */
function pairTogether(cert: 'tlsCert' | 'adminTlsCert', key: 'tlsKey' | 'adminTlsKey', names: string) {
  return {
    check: (c: Partial<Record<'tlsCert' | 'tlsKey' | 'adminTlsCert' | 'adminTlsKey', string>>) => (c[cert] === undefined) === (c[key] === undefined),
    params: { message: `${names} must be set together (a certificate and its private key)`, path: [cert] },
  };
}
const tlsTogether = pairTogether('tlsCert', 'tlsKey', 'CAIRN_TLS_CERT and CAIRN_TLS_KEY (--tls-cert, --tls-key)');
const adminTlsTogether = pairTogether('adminTlsCert', 'adminTlsKey', 'CAIRN_ADMIN_TLS_CERT and CAIRN_ADMIN_TLS_KEY (--admin-tls-cert, --admin-tls-key)');

export const configSchema = configFields
  .refine(keysTogether.check, keysTogether.params)
  .refine(tlsTogether.check, tlsTogether.params)
  .refine(adminTlsTogether.check, adminTlsTogether.params);

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable for each setting; the CLI maps flags onto the same names. */
export const ENV_NAMES: Record<keyof ConfigInput, string> = {
  port: 'CAIRN_PORT',
  host: 'CAIRN_HOST',
  dataDir: 'CAIRN_DATA_DIR',
  region: 'CAIRN_REGION',
  domain: 'CAIRN_DOMAIN',
  accessKeyId: 'CAIRN_ACCESS_KEY_ID',
  secretAccessKey: 'CAIRN_SECRET_ACCESS_KEY',
  chunkSize: 'CAIRN_CHUNK_SIZE',
  writeBuffers: 'CAIRN_WRITE_BUFFERS',
  maxBuffersPerRequest: 'CAIRN_MAX_BUFFERS_PER_REQUEST',
  hashThreads: 'CAIRN_HASH_THREADS',
  inlineMax: 'CAIRN_INLINE_MAX',
  durability: 'CAIRN_DURABILITY',
  commitThread: 'CAIRN_COMMIT_THREAD',
  multipartExpiry: 'CAIRN_MULTIPART_EXPIRY',
  adminPort: 'CAIRN_ADMIN_PORT',
  adminHost: 'CAIRN_ADMIN_HOST',
  adminToken: 'CAIRN_ADMIN_TOKEN',
  gcInterval: 'CAIRN_GC_INTERVAL',
  gcGrace: 'CAIRN_GC_GRACE',
  scrubInterval: 'CAIRN_SCRUB_INTERVAL',
  lifecycleInterval: 'CAIRN_LIFECYCLE_INTERVAL',
  lifecycleDaySeconds: 'CAIRN_LIFECYCLE_DAY_SECONDS',
  idleTimeout: 'CAIRN_IDLE_TIMEOUT',
  headersTimeout: 'CAIRN_HEADERS_TIMEOUT',
  keepAliveTimeout: 'CAIRN_KEEP_ALIVE_TIMEOUT',
  minUploadRate: 'CAIRN_MIN_UPLOAD_RATE',
  encryptionKeyFile: 'CAIRN_ENCRYPTION_KEY_FILE',
  encryptionKey: 'CAIRN_ENCRYPTION_KEY',
  encryptAll: 'CAIRN_ENCRYPT_ALL',
  logLevel: 'CAIRN_LOG_LEVEL',
  tlsCert: 'CAIRN_TLS_CERT',
  tlsKey: 'CAIRN_TLS_KEY',
  adminTlsCert: 'CAIRN_ADMIN_TLS_CERT',
  adminTlsKey: 'CAIRN_ADMIN_TLS_KEY',
  metadata: 'CAIRN_METADATA_URL',
  metadataPool: 'CAIRN_METADATA_POOL',
  gatewayId: 'CAIRN_GATEWAY_ID',
  gatewayTimeout: 'CAIRN_GATEWAY_TIMEOUT',
};

export class ConfigError extends Error {}

/** Merges flags over environment, validates, and throws ConfigError listing every bad setting. */
export function loadConfig(flags: Partial<Record<keyof ConfigInput, unknown>> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  return parseSettings(configSchema, Object.keys(ENV_NAMES) as Array<keyof ConfigInput>, flags, env) as Config;
}

/**
 * Some settings only, read and checked exactly as loadConfig does (flags over CAIRN_* environment
 * over defaults, the same ConfigError): the CLI's commands, which must not fail on a setting of
 * the server they do not use. `flagNames` names the command's own flags in messages.
 */
export function loadSettings<K extends keyof ConfigInput>(
  keys: readonly K[],
  flags: Partial<Record<K, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
  flagNames: Partial<Record<K, string>> = {},
): Pick<Config, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as Partial<Record<keyof ConfigInput, true>>;
  let schema: z.ZodType = configFields.pick(mask);
  if (keys.includes('accessKeyId' as K) && keys.includes('secretAccessKey' as K)) {
    schema = (schema as z.ZodObject).refine(keysTogether.check as (c: unknown) => boolean, keysTogether.params);
  }
  return parseSettings(schema, keys, flags, env, flagNames) as Pick<Config, K>;
}

function parseSettings(
  schema: z.ZodType,
  keys: ReadonlyArray<keyof ConfigInput>,
  flags: Partial<Record<keyof ConfigInput, unknown>>,
  env: NodeJS.ProcessEnv,
  flagNames: Partial<Record<keyof ConfigInput, string>> = {},
): unknown {
  const merged: Record<string, unknown> = {};
  for (const key of keys) {
    const fromFlag = flags[key];
    const fromEnv = env[ENV_NAMES[key]];
    if (fromFlag !== undefined) merged[key] = fromFlag;
    else if (fromEnv !== undefined && fromEnv !== '') merged[key] = fromEnv;
  }
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof ConfigInput | undefined;
      const name = key ? `${ENV_NAMES[key]} (${flagNames[key] ?? `--${kebab(key)}`})` : 'config';
      const given = key ? merged[key] : undefined;
      return `  ${name}: ${issue.message}${given !== undefined && key !== 'secretAccessKey' ? ` (got "${key === 'metadata' ? redactUrl(String(given)) : String(given)}")` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
