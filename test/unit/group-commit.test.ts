import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.js';

let dir: string;
let db: Database.Database;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gc-'));
  db = new Database(path.join(dir, 'x.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const insert = (k: string, v: number) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, v).changes;
const rows = () => db.prepare('SELECT k, v FROM t ORDER BY k').all();

describe('GroupCommit', () => {
  it('commits everything asked for in one turn as one transaction, each answer its own', async () => {
    const g = new GroupCommit(db);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => g.run(insert(`k${String(i).padStart(2, '0')}`, i))));
    expect(results).toEqual(Array(50).fill(1));
    expect(g.stats).toMatchObject({ batches: 1, commits: 50, largest: 50 });
    expect(rows()).toHaveLength(50);
  });

  it('a failing commit rolls back alone (savepoint): the others in its batch land', async () => {
    const g = new GroupCommit(db);
    const settled = await Promise.allSettled([
      g.run(insert('a', 1)),
      g.run(() => {
        db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('b', 2);
        throw new Error('refused half-way');
      }),
      g.run(insert('a', 3)), // primary key clash: fails by itself
      g.run(insert('c', 4)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(rows()).toEqual([
      { k: 'a', v: 1 },
      { k: 'c', v: 4 },
    ]);
  });

  it('runs each commit once when none fails, and again (in its savepoint) only when one did', async () => {
    const g = new GroupCommit(db);
    const calls = new Map<string, number>();
    const counted = (k: string, v: number) => () => {
      calls.set(k, (calls.get(k) ?? 0) + 1);
      return insert(k, v)();
    };
    await Promise.all([g.run(counted('a', 1)), g.run(counted('b', 2))]);
    expect([...calls.values()]).toEqual([1, 1]);
    calls.clear();
    const settled = await Promise.allSettled([g.run(counted('c', 3)), g.run(counted('a', 4)), g.run(counted('d', 5))]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // The first pass stopped at the clash and rolled back; the second ran all three.
    expect(Object.fromEntries(calls)).toEqual({ c: 2, a: 2, d: 1 });
    expect(rows()).toEqual([
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
      { k: 'c', v: 3 },
      { k: 'd', v: 5 },
    ]);
  });

  it('nothing resolves before its batch committed; later work goes to a new batch', async () => {
    const g = new GroupCommit(db);
    let resolved = false;
    const p = g.run(insert('x', 1)).then(() => (resolved = true));
    // Same turn: still queued, not yet in the table for another connection.
    const other = new Database(path.join(dir, 'x.db'), { readonly: true });
    expect(other.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    expect(resolved).toBe(false);
    await p;
    expect(other.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    other.close();
    await g.run(insert('y', 2));
    expect(g.stats.batches).toBe(2);
  });

  it('a batch that cannot commit rejects every member and leaves nothing', async () => {
    const g = new GroupCommit(db);
    // A deferred foreign-key violation only fails at COMMIT: the whole batch's fate.
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE child (k TEXT REFERENCES t(k) DEFERRABLE INITIALLY DEFERRED)');
    const settled = await Promise.allSettled([g.run(insert('p', 1)), g.run(() => db.prepare("INSERT INTO child VALUES ('nobody')").run().changes)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(rows()).toEqual([]);
  });

  it('a full batch is flushed at once', async () => {
    const g = new GroupCommit(db, 4);
    const ps = Array.from({ length: 10 }, (_, i) => g.run(insert(`m${i}`, i)));
    expect(g.stats.batches).toBe(2); // two full batches of 4 already committed, synchronously
    await Promise.all(ps);
    expect(g.stats).toMatchObject({ batches: 3, commits: 10, largest: 4 });
  });
});
