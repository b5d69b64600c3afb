import { and, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { chunks } from './schema.js';

// Chunk reference counting shared by objects and multipart parts. Callers run these inside
// their own transaction; a chunk whose count reaches zero loses its row here and its file
// afterwards (the caller removes it once the transaction has committed).

export interface ChunkPlacement {
  hash: string;
  size: number;
  crc32c: number;
  offset: number;
  /** An inline chunk's bytes: stored in the row when the row is new. */
  data?: Buffer | null;
}

/** One reference per placement (a chunk used twice in one list counts twice). */
export function addRefs(tx: Db, placements: ChunkPlacement[]): void {
  const now = Date.now();
  for (const c of placements) {
    tx.insert(chunks)
      .values({ hash: c.hash, size: c.size, crc32c: c.crc32c, refcount: 1, createdAt: now, data: c.data ?? null })
      .onConflictDoUpdate({ target: chunks.hash, set: { refcount: sql`${chunks.refcount} + 1` } })
      .run();
  }
}

/** Drops references (hash -> count); returns the hashes no longer referenced at all. */
export function dropRefs(tx: Db, counts: Array<{ hash: string; n: number }>): string[] {
  for (const { hash, n } of counts) {
    tx.update(chunks).set({ refcount: sql`${chunks.refcount} - ${n}` }).where(sql`${chunks.hash} = ${hash}`).run();
  }
  const hashes = counts.map((c) => c.hash);
  const freed: string[] = [];
  for (let i = 0; i < hashes.length; i += 500) {
    const gone = tx
      .delete(chunks)
      .where(and(inArray(chunks.hash, hashes.slice(i, i + 500)), lte(chunks.refcount, 0)))
      .returning({ hash: chunks.hash })
      .all();
    freed.push(...gone.map((g) => g.hash));
  }
  return freed;
}
