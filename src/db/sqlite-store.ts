import type { MetadataStore, BucketStore, ObjectStore, MultipartStore, MaintenanceStore } from '../store/metadata-store.js';
import type { NewObject, ObjectRow, WriteOptions } from '../store/types.js';
import { S3Error } from '../s3/errors.js';
import { encodeTags } from '../s3/tagging.js';
import { openDb, type OpenedDb } from './client.js';
import { Repository } from './repository.js';
import { GroupCommit } from './group-commit.js';
import { CommitThread } from './commit-thread.js';
import { MultipartRepository } from './multipart-repository.js';
import { AccountsRepository } from './accounts-repository.js';
import { KeysRepository } from './keys-repository.js';
import { MaintenanceRepository } from './maintenance-repository.js';
import { sqliteRecords } from './records/sqlite-records.js';
import { AggregateWorkers } from './records/aggregates.js';
import { LifecycleRepository, lifecycleStore } from './lifecycle-repository.js';
import { sqliteGateways, sqliteSettings } from './settings-repository.js';

// The SQLite engine of the metadata store. better-sqlite3 is synchronous: each method runs its
// statements at once and returns a settled promise, so no I/O callback runs between a read and
// the caller's next step (src/store/metadata-store.ts relies on that for chunk removal). The
// performance machinery stays in here: the commit thread or group commit for PUT and DELETE
// commits (commit-thread.ts, group-commit.ts) and the read caches (read-cache.ts).

export interface SqliteStoreOptions {
  /** The database file (created and migrated unless read-only). */
  file: string;
  durability: 'fsync' | 'relaxed';
  /** Run PUT and DELETE commits on a thread with its own connection (default: group commit here). */
  commitThread?: boolean;
  /** Open without migrating or writing (commands that only read, beside a running server). */
  readonly?: boolean;
  /** The commit thread stopped while the store was open: every later commit fails. */
  onThreadStopped?: (err: unknown) => void;
}

/** The SQLite engine, and its internals for tests and tools that inspect the file's rows. */
export interface SqliteStore extends MetadataStore {
  readonly opened: OpenedDb;
  readonly repo: Repository;
  /** The drizzle handle. */
  readonly db: OpenedDb['db'];
}

export const SqliteStore = {
  /** Opens the file and, when asked, starts the commit thread (its connection open before this resolves). */
  async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    const opened = openDb(opts.file, { durability: opts.durability, readonly: opts.readonly });
    if (opts.readonly) return SqliteStore.over(opened);
    const groupCommit = new GroupCommit(opened.sqlite);
    let thread: CommitThread | undefined;
    if (opts.commitThread) {
      thread = new CommitThread({ file: opts.file, durability: opts.durability }, { onStopped: (err) => opts.onThreadStopped?.(err) });
      try {
        await thread.ready;
      } catch (err) {
        opened.close();
        throw err;
      }
    }
    // The records' totals run on worker threads with their own read-only connection (aggregates.ts).
    return assemble(opened, new Repository(opened.db, groupCommit, thread), AggregateWorkers.forDb(opened.db), async () => {
      groupCommit.flush();
      await thread?.close();
    });
  },

  /**
   * A store over a connection opened elsewhere, committing on it directly (the CLI, tools). Its
   * totals run on that connection too unless `aggregateWorkers` (a long-lived admin API).
   */
  over(opened: OpenedDb, opts: { aggregateWorkers?: boolean } = {}): SqliteStore {
    const aggregates = opts.aggregateWorkers ? AggregateWorkers.forDb(opened.db) : new AggregateWorkers(undefined);
    return assemble(opened, new Repository(opened.db), aggregates, async () => undefined);
  },
};

