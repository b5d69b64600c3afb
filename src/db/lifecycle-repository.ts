import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { lifecycleRuns, objects, objectTags } from './schema.js';
import { prefixUpperBound } from './listing.js';
import { lifecycleVersionColumns, type LifecycleCounts, type LifecycleRunRow, type LifecycleStore, type LifecycleVersion } from '../store/lifecycle.js';
import type { TagSet } from '../store/types.js';

// The lifecycle worker's reads (pages of versions by key, their tags) and the lifecycle_runs
// record on SQLite. The worker's changes go through the object and multipart stores.

const versionColumns = lifecycleVersionColumns(objects);

export class LifecycleRepository {
  constructor(
    private readonly db: Db,
    private readonly read: <T>(fn: () => T) => T,
  ) {}

  versionPage(bucketId: number, prefix: string, afterKey: string | undefined, limitKeys: number): LifecycleVersion[] {
    const conds = [eq(objects.bucketId, bucketId)];
    if (prefix) {
      conds.push(gte(objects.key, prefix));
      const upper = prefixUpperBound(prefix);
      if (upper !== undefined) conds.push(lt(objects.key, upper));
    }
    if (afterKey !== undefined) conds.push(gt(objects.key, afterKey));
    return this.read(() => {
      // The page's keys first (a seek on objects_versions), then their versions: one snapshot.
      const keys = this.db.selectDistinct({ key: objects.key }).from(objects).where(and(...conds)).orderBy(asc(objects.key)).limit(limitKeys).all();
      if (keys.length === 0) return [];
      const last = keys[keys.length - 1]!.key;
      const first = keys[0]!.key;
      return this.db
        .select(versionColumns)
        .from(objects)
        .where(and(eq(objects.bucketId, bucketId), gte(objects.key, first), sql`${objects.key} <= ${last}`))
        .orderBy(asc(objects.key), desc(objects.id))
        .all() as LifecycleVersion[];
    });
  }

  tags(objectIds: number[]): Map<number, TagSet> {
    const out = new Map<number, TagSet>();
    for (let i = 0; i < objectIds.length; i += 500) {
      const rows = this.db.select().from(objectTags).where(inArray(objectTags.objectId, objectIds.slice(i, i + 500))).all();
      for (const r of rows) {
        const set = out.get(r.objectId) ?? [];
        set.push([r.key, r.value]);
        out.set(r.objectId, set);
      }
    }
    return out;
  }

  startRun(run: { startedAt: number; trigger: 'worker' | 'cli'; evaluatedAt: number }): number {
    return this.db.insert(lifecycleRuns).values(run).returning({ id: lifecycleRuns.id }).get().id;
  }

  finishRun(id: number, counts: LifecycleCounts, finishedAt: number, error: string | null): void {
    this.db.update(lifecycleRuns).set({ ...counts, finishedAt, error }).where(eq(lifecycleRuns.id, id)).run();
  }

  lastRun(): LifecycleRunRow | undefined {
    return this.db.select().from(lifecycleRuns).orderBy(desc(lifecycleRuns.id)).limit(1).get() as LifecycleRunRow | undefined;
  }
}

/** The SQLite engine's LifecycleStore. */
export function lifecycleStore(r: LifecycleRepository): LifecycleStore {
  return {
    versionPage: async (bucketId, prefix, afterKey, limitKeys) => r.versionPage(bucketId, prefix, afterKey, limitKeys),
    tags: async (ids) => r.tags(ids),
    startRun: async (run) => r.startRun(run),
    finishRun: async (id, counts, finishedAt, error) => r.finishRun(id, counts, finishedAt, error),
    lastRun: async () => r.lastRun(),
  };
}
