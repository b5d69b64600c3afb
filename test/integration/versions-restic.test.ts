import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
  type DeleteMarkerEntry,
  type ObjectVersion,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasClient, runOk } from '../helpers/clients.js';

// restic 0.14 (minio-go: signed aws-chunked uploads, ?location, ListObjectsV2, deletes of lock,
// index, snapshot and pack files) backing up to a bucket with versioning Enabled. Its deletes
// become delete markers: forget --prune still leaves a repository that `check` passes, and
// removing the markers (what an operator does after a ransomware-style wipe) brings the
// forgotten snapshot back, restorable byte for byte.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Local tree -> { relative posix path: sha256 }. */
function treeHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const full = path.join(d.parentPath, d.name);
    out[path.relative(root, full).split(path.sep).join('/')] = sha256(fs.readFileSync(full));
  }
  return out;
}

interface Snapshot {
  id: string;
  short_id: string;
  time: string;
}

describe.skipIf(!hasClient('restic', ['version']))('restic on a versioned bucket', () => {
  const BUCKET = 'restic-versioned';
  let srv: TestServer;
  let s3: S3Client;
  let work: string;
  let tree: string;
  let env: NodeJS.ProcessEnv;
  let first: { id: string; files: Record<string, string> };
  let second: { id: string; files: Record<string, string> };

  const restic = (...args: string[]) => runOk('restic', args, { env, cwd: work, timeoutMs: 120_000 });
  const snapshots = async () => JSON.parse((await restic('snapshots', '--json')).stdout) as Snapshot[];
  const restore = async (id: string, name: string) => {
    const target = path.join(work, name);
    await restic('restore', id, '--target', target);
    return treeHashes(path.join(target, 'tree'));
  };
  const versions = async () => {
    const all: { versions: ObjectVersion[]; markers: DeleteMarkerEntry[] } = { versions: [], markers: [] };
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, KeyMarker, VersionIdMarker }));
      all.versions.push(...(page.Versions ?? []));
      all.markers.push(...(page.DeleteMarkers ?? []));
      if (!page.IsTruncated) return all;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  };
  const write = (rel: string, data: Buffer | string) => {
    const p = path.join(tree, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
  };

  beforeAll(async () => {
    srv = await startTestServer({ chunkSize: '1MiB' });
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-versions-restic-'));
    tree = path.join(work, 'tree');
    env = {
      ...srv.env,
      RESTIC_REPOSITORY: `s3:${srv.url}/${BUCKET}`,
      RESTIC_PASSWORD: 'cairn-restic-test-password',
      RESTIC_CACHE_DIR: path.join(work, 'cache'),
    };
  });

  afterAll(async () => {
    await srv?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('init, backup, change the tree, backup again: restore latest and restore the first give each tree back byte for byte', async () => {
    await restic('init');
    write('big/random.bin', randomBytes(3 * 1024 * 1024 + 17));
    write('big/gone-later.bin', randomBytes(1024 * 1024));
    write('docs/readme.txt', 'version one\n');
    write('docs/deep/er/note.md', '# note\n');
    write('empty', '');
    await restic('backup', 'tree');
    const [s1] = await snapshots();
    first = { id: s1!.id, files: treeHashes(tree) };

    write('docs/readme.txt', 'version two, longer\n');
    fs.rmSync(path.join(tree, 'big/gone-later.bin'));
    write('new/added.bin', randomBytes(200_000));
    await restic('backup', 'tree');
    const all = await snapshots();
    expect(all).toHaveLength(2);
    second = { id: all.find((s) => s.id !== first.id)!.id, files: treeHashes(tree) };
    expect(second.files).not.toEqual(first.files);

    expect(await restore('latest', 'restore-latest')).toEqual(second.files);
    expect(await restore(first.id, 'restore-first')).toEqual(first.files);
    // Every restic command removed its lock file: on a versioned bucket, a delete marker each.
    const { markers } = await versions();
    expect(markers.length).toBeGreaterThan(0);
    expect(markers.every((m) => m.Key!.startsWith('locks/'))).toBe(true);
  });

  it('forget --prune on the versioned bucket: the old snapshot and its packs get delete markers, check (and --read-data) passes, latest still restores', async () => {
    const before = await versions();
    await restic('forget', first.id, '--prune');
    const left = await snapshots();
    expect(left.map((s) => s.id)).toEqual([second.id]);
    await restic('check');
    await restic('check', '--read-data');
    expect(await restore('latest', 'restore-after-prune')).toEqual(second.files);

    const after = await versions();
    const newMarkers = after.markers.filter((m) => !before.markers.some((b) => b.VersionId === m.VersionId));
    const markedKeys = newMarkers.map((m) => m.Key!);
    expect(markedKeys).toContain(`snapshots/${first.id}`);
    // gone-later.bin was only in the first snapshot: its pack was removed.
    expect(markedKeys.some((k) => k.startsWith('data/'))).toBe(true);
    // Nothing was really deleted: every marked key still has the version it had before.
    for (const m of newMarkers.filter((x) => !x.Key!.startsWith('locks/'))) {
      const old = after.versions.filter((v) => v.Key === m.Key);
      expect(old.length, m.Key).toBeGreaterThan(0);
      expect(old.every((v) => !v.IsLatest), m.Key).toBe(true);
      expect(before.versions.some((v) => v.Key === m.Key && v.IsLatest), m.Key).toBe(true);
    }
  });

  it('removing the delete markers (not the locks) undoes the prune: both snapshots are back, check passes, the forgotten one restores', async () => {
    const { markers } = await versions();
    const undo = markers.filter((m) => !m.Key!.startsWith('locks/') && m.IsLatest);
    expect(undo.length).toBeGreaterThan(0);
    const res = await s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: undo.map((m) => ({ Key: m.Key!, VersionId: m.VersionId! })) } }),
    );
    expect(res.Errors ?? []).toEqual([]);
    expect((res.Deleted ?? []).every((d) => d.DeleteMarker === true && d.DeleteMarkerVersionId === d.VersionId)).toBe(true);

    expect((await snapshots()).map((s) => s.id).sort()).toEqual([first.id, second.id].sort());
    await restic('check', '--read-data');
    expect(await restore(first.id, 'restore-undeleted')).toEqual(first.files);
    expect(await restore(second.id, 'restore-second-again')).toEqual(second.files);
  });
});