function assemble(opened: OpenedDb, repo: Repository, aggregates: AggregateWorkers, finishCommits: () => Promise<void>): SqliteStore {
  const mp = new MultipartRepository(opened.db, repo);
  return {
    engine: 'sqlite',
    opened,
    repo,
    db: opened.db,
    buckets: bucketStore(repo),
    objects: objectStore(repo, mp),
    multipart: multipartStore(mp),
    keys: settled(new KeysRepository(opened.db), ['create', 'list', 'get', 'secretFor', 'revoke']),
    accounts: settled(new AccountsRepository(opened.db), ['list', 'get', 'byName', 'byEmail', 'root', 'create', 'delete']),
    maintenance: maintenanceStore(new MaintenanceRepository(opened.db), repo),
    records: sqliteRecords(opened.db, aggregates),
    lifecycle: lifecycleStore(new LifecycleRepository(opened.db, (fn) => repo.read(fn))),
    settings: sqliteSettings(opened.db),
    gateways: sqliteGateways(opened.db),
    close: async () => {
      await aggregates.close();
      await finishCommits();
      opened.close();
    },
  };
}

function bucketStore(repo: Repository): BucketStore {
  return {
    get: async (name) => repo.getBucket(name),
    list: async () => repo.listBuckets(),
    listOwned: async (ownerId) => repo.listBuckets(ownerId),
    create: async (b) => repo.createBucket(b),
    setVersioning: async (id, status) => repo.setBucketVersioning(id, status),
    setLockDefault: async (id, rule) => repo.setBucketLockDefault(id, rule),
    delete: async (id) => repo.deleteBucket(id),
    setAccess: async (id, change) => repo.setBucketAccess(id, change),
    setDefaultEncryption: async (id, algorithm) => repo.setBucketAccess(id, { defaultEncryption: algorithm }),
    getCors: async (id) => repo.getBucketCors(id),
    getCorsByName: async (name) => repo.getBucketCorsByName(name),
    putCors: async (id, rules) => repo.putBucketCors(id, rules),
    deleteCors: async (id) => repo.deleteBucketCors(id),
    setTags: async (id, tags) => repo.setBucketTags(id, encodeTags(tags ?? undefined)),
    setLifecycle: async (id, json) => repo.setBucketAccess(id, { lifecycle: json }),
  };
}

function objectStore(repo: Repository, mp: MultipartRepository): ObjectStore {
  return {
    get: async (bucketId, key) => repo.getObject(bucketId, key),
    getForRead: async (bucketId, key) => repo.getObjectForRead(bucketId, key),
    getVersion: async (bucketId, key, versionId) => repo.getVersion(bucketId, key, versionId),
    latest: async (bucketId, key) => repo.latestVersion(bucketId, key),
    listVersions: async (bucketId, p) => repo.listVersions(bucketId, p),
    chunksForRead: async (obj, start, end) => repo.chunksForRead(obj, start, end),
    chunksForRange: async (objectId, start, end) => repo.chunksForRange(objectId, start, end),
    chunkList: async (objectId) => repo.chunkList(objectId),
    parts: async (objectId) => mp.objectParts(objectId),
    part: async (objectId, partNumber) => mp.objectPart(objectId, partNumber),
    listPage: async (bucketId, p) => repo.listPage(bucketId, p),
    listKeys: async (bucketId, prefix, after, limit) => repo.listKeys(bucketId, prefix, after, limit),
    // A single PUT (no part layout) goes through the commit thread or group commit.
    commit: async (bucketId, key, row, placements, parts, opts) =>
      parts && parts.length > 0 ? repo.commitObject(bucketId, key, row, placements, parts, opts) : repo.commitObjectGrouped(bucketId, key, row, placements, opts),
    copy: async (src, dst, build, opts) => repo.write(() => copyObject(repo, src, dst, build, opts)),
    delete: (bucketId, key, opts) => repo.deleteObjectGrouped(bucketId, key, opts),
    setRetention: async (bucketId, key, versionId, next, bypass) => repo.setRetention(bucketId, key, versionId, next, bypass),
    setLegalHold: async (bucketId, key, versionId, on) => repo.setLegalHold(bucketId, key, versionId, on),
    setAcl: async (bucketId, key, versionId, acl) => repo.setObjectAcl(bucketId, key, versionId, acl),
    getTags: async (objectId) => repo.getTags(objectId),
    setTags: async (bucketId, key, versionId, tags) => repo.setObjectTags(bucketId, key, versionId, tags),
    isChunkReferenced: async (hash) => repo.isChunkReferenced(hash),
  };
}

