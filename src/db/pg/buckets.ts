import { asc, eq } from 'drizzle-orm';
import type { BucketStore } from '../../store/metadata-store.js';
import type { BucketColumnsChange, BucketRow } from '../../store/types.js';
import type { CorsRule } from '../../s3/cors.js';
import { encodeTags } from '../../s3/tagging.js';
import { withTx, type PgDb } from './client.js';
import { bucketCors, buckets, multipartUploads, objects } from './schema.js';
import { isForeignKeyViolation } from './sqlstate.js';
import { hasNul } from './commit.js';
import { bucketByName } from './read-path.js';

// Buckets and their CORS rules on PostgreSQL (the SQLite reference: bucket-repository.ts). No
// cache of bucket rows: a bucket another gateway created, changed or deleted is seen at once.

export function pgBucketStore(db: PgDb): BucketStore {
  const setColumns = async (id: number, change: BucketColumnsChange | { tags: string | null }): Promise<void> => {
    if (Object.keys(change).length === 0) return;
    await db.update(buckets).set(change).where(eq(buckets.id, id));
  };
  const corsOf = (row: { rules: string } | undefined): CorsRule[] | undefined => (row ? (JSON.parse(row.rules) as CorsRule[]) : undefined);

  return {
    // Every S3 request asks: one server-side prepared statement, not a query built per call.
    get: (name) => bucketByName(db.$client, name),
    list: async () => (await db.select().from(buckets).orderBy(asc(buckets.name))) as BucketRow[],
    listOwned: async (ownerId) => (await db.select().from(buckets).where(eq(buckets.ownerId, ownerId)).orderBy(asc(buckets.name))) as BucketRow[],

    create: async (b) => {
      const rows = await db
        .insert(buckets)
        .values({ ...b, objectLock: b.objectLock ?? false, versioning: b.objectLock ? 'Enabled' : null, createdAt: Date.now() })
        .onConflictDoNothing({ target: buckets.name })
        .returning({ id: buckets.id });
      return rows.length === 1;
    },

    setVersioning: (id, status) => setColumns(id, { versioning: status } as BucketColumnsChange),
    setLockDefault: async (id, rule) => {
      await db
        .update(buckets)
        .set({ lockDefaultMode: rule?.mode ?? null, lockDefaultDays: rule?.days ?? null, lockDefaultYears: rule?.years ?? null })
        .where(eq(buckets.id, id));
    },

    delete: (id) =>
      withTx(db, async (tx) => {
        // The row lock first: an object or upload insert of another gateway holds a key-share lock
        // on the bucket row (its foreign key) until it commits, so this waits for it and then sees
        // its row; one that starts later fails its foreign key check once the bucket is gone.
        const [bucket] = await tx.select({ id: buckets.id }).from(buckets).where(eq(buckets.id, id)).for('update');
        if (!bucket) return 'deleted';
        const [anyObject] = await tx.select({ id: objects.id }).from(objects).where(eq(objects.bucketId, id)).limit(1);
        const [anyUpload] = await tx.select({ id: multipartUploads.id }).from(multipartUploads).where(eq(multipartUploads.bucketId, id)).limit(1);
        if (anyObject || anyUpload) return 'not-empty';
        await tx.delete(bucketCors).where(eq(bucketCors.bucketId, id));
        await tx.delete(buckets).where(eq(buckets.id, id));
        return 'deleted';
      }),

    setAccess: (id, change) => setColumns(id, change),
    setDefaultEncryption: (id, algorithm) => setColumns(id, { defaultEncryption: algorithm }),
    setTags: (id, tags) => setColumns(id, { tags: encodeTags(tags ?? undefined) }),
    setLifecycle: (id, json) => setColumns(id, { lifecycle: json }),

    getCors: async (id) => corsOf((await db.select({ rules: bucketCors.rules }).from(bucketCors).where(eq(bucketCors.bucketId, id)))[0]),
    getCorsByName: async (name) =>
      hasNul(name)
        ? undefined
        : corsOf(
        (
          await db
            .select({ rules: bucketCors.rules })
            .from(bucketCors)
            .innerJoin(buckets, eq(buckets.id, bucketCors.bucketId))
            .where(eq(buckets.name, name))
        )[0],
      ),
    putCors: async (bucketId, rules) => {
      // One statement: the insert's foreign key check finds the bucket gone, or the row is written.
      const values = { bucketId, rules: JSON.stringify(rules), updatedAt: Date.now() };
      try {
        await db.insert(bucketCors).values(values).onConflictDoUpdate({ target: bucketCors.bucketId, set: { rules: values.rules, updatedAt: values.updatedAt } });
        return true;
      } catch (err) {
        if (isForeignKeyViolation(err)) return false;
        throw err;
      }
    },
    deleteCors: async (id) => {
      await db.delete(bucketCors).where(eq(bucketCors.bucketId, id));
    },
  };
}
