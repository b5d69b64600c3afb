import { asc, eq, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from './client.js';
import { bucketCors, buckets, multipartUploads, objects } from './schema.js';
import type { CorsRule } from '../s3/cors.js';
import { OtherCommits } from './read-cache.js';
import type { BucketColumnsChange, BucketRow, LockMode, NewBucket, VersioningStatus } from '../store/types.js';

// Buckets and their CORS rules on one SQLite connection, and the transaction helpers the
// object queries (repository.ts) share.

interface BucketCache {
  otherCommits: OtherCommits;
  rows: Map<string, BucketRow>;
}
const bucketCaches = new WeakMap<Database.Database, BucketCache>();

export class BucketRepository {
  constructor(readonly db: Db) {}

  private bucketByName?: { get(params: { name: string }): BucketRow | undefined };

  /**
   * Runs `fn` in a transaction of its own, or as part of the caller's when one is open: then that
   * transaction is the unit, and a throw from here reaches the caller, which rolls back (group
   * commit runs a batch again with one savepoint per commit when one of them threw). No savepoint
   * of our own: it would keep a copy of every page it changes for nothing. better-sqlite3's
   * wrapper, not drizzle's db.transaction, which builds a transaction object per call (query
   * builders for every table). Queries inside use this.db: same connection, same transaction.
   * A write begins IMMEDIATE (see openDb in client.ts); `read` begins DEFERRED.
   */
  protected atomic<T>(fn: () => T, behavior: 'deferred' | 'immediate' = 'immediate'): T {
    const client = this.db.$client;
    if (client.inTransaction) return fn();
    return client.transaction(fn)[behavior]();
  }

  /** Runs `fn` (lookups) in one read transaction: what it reads is one snapshot. */
  read<T>(fn: () => T): T {
    return this.atomic(fn, 'deferred');
  }

  /** Runs `fn` (reads, then writes) in one write transaction; a throw rolls it back. */
  write<T>(fn: () => T): T {
    return this.atomic(fn, 'immediate');
  }

  // ---- buckets ----

  getBucket(name: string): BucketRow | undefined {
    const cache = this.bucketCache();
    let row = cache.rows.get(name);
    if (!row) {
      row = (this.bucketByName ??= this.db.select().from(buckets).where(eq(buckets.name, sql.placeholder('name'))).prepare()).get({ name });
      if (row) {
        if (cache.rows.size >= 10_000) cache.rows.clear();
        cache.rows.set(name, row);
      }
    }
    return row;
  }

  /**
   * Bucket rows by name, for the lookups every request makes (up to three: access, handler,
   * commit). Per connection, shared by every Repository on it. Emptied when this connection
   * writes a bucket (the methods below) and when PRAGMA data_version says another connection
   * committed something (the CLI beside the server), which is seen within 1 ms (OtherCommits).
   */
  private bucketCache(): BucketCache {
    const client = this.db.$client;
    let cache = bucketCaches.get(client);
    if (!cache) {
      cache = { otherCommits: new OtherCommits(client), rows: new Map() };
      bucketCaches.set(client, cache);
    }
    if (cache.otherCommits.seen()) cache.rows.clear();
    return cache;
  }

  private forgetBuckets(): void {
    bucketCaches.get(this.db.$client)?.rows.clear();
  }

  /** Every bucket, or an account's, by name. */
  listBuckets(ownerId?: string): BucketRow[] {
    const q = this.db.select().from(buckets);
    return (ownerId === undefined ? q : q.where(eq(buckets.ownerId, ownerId))).orderBy(asc(buckets.name)).all();
  }

  /** Returns false when the bucket already exists (no change made). Object lock turns versioning on. */
  createBucket(b: NewBucket): boolean {
    this.forgetBuckets();
    const res = this.db
      .insert(buckets)
      .values({ ...b, objectLock: b.objectLock ?? false, versioning: b.objectLock ? 'Enabled' : null, createdAt: Date.now() })
      .onConflictDoNothing()
      .run();
    return res.changes === 1;
  }

  /** Deletes an empty bucket; returns 'not-empty' without change when objects remain. */
  deleteBucket(id: number): 'deleted' | 'not-empty' {
    this.forgetBuckets();
    return this.db.transaction((tx) => {
      const any = tx.select({ id: objects.id }).from(objects).where(eq(objects.bucketId, id)).limit(1).get();
      // An upload started since the caller looked also keeps the bucket.
      const upload = tx.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.bucketId, id)).limit(1).get();
      if (any || upload) return 'not-empty';
      // Also an ON DELETE CASCADE; said here too so no connection's foreign_keys setting matters.
      tx.delete(bucketCors).where(eq(bucketCors.bucketId, id)).run();
      tx.delete(buckets).where(eq(buckets.id, id)).run();
      return 'deleted';
    }, { behavior: 'immediate' });
  }

  /** The bucket's ACL, ownership and policy: each given field is set (null clears the ACL or policy). */
  setBucketAccess(id: number, change: BucketColumnsChange): void {
    this.forgetBuckets();
    this.db.update(buckets).set(change).where(eq(buckets.id, id)).run();
  }

  /** PutBucketTagging / DeleteBucketTagging: the tag set as JSON (null: none). */
  setBucketTags(id: number, tags: string | null): void {
    this.forgetBuckets();
    this.db.update(buckets).set({ tags }).where(eq(buckets.id, id)).run();
  }

  setBucketVersioning(id: number, status: VersioningStatus): void {
    this.forgetBuckets();
    this.db.update(buckets).set({ versioning: status }).where(eq(buckets.id, id)).run();
  }

  /** The object lock configuration's default retention (null: none). */
  setBucketLockDefault(id: number, rule: { mode: LockMode; days?: number; years?: number } | null): void {
    this.forgetBuckets();
    this.db
      .update(buckets)
      .set({ lockDefaultMode: rule?.mode ?? null, lockDefaultDays: rule?.days ?? null, lockDefaultYears: rule?.years ?? null })
      .where(eq(buckets.id, id))
      .run();
  }

  // ---- bucket CORS ----

  /** The bucket's CORS rules, or undefined when it has no configuration. */
  getBucketCors(bucketId: number): CorsRule[] | undefined {
    const row = this.db.select({ rules: bucketCors.rules }).from(bucketCors).where(eq(bucketCors.bucketId, bucketId)).get();
    return row ? (JSON.parse(row.rules) as CorsRule[]) : undefined;
  }

  /** The CORS rules of the bucket named `name` (one indexed join: every request with an Origin asks). */
  getBucketCorsByName(name: string): CorsRule[] | undefined {
    const row = this.db
      .select({ rules: bucketCors.rules })
      .from(bucketCors)
      .innerJoin(buckets, eq(buckets.id, bucketCors.bucketId))
      .where(eq(buckets.name, name))
      .get();
    return row ? (JSON.parse(row.rules) as CorsRule[]) : undefined;
  }

  /** Sets (replaces) the bucket's CORS rules; false when the bucket is gone. */
  putBucketCors(bucketId: number, rules: CorsRule[]): boolean {
    return this.db.transaction((tx) => {
      if (!tx.select({ id: buckets.id }).from(buckets).where(eq(buckets.id, bucketId)).get()) return false;
      const values = { bucketId, rules: JSON.stringify(rules), updatedAt: Date.now() };
      tx.insert(bucketCors).values(values).onConflictDoUpdate({ target: bucketCors.bucketId, set: { rules: values.rules, updatedAt: values.updatedAt } }).run();
      return true;
    }, { behavior: 'immediate' });
  }

  deleteBucketCors(bucketId: number): void {
    this.db.delete(bucketCors).where(eq(bucketCors.bucketId, bucketId)).run();
  }
}
