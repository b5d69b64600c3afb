import { and, eq, lte, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { chunks } from './schema.js';
import type { ChunkPlacement } from '../store/types.js';

// Chunk reference counting shared by objects and multipart parts. Callers run these inside
// their own transaction; a chunk whose count reaches zero loses its row here and its file
// afterwards (the caller removes it once the transaction has committed).

export type { ChunkPlacement } from '../store/types.js';

/**
 * The statements, prepared once per connection (every PUT runs them: building and preparing
 * them per call cost more than running them). Prepared on the root handle, they run inside
 * whatever transaction is open on that connection.
 */
export function refStatements(db: Db) {
  const p = sql.placeholder;
  return {
    add: db
      .insert(chunks)
      .values({ hash: p('hash'), size: p('size'), crc32c: p('crc32c'), refcount: 1, createdAt: p('createdAt'), data: p('data') })
      .onConflictDoUpdate({ target: chunks.hash, set: { refcount: sql`${chunks.refcount} + 1` } })
      .prepare(),
    drop: db
      .update(chunks)
      .set({ refcount: sql`${chunks.refcount} - ${p('n')}` })
      .where(eq(chunks.hash, p('hash')))
      .prepare(),
    deleteIfUnused: db
      .delete(chunks)
      .where(and(eq(chunks.hash, p('hash')), lte(chunks.refcount, 0)))
      .returning({ hash: chunks.hash, inline: sql<number>`${chunks.data} IS NOT NULL` })
      .prepare(),
  };
}
export type RefStatements = ReturnType<typeof refStatements>;

/** One reference per placement (a chunk used twice in one list counts twice). */
export function addRefs(refs: RefStatements, placements: ChunkPlacement[]): void {
  const createdAt = Date.now();
  for (const c of placements) refs.add.run({ hash: c.hash, size: c.storedSize ?? c.size, crc32c: c.crc32c, createdAt, data: c.data ?? null });
}

/**
 * Drops references (hash -> count); returns the hashes no longer referenced whose bytes are a
 * file to remove (an inline chunk's bytes went with its row).
 */
export function dropRefs(refs: RefStatements, counts: Array<{ hash: string; n: number }>): string[] {
  const freed: string[] = [];
  for (const { hash, n } of counts) {
    refs.drop.run({ hash, n });
    const gone = refs.deleteIfUnused.get({ hash });
    if (gone && !gone.inline) freed.push(gone.hash);
  }
  return freed;
}
