import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { lifecycleVersionColumns, type LifecycleRunRow, type LifecycleStore, type LifecycleVersion } from '../../store/lifecycle.js';
import type { TagSet } from '../../store/types.js';
import { prefixUpperBound } from '../listing.js';
import type { PgDb } from './client.js';
import { lifecycleRuns, objects, objectTags } from './schema.js';

// The lifecycle worker's reads and the lifecycle_runs record on PostgreSQL (the SQLite
// reference: lifecycle-repository.ts).

const versionColumns = lifecycleVersionColumns(objects);

export function pgLifecycleStore(db: PgDb): LifecycleStore {
  return {
    versionPage: async (bucketId, prefix, afterKey, limitKeys) => {
      // No stored key holds NUL (PostgreSQL text cannot): none starts with such a prefix, and
      // the keys after "a\0..." are the keys after "a".
      if (prefix.includes('\0')) return [];
      const conds: SQL[] = [eq(objects.bucketId, bucketId)];
      if (prefix) {
        conds.push(gte(objects.key, prefix));
        const upper = prefixUpperBound(prefix);
        if (upper !== undefined) conds.push(lt(objects.key, upper));
      }
      if (afterKey !== undefined) conds.push(gt(objects.key, afterKey.includes('\0') ? afterKey.slice(0, afterKey.indexOf('\0')) : afterKey));
      // The page's keys and their versions in one statement: one snapshot.
      const keys = db.selectDistinct({ key: objects.key }).from(objects).where(and(...conds)).orderBy(asc(objects.key)).limit(limitKeys);
      return (await db
        .select(versionColumns)
        .from(objects)
        .where(and(eq(objects.bucketId, bucketId), inArray(objects.key, keys)))
        .orderBy(asc(objects.key), desc(objects.id))) as LifecycleVersion[];
    },

    tags: async (objectIds) => {
      const out = new Map<number, TagSet>();
      for (let i = 0; i < objectIds.length; i += 1000) {
        const rows = await db
          .select()
          .from(objectTags)
          .where(inArray(objectTags.objectId, objectIds.slice(i, i + 1000)))
          .orderBy(asc(objectTags.objectId), asc(objectTags.key));
        for (const r of rows) {
          const set = out.get(r.objectId) ?? [];
          set.push([r.key, r.value]);
          out.set(r.objectId, set);
        }
      }
      return out;
    },

    startRun: async (run) => (await db.insert(lifecycleRuns).values(run).returning({ id: lifecycleRuns.id }))[0]!.id,

    finishRun: async (id, counts, finishedAt, error) => {
      await db.update(lifecycleRuns).set({ ...counts, finishedAt, error }).where(eq(lifecycleRuns.id, id));
    },

    lastRun: async () => (await db.select().from(lifecycleRuns).orderBy(desc(lifecycleRuns.id)).limit(1))[0] as LifecycleRunRow | undefined,
  };
}
