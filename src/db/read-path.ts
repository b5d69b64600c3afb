// What GET and HEAD read on SQLite: a key's current row and its chunk list, through the read
// cache (read-cache.ts), each list belonging to the version its row describes.
//
// The commit thread commits on its own connection at any moment, and an overwrite of a null
// version keeps its row (and id) while it replaces the chunk list: two statements in a row could
// see the old row and then the new list. So the row and its list are read in one snapshot, and a
// list read later is read with a check that the row still holds that version.
import type Database from 'better-sqlite3';
import { MAX_CACHED_CHUNKS, ReadCache } from './read-cache.js';
import { VersionChangedError, chunksInRange, versionIdentity, type ChunkReadRow, type ObjectRow } from '../store/types.js';

export interface ReadStatements {
  current(bucketId: number, key: string): ObjectRow | undefined;
  /** The first `limit` chunk rows of an object, in order. */
  chunksHead(objectId: number, limit: number): ChunkReadRow[];
  chunksForRange(objectId: number, start: number, end: number): ChunkReadRow[];
}

export class ReadPath {
  readonly cache: ReadCache<ObjectRow, ChunkReadRow>;
  private readonly sameVersion: Database.Statement;
  private readonly inSnapshot: Database.Transaction<(read: () => unknown) => unknown>;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly reads: ReadStatements,
  ) {
    this.cache = new ReadCache(sqlite);
    this.sameVersion = sqlite.prepare('select 1 from objects where id = ? and last_modified = ? and size = ? and etag = ?');
    this.inSnapshot = sqlite.transaction((read: () => unknown) => read());
  }

  /** The current row for GET and HEAD; it may be shared with other requests: never modify it. */
  object(bucketId: number, key: string): ObjectRow | undefined {
    return this.cache.object(bucketId, key, () =>
      this.snapshot(() => {
        const row = this.reads.current(bucketId, key);
        if (row && row.size > 0) this.cache.keepChunks(versionIdentity(row), this.reads.chunksHead(row.id, MAX_CACHED_CHUNKS + 1));
        return row;
      }),
    );
  }

  /** The chunks of bytes [start, end] of the version `obj` is; VersionChangedError when its row now holds another. */
  chunks(obj: ObjectRow, start: number, end: number): ChunkReadRow[] {
    const all = this.cache.chunks(versionIdentity(obj), () => this.ofVersion(obj, () => this.reads.chunksHead(obj.id, MAX_CACHED_CHUNKS + 1)));
    if (all === null) return this.ofVersion(obj, () => this.reads.chunksForRange(obj.id, start, end));
    return chunksInRange(all, obj.size, start, end);
  }

  private ofVersion<T>(obj: ObjectRow, read: () => T): T {
    return this.snapshot(() => {
      if (this.sameVersion.get(obj.id, obj.lastModified, obj.size, obj.etag) === undefined) throw new VersionChangedError(obj.key);
      return read();
    });
  }

  /** One SQLite read transaction (one snapshot); inside another one, just the call. */
  private snapshot<T>(read: () => T): T {
    return this.sqlite.inTransaction ? read() : (this.inSnapshot.deferred(read) as T);
  }
}
