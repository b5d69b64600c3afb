import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type OpenedDb } from '../../src/db/client.js';
import { Repository } from '../../src/db/repository.js';

// getBucket serves rows from a per-connection cache: these are the ways a row can change under it.
let dir: string;
let a: OpenedDb;
let b: OpenedDb;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-repo-buckets-'));
  a = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
  b = openDb(path.join(dir, 'cairn.db'), { durability: 'relaxed' });
});
afterEach(() => {
  a.close();
  b.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('bucket lookups', () => {
  it("see this connection's own creates, ACL changes and deletes at once", () => {
    const repo = new Repository(a.db);
    expect(repo.getBucket('photos')).toBeUndefined();
    expect(repo.createBucket({ name: 'photos', region: 'us-east-1', ownerId: 'a'.repeat(64) })).toBe(true);
    const row = repo.getBucket('photos')!;
    expect(row.acl).toBeNull();
    repo.setBucketAccess(row.id, { acl: '[]' });
    expect(repo.getBucket('photos')!.acl).toBe('[]');
    // Another Repository on the same connection shares what it knows, and what it forgets.
    const other = new Repository(a.db);
    expect(other.deleteBucket(row.id)).toBe('deleted');
    expect(repo.getBucket('photos')).toBeUndefined();
  });

  it("see another connection's (another process's) changes within a millisecond", async () => {
    const server = new Repository(a.db);
    const cli = new Repository(b.db);
    // The other connection's commits are noticed at most 1 ms late (data_version is asked once a ms).
    const later = () => new Promise((r) => setTimeout(r, 3));
    cli.createBucket({ name: 'logs', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    await later();
    const row = server.getBucket('logs')!;
    expect(row.policy).toBeNull();
    cli.setBucketAccess(row.id, { policy: '{}' });
    await later();
    expect(server.getBucket('logs')!.policy).toBe('{}');
    cli.deleteBucket(row.id);
    await later();
    expect(server.getBucket('logs')).toBeUndefined();
    cli.createBucket({ name: 'logs', region: 'us-east-1', ownerId: 'a'.repeat(64) });
    await later();
    expect(server.getBucket('logs')!.id).not.toBe(row.id);
  });
});
