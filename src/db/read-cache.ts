// The rows a GET or HEAD looks up (the object by key, then its chunk list), kept in memory
// between requests. Under a small-GET load those two lookups were a large share of the server's
// time per request (docs/performance.md); a read-mostly bucket asks for the same rows again and again.
//
// It can never answer with a row the database no longer holds, because it is emptied whenever
// the database may have changed:
// - a change through this connection: SELECT total_changes() (any insert, update or delete,
//   by any code, counts; a rolled-back one only costs a refill). Asked on every lookup: it reads
//   no table.
// - a PUT or DELETE committed by this process's commit thread (its own connection): clear(),
//   called by the Repository when that commit returns, before the request is answered.
// - a commit by any other connection (the CLI, a second process): OtherCommits below, which
//   asks PRAGMA data_version at most once a millisecond (asked per lookup, it was a noticeable
//   share of a small GET).
//   Chunks this process is reading are pinned against its own deletes only, so another
//   process's deletes were never covered by pins.
// Bounded: past MAX_ENTRIES rows or MAX_BYTES of inline data it starts again from empty.
import type Database from 'better-sqlite3';

const MAX_ENTRIES = 20_000;
/** How often another connection's commits are looked for. */
export const VERSION_CHECK_MS = 1;
const MAX_BYTES = 32 * 1024 * 1024;
/** Longer chunk lists are not kept: their lookup is small next to reading that many chunks. */
export const MAX_CACHED_CHUNKS = 64;

/**
 * Says whether another connection (another process) committed since it last said so, from
 * PRAGMA data_version. The pragma costs as much as a lookup, so it is asked at most once every
 * VERSION_CHECK_MS: such a commit is seen within that time, as if the request had come that much
 * earlier. The bucket cache (Repository.getBucket) and the read cache each keep one.
 */
export class OtherCommits {
  private readonly dataVersion: Database.Statement<[], number>;
  private version = -1;
  private checkedAt = -Infinity;

  constructor(sqlite: Database.Database) {
    this.dataVersion = sqlite.prepare('PRAGMA data_version').pluck() as Database.Statement<[], number>;
  }

  /** True on the first call, and whenever data_version moved since the last true. */
  seen(): boolean {
    const now = performance.now();
    if (now - this.checkedAt < VERSION_CHECK_MS) return false;
    this.checkedAt = now;
    const version = this.dataVersion.get()!;
    if (version === this.version) return false;
    this.version = version;
    return true;
  }
}

export class ReadCache<O, C extends { data: Buffer | null }> {
  private readonly totalChanges: Database.Statement<[], number>;
  private readonly otherCommits: OtherCommits;
  private changes = -1;
  private readonly objects = new Map<string, O>();
  /** null: the list is longer than MAX_CACHED_CHUNKS (the caller reads the range it needs). */
  private readonly chunkLists = new Map<string, C[] | null>();
  private entries = 0;
  private bytes = 0;
  /** Lookups answered from memory and from the database (for the tests). */
  readonly stats = { hits: 0, misses: 0, resets: 0 };

  constructor(sqlite: Database.Database) {
    this.totalChanges = sqlite.prepare('SELECT total_changes()').pluck() as Database.Statement<[], number>;
    this.otherCommits = new OtherCommits(sqlite);
  }

  object(bucketId: number, key: string, load: () => O | undefined): O | undefined {
    this.validate();
    const id = `${bucketId}/${key}`;
    let row = this.objects.get(id);
    if (row !== undefined) {
      this.stats.hits++;
      return row;
    }
    this.stats.misses++;
    row = load();
    if (row !== undefined) this.admit(0, () => this.objects.set(id, row!));
    return row;
  }

  /**
   * The whole chunk list of an object. `load` reads at most MAX_CACHED_CHUNKS + 1 rows; a list
   * that long is remembered as null (too long to keep) and the caller reads its range instead.
   */
  chunks(version: string, load: () => C[]): C[] | null {
    this.validate();
    const kept = this.chunkLists.get(version);
    if (kept !== undefined) {
      this.stats.hits++;
      return kept;
    }
    this.stats.misses++;
    return this.keepChunks(version, load());
  }

  /**
   * Keeps a chunk list read with its row (one snapshot). Keyed by the version (versionIdentity),
   * not the row id: an overwrite in place keeps the id, and a read holding the old row must never
   * be given the new version's list.
   */
  keepChunks(version: string, rows: C[]): C[] | null {
    const list = rows.length > MAX_CACHED_CHUNKS ? null : rows;
    this.admit(list?.reduce((n, r) => n + (r.data?.length ?? 0), 0) ?? 0, () => this.chunkLists.set(version, list));
    return list;
  }

  private admit(bytes: number, add: () => void): void {
    if (this.entries + 1 > MAX_ENTRIES || this.bytes + bytes > MAX_BYTES) this.clear();
    if (bytes > MAX_BYTES) return;
    add();
    this.entries++;
    this.bytes += bytes;
  }

  private validate(): void {
    const changes = this.totalChanges.get()!;
    if (changes !== this.changes) {
      this.clear();
      this.changes = changes;
    }
    if (this.otherCommits.seen()) this.clear();
  }

  /** Forgets every row (also called when a commit on a connection this cache does not watch returned). */
  clear(): void {
    if (this.entries > 0) this.stats.resets++;
    this.objects.clear();
    this.chunkLists.clear();
    this.entries = 0;
    this.bytes = 0;
  }
}