/** CopyObject inside one write transaction: read the source, build the row, commit the destination. */
function copyObject(
  repo: Repository,
  src: { bucketId: number; key: string; versionId?: string },
  dst: { bucketId: number; key: string },
  build: (source: ObjectRow) => NewObject,
  opts?: WriteOptions,
) {
  const source = src.versionId === undefined ? repo.getObject(src.bucketId, src.key) : repo.getVersion(src.bucketId, src.key, src.versionId);
  if (!source) return undefined;
  if (source.deleteMarker) throw new S3Error('InvalidRequest', {}, 'The source of a copy request may not specifically refer to a delete marker by version id.');
  const built = build(source);
  // No tags from `build` (x-amz-tagging-directive COPY): the source version's; REPLACE gives its own, [] for none.
  const row = built.tags === undefined && source.tagCount > 0 ? { ...built, tags: repo.getTags(source.id) } : built;
  const list = repo.chunkList(source.id);
  const crcs = repo.chunkCrcs([...new Set(list.map((c) => c.chunkHash))]);
  const placements = list.map((c) => ({ hash: c.chunkHash, size: c.size, offset: c.offset, crc32c: crcs.get(c.chunkHash)! }));
  // The copy keeps the source's "-N" ETag and parts count, so it keeps the part layout too
  // (GET ?partNumber=N). Read before the commit: a copy onto itself retires the source row.
  const parts = source.partCount ? repo.objectPartList(source.id) : [];
  return { ...repo.commitObject(dst.bucketId, dst.key, row, placements, parts, opts), source };
}

function multipartStore(mp: MultipartRepository): MultipartStore {
  return {
    create: async (row) => mp.createUpload(row),
    get: async (id) => mp.getUpload(id),
    commitPart: async (uploadId, part, placements) => mp.commitPart(uploadId, part, placements),
    listParts: async (uploadId, afterPart, limit) => mp.listParts(uploadId, afterPart, limit),
    allParts: async (uploadId) => mp.allParts(uploadId),
    list: async (bucketId, prefix, after, limit) => mp.listUploads(bucketId, prefix, after, limit),
    count: async (bucketId) => mp.countUploads(bucketId),
    getCompleted: async (uploadId) => mp.getCompleted(uploadId),
    complete: async (uploadId, decide, opts) => mp.complete(uploadId, decide, opts),
    abort: async (uploadId) => mp.abort(uploadId),
    expired: async (before, limit) => mp.expiredUploads(before, limit),
    pruneCompleted: async (before) => mp.pruneCompleted(before),
  };
}

function maintenanceStore(m: MaintenanceRepository, repo: Repository): MaintenanceStore {
  return {
    ...settled(m, ['countChunks', 'chunkPage', 'objectsUsing', 'uploadsUsing', 'repairRefcounts', 'countUploadsInitiatedBefore']),
    knownChunks: async (hashes) => new Set(repo.chunkCrcs(hashes).keys()),
  };
}

type Settled<T, K extends keyof T> = { [P in K]: T[P] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/** Synchronous repository methods as the store's asynchronous ones of the same names (a throw rejects). */
function settled<T extends object, K extends keyof T>(target: T, names: K[]): Settled<T, K> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const fn = target[name] as (...args: unknown[]) => unknown;
    out[name as string] = async (...args: unknown[]) => fn.apply(target, args);
  }
  return out as Settled<T, K>;
}
