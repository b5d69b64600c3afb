import type Database from 'better-sqlite3';
import type { Repository } from './repository.js';
import { target } from './version-attributes.js';
import type { ObjectRow, TagSet } from '../store/types.js';

// A version's tags on SQLite: rows of object_tags (removed with their version by ON DELETE
// CASCADE) and the count on the version's row, which GET and HEAD answer from
// (x-amz-tagging-count) without reading the tags. Tags are read back in key order: the primary
// key (object_id, key) gives that order for free, and S3 promises no order of its own.

export function tagStatements(sqlite: Database.Database) {
  return {
    insert: sqlite.prepare<[number, string, string]>('INSERT INTO object_tags (object_id, key, value) VALUES (?, ?, ?)'),
    clear: sqlite.prepare<[number]>('DELETE FROM object_tags WHERE object_id = ?'),
    read: sqlite.prepare<[number], { key: string; value: string }>('SELECT key, value FROM object_tags WHERE object_id = ? ORDER BY key'),
    setCount: sqlite.prepare<[number, number]>('UPDATE objects SET tag_count = ? WHERE id = ?'),
  };
}
export type TagStatements = ReturnType<typeof tagStatements>;

/** Inside the caller's transaction. */
export function insertTags(st: TagStatements, objectId: number, tags: TagSet): void {
  for (const [key, value] of tags) st.insert.run(objectId, key, value);
}

export function readTags(st: TagStatements, objectId: number): TagSet {
  return st.read.all(objectId).map((r) => [r.key, r.value]);
}

/**
 * Put/DeleteObjectTagging: the version's tags replaced in one write transaction. Undefined when
 * there is no such version; a delete marker is refused as PutObjectAcl refuses it (405).
 * Tagging changes no data, so a locked version may be tagged, as on S3.
 */
export function setVersionTags(repo: Repository, st: TagStatements, bucketId: number, key: string, versionId: string | undefined, tags: TagSet | null): ObjectRow | undefined {
  return repo.write(() => {
    const row = target(repo, bucketId, key, versionId);
    if (!row) return undefined;
    const next = tags ?? [];
    st.clear.run(row.id);
    insertTags(st, row.id, next);
    if (row.tagCount !== next.length) st.setCount.run(next.length, row.id);
    return { ...row, tagCount: next.length };
  });
}
