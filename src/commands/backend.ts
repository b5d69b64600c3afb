import type { AccessKeyInfo, Grant } from '../store/types.js';
import type { AccountInfo } from '../services/accounts.js';
import type { BucketSummary, ChunkRecord, ObjectRecord, ObjectSummary, StoreStats } from '../db/records/index.js';
import type { GcResult } from '../storage/gc.js';
import type { ScrubResult } from '../storage/scrub.js';
import type { LifecycleResult } from '../storage/lifecycle.js';
import type { LifecycleRunRow } from '../store/lifecycle.js';
import type { GatewayView } from '../gateway/registry.js';
import type { TargetFlags } from './common.js';
import { resolveTarget } from './target.js';
import { LocalBackend } from './local.js';
import { RemoteBackend } from './remote.js';

export { resolveTarget, type Target } from './target.js';
export { LocalBackend, localPresign, rootCredentials } from './local.js';
export { RemoteBackend } from './remote.js';

// Where a command gets its data: the SQLite file of a data dir (LocalBackend, local.ts) or a
// running server's admin API (RemoteBackend, remote.ts). Both return exactly the shapes of
// docs/admin-contract.md, and both apply the services' rules (locally, or in the server).

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

export interface LifecycleRunOptions {
  dryRun: boolean;
  /** Evaluate the rules at this time (ms) instead of now. */
  at?: number;
  bucket?: string;
}

export interface NewKey {
  account?: string;
  description?: string;
  grants: Grant[];
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface Backend {
  readonly kind: 'local' | 'remote';
  /** The data dir or the admin URL, for messages. */
  readonly where: string;
  /** Every bucket, or one account's (`owner`: a name or canonical id). */
  buckets(filter?: { owner?: string }): Promise<BucketSummary[]>;
  findObjects(params: QueryParams): Promise<ObjectPage>;
  /** The current version, or the version `versionId`. Throws CliError (exit 1) when there is none. */
  objectRecord(bucket: string, key: string, versionId?: string): Promise<ObjectRecord>;
  chunkRecord(sha256: string): Promise<ChunkRecord>;
  stats(): Promise<StoreStats & { pool?: PoolStats; lifecycle?: LifecycleRunRow | null; engine?: string; gateways?: GatewayView[] }>;
  /** For the account `owner` (a name or canonical id), default the root account. */
  createBucket(name: string, isPublic: boolean, owner?: string): Promise<BucketSummary>;
  /** S3's DeleteBucket rule: uploads in progress are aborted; objects keep the bucket. */
  deleteBucket(name: string): Promise<void>;
  setBucketPublic(name: string, isPublic: boolean): Promise<BucketSummary>;
  /** Every key, or one account's. */
  listKeys(account?: string): Promise<AccessKeyInfo[]>;
  /** For `account` (default the root account); with accessKeyId and secretAccessKey, an imported pair. A taken id is exit 2. */
  createKey(opts: NewKey): Promise<AccessKeyInfo & { secret: string }>;
  revokeKey(id: string): Promise<void>;
  listAccounts(): Promise<AccountInfo[]>;
  /** A taken name or email is exit 2. */
  createAccount(opts: { name: string; email?: string }): Promise<AccountInfo>;
  /** With its keys; refused (exit 1) for the root account and one that owns buckets. */
  deleteAccount(account: string): Promise<void>;
  presign(bucket: string, key: string, opts: { expiresSeconds: number; endpoint?: string; region?: string }): Promise<{ url: string }>;
  gc(opts: GcOptions, onProgress?: OnProgress): Promise<GcResult>;
  verify(opts: { quarantine: boolean }, onProgress?: OnProgress): Promise<ScrubResult>;
  /** One lifecycle pass (src/storage/lifecycle.ts), in this process or in the server. */
  lifecycle(opts: LifecycleRunOptions, onProgress?: OnProgress): Promise<LifecycleResult>;
  close(): void;
}

/** `write`: the command changes the data dir (buckets, keys, gc, verify's quarantine). */
export function openBackend(flags: TargetFlags, opts: { write: boolean }): Backend {
  const target = resolveTarget(flags);
  return target.kind === 'remote' ? new RemoteBackend(target.url, target.token) : new LocalBackend(target.dataDir, { ...opts, metadata: target.metadata });
}
