// The crash campaign's versioned and object-lock buckets (bench/crash.ts runs them beside its plain
// bucket). While the server is up, workers add versions (PUT, single-part multipart, CopyObject
// from a source version), delete markers, permanent deletes of old versions (DELETE ?versionId),
// and on the lock bucket versions born with COMPLIANCE retention or a legal hold, or locked later
// (PutObjectRetention, PutObjectLegalHold), and try to delete locked versions (403 expected).
// After each kill -9 and restart:
//   - every acknowledged version (its PUT/Complete/Copy answered with x-amz-version-id) is listed
//     by ListObjectVersions with its ETag and size, and GET ?versionId returns its bytes (SHA-256);
//   - every acknowledged delete marker is listed; every acknowledged permanent delete stays gone;
//   - a version the listing has and the model does not is allowed only as the outcome of a write
//     in flight at the kill, and must be whole; with nothing in flight, the listing's IsLatest and
//     a plain GET agree with the last acknowledged write;
//   - every version locked (COMPLIANCE retention or legal hold) by an acknowledged request still
//     shows its lock on HEAD and DELETE ?versionId answers 403 AccessDenied.
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export type BucketKind = 'plain' | 'versioned' | 'locked';
export const BUCKET_KINDS: readonly BucketKind[] = ['plain', 'versioned', 'locked'];
const BUCKETS = { versioned: 'crash-versioned', locked: 'crash-locked' } as const;
type VKind = keyof typeof BUCKETS;

export interface VersionsReport {
  /** Writes whose answer named the version or marker they made, or removed / locked one. */
  acknowledged: { versions: number; markers: number; removals: number; locks: number; total: number };
  /** Versions read back by GET ?versionId after a restart and hashed. */
  versionsVerified: number;
  /** Acknowledged delete markers found in the listing after a restart. */
  markersChecked: number;
  /** DELETE ?versionId of a locked version refused with 403 (while up, and after restarts). */
  lockedDeletesRefused: number;
  /** Of those, after a restart: the lock survived the kill. */
  lockedDeletesRefusedAfterRestart: number;
  /** Writes in flight at a kill whose version or marker was found after the restart. */
  inFlightApplied: number;
  /** A locked version that could be deleted, or that lost its lock. */
  lockViolations: number;
}

export function emptyVersionsReport(): VersionsReport {
  return {
    acknowledged: { versions: 0, markers: 0, removals: 0, locks: 0, total: 0 },
    versionsVerified: 0, markersChecked: 0, lockedDeletesRefused: 0, lockedDeletesRefusedAfterRestart: 0, inFlightApplied: 0, lockViolations: 0,
  };
}

type Failure = 'lost' | 'corrupt' | 'resurrected' | 'unexpectedErrors' | 'lockViolations';
/** `lock`: the lock a write in flight asked for (an applied one is learnt from the server). */
interface Body { sha: string; size: number; etag: string; bytes?: Buffer; lock?: Lock }
type Lock = 'compliance' | 'hold';
interface Version { body: Body; lock?: Lock; verified: boolean }
interface VKey {
  kind: VKind;
  key: string;
  busy: boolean;
  /** Acknowledged (or seen after a restart) versions: must be listed and read back. */
  versions: Map<string, Version>;
  markers: Set<string>;
  /** Acknowledged permanent deletes: must never come back. */
  removed: Set<string>;
  /** The version or marker of the last acknowledged write; undefined once something was in flight. */
  latest: string | undefined;
  /** What writes in flight at a kill may have left: versions with one of these bodies, a marker, removals, locks. */
  maybeBodies: Body[];
  maybeMarker: boolean;
  maybeRemoved: Set<string>;
  maybeLocked: Map<string, Lock>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const refused = (err: unknown) => {
  const s = status(err);
  return s !== undefined && s >= 400 && s < 500;
};
const DAY = 86_400_000;
/** Older versions re-read per restart besides the new ones (bounds long campaigns). */
const SAMPLE = 40;

export interface VersionsDeps {
  kinds: readonly BucketKind[];
  rng: () => number;
  rand: (lo: number, hi: number) => number;
  fail: (kind: Failure, msg: string) => void;
  report: VersionsReport;
}

export class VersionedWorkload {
  /** Set before the kill: errors after it are the kill's, not findings. */
  killed = false;
  private readonly keys: VKey[] = [];

  constructor(private readonly d: VersionsDeps) {
    for (const kind of ['versioned', 'locked'] as const) {
      if (!d.kinds.includes(kind)) continue;
      for (let i = 0; i < 6; i++) {
        this.keys.push({
          kind, key: `${kind[0]}/${String(i).padStart(2, '0')}`, busy: false, versions: new Map(), markers: new Set(), removed: new Set(),
          latest: undefined, maybeBodies: [], maybeMarker: false, maybeRemoved: new Set(), maybeLocked: new Map(),
        });
      }
    }
  }

  get active(): boolean {
    return this.keys.length > 0;
  }

  async setup(s3: S3Client): Promise<void> {
    if (this.d.kinds.includes('versioned')) {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKETS.versioned }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKETS.versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    if (this.d.kinds.includes('locked')) await s3.send(new CreateBucketCommand({ Bucket: BUCKETS.locked, ObjectLockEnabledForBucket: true }));
    // Before the first kill, each key gets a version, then a delete marker (versioned) or a
    // COMPLIANCE-retained and a legal-held version (locked): the first restart already has
    // acknowledged versions, markers and locks to hold the server to, whatever the kill timing.
    for (const k of this.keys) {
      if (k.kind === 'versioned') {
        await this.put(s3, k);
        await this.marker(s3, k);
      } else {
        await this.put(s3, k, 'compliance');
        await this.put(s3, k, 'hold');
      }
    }
  }

  /** One random operation on a free key (a short pause when all are busy). `track` names it while in flight. */
  async op(s3: S3Client, track: (name: string) => () => void): Promise<void> {
    const free = this.keys.filter((k) => !k.busy);
    if (free.length === 0) return new Promise((r) => setTimeout(r, 2));
    const k = free[Math.floor(this.d.rng() * free.length)]!;
    const r = this.d.rng();
    const [name, fn] = k.kind === 'versioned'
      ? r < 0.45 ? ['vput', () => this.put(s3, k)]
        : r < 0.55 ? ['vmultipart', () => this.multipart(s3, k)]
        : r < 0.62 ? ['vcopy', () => this.copy(s3, k)]
        : r < 0.8 ? ['vmarker', () => this.marker(s3, k)]
        : ['vremove', () => this.remove(s3, k)]
      : r < 0.4 ? ['lput', () => this.put(s3, k, this.d.rng() < 0.45 ? 'compliance' : this.d.rng() < 0.6 ? 'hold' : undefined)]
        : r < 0.62 ? ['llock', () => this.lock(s3, k)]
        : r < 0.77 ? ['ldelete-locked', () => this.deleteLocked(s3, k)]
        : r < 0.9 ? ['lremove', () => this.remove(s3, k)]
        : ['lmarker', () => this.marker(s3, k)];
    k.busy = true;
    const done = track(`${name} ${k.key}`);
    try {
      await (fn as () => Promise<void>)();
    } finally {
      done();
      k.busy = false;
    }
  }

  private bucket(k: VKey): string {
    return BUCKETS[k.kind];
  }

  private body(): Body & { bytes: Buffer } {
    // Mostly inline-sized, some over a 64 KiB chunk (chunk files, GC, verify).
    const size = this.d.rng() < 0.7 ? this.d.rand(0, 8 * 1024) : this.d.rand(64 * 1024, 300 * 1024);
    const bytes = randomBytes(size);
    return { sha: sha256(bytes), size, etag: `"${md5(bytes)}"`, bytes };
  }

  private unexpected(err: unknown, what: string): void {
    if (this.killed) return;
    this.d.fail('unexpectedErrors', `${what}: ${(err as Error).name}: ${(err as Error).message}`);
  }

  private ackVersion(k: VKey, id: string | undefined, body: Body, what: string, lock?: Lock): void {
    if (!id || id === 'null') {
      this.d.fail('unexpectedErrors', `${what} ${k.key}: answered version id ${id}`);
      return;
    }
    const { bytes: _bytes, ...kept } = body as Body & { bytes?: Buffer };
    k.versions.set(id, { body: kept, lock, verified: false });
    k.latest = id;
    this.count('versions');
  }

  private count(kind: keyof Omit<VersionsReport['acknowledged'], 'total'>): void {
    this.d.report.acknowledged[kind]++;
    this.d.report.acknowledged.total++;
  }

  /** The write may have happened: a version with this body may exist, and the latest is unknown. */
  private maybeVersion(k: VKey, body: Body, lock?: Lock): void {
    const { bytes: _bytes, ...kept } = body as Body & { bytes?: Buffer };
    k.maybeBodies.push({ ...kept, lock });
    k.latest = undefined;
  }

  private async put(s3: S3Client, k: VKey, lock?: Lock): Promise<void> {
    const b = this.body();
    const lockParams = lock === 'compliance'
      ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + DAY) }
      : lock === 'hold' ? { ObjectLockLegalHoldStatus: 'ON' as const } : {};
    try {
      // Lock headers need an integrity checksum: the SDK sends CRC32 when asked.
      const res = await s3.send(new PutObjectCommand({ Bucket: this.bucket(k), Key: k.key, Body: b.bytes, ChecksumAlgorithm: 'CRC32', ...lockParams }));
      if (res.ETag !== b.etag) this.d.fail('corrupt', `PUT ${k.key} answered ETag ${res.ETag}, expected ${b.etag}`);
      this.ackVersion(k, res.VersionId, b, 'PUT', lock);
    } catch (err) {
      this.unexpected(err, `PUT ${this.bucket(k)}/${k.key}`);
      if (!refused(err)) this.maybeVersion(k, b, lock);
    }
  }

  private async multipart(s3: S3Client, k: VKey): Promise<void> {
    const b = this.body();
    let completing = false;
    const Bucket = this.bucket(k);
    try {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: k.key }));
      const part = await s3.send(new UploadPartCommand({ Bucket, Key: k.key, UploadId, PartNumber: 1, Body: b.bytes }));
      completing = true;
      const res = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: k.key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      this.ackVersion(k, res.VersionId, { ...b, etag: res.ETag! }, 'Complete');
    } catch (err) {
      this.unexpected(err, `multipart ${Bucket}/${k.key}`);
      // A multipart object's ETag is not the MD5: matched by size and SHA-256 after the restart.
      if (completing && !refused(err)) this.maybeVersion(k, { ...b, etag: '' });
    }
  }

  /** CopyObject from an old version of another key (or of this one) of the versioned bucket. */
  private async copy(s3: S3Client, k: VKey): Promise<void> {
    const sources = this.keys.filter((s) => s.kind === k.kind && (s === k || !s.busy));
    const candidates = sources.flatMap((s) => [...s.versions].filter(([id]) => !s.maybeRemoved.has(id)).map(([id, v]) => ({ s, id, v })));
    if (candidates.length === 0) return this.put(s3, k);
    const src = candidates[Math.floor(this.d.rng() * candidates.length)]!;
    // The source key is not locked: a concurrent vremove of exactly this version would 404 (a refusal).
    try {
      const res = await s3.send(new CopyObjectCommand({ Bucket: this.bucket(k), Key: k.key, CopySource: `${this.bucket(k)}/${src.s.key}?versionId=${src.id}` }));
      if (res.CopySourceVersionId !== src.id) this.d.fail('corrupt', `CopyObject from ${src.s.key}@${src.id} answered source version ${res.CopySourceVersionId}`);
      if (res.CopyObjectResult?.ETag !== src.v.body.etag && !src.v.body.etag.includes('-')) {
        this.d.fail('corrupt', `CopyObject from ${src.s.key}@${src.id} answered ETag ${res.CopyObjectResult?.ETag}, expected ${src.v.body.etag}`);
      }
      this.ackVersion(k, res.VersionId, { ...src.v.body, etag: res.CopyObjectResult!.ETag! }, 'CopyObject');
    } catch (err) {
      if (status(err) === 404 && !this.killed) return; // the source version was removed meanwhile
      this.unexpected(err, `CopyObject ${src.s.key}@${src.id} -> ${k.key}`);
      if (!refused(err)) this.maybeVersion(k, { ...src.v.body, etag: '' });
    }
  }

  private async marker(s3: S3Client, k: VKey): Promise<void> {
    try {
      const res = await s3.send(new DeleteObjectCommand({ Bucket: this.bucket(k), Key: k.key }));
      if (!res.DeleteMarker || !res.VersionId) {
        this.d.fail('unexpectedErrors', `DELETE ${this.bucket(k)}/${k.key}: answered DeleteMarker ${res.DeleteMarker}, version ${res.VersionId}`);
        return;
      }
      k.markers.add(res.VersionId);
      k.latest = res.VersionId;
      this.count('markers');
    } catch (err) {
      this.unexpected(err, `DELETE ${this.bucket(k)}/${k.key}`);
      if (!refused(err)) {
        k.maybeMarker = true;
        k.latest = undefined;
      }
    }
  }

  /** DELETE ?versionId of an old (not latest), unlocked version or marker. */
  private async remove(s3: S3Client, k: VKey): Promise<void> {
    // With the latest unknown (a write in flight earlier), nothing is known to be old: write instead.
    const ids = k.latest === undefined ? [] : [...[...k.versions].filter(([id, v]) => !v.lock && !k.maybeLocked.has(id)).map(([id]) => id), ...k.markers].filter((id) => id !== k.latest);
    if (ids.length === 0) return this.put(s3, k);
    const id = ids[Math.floor(this.d.rng() * ids.length)]!;
    try {
      const res = await s3.send(new DeleteObjectCommand({ Bucket: this.bucket(k), Key: k.key, VersionId: id }));
      if (res.VersionId !== id) this.d.fail('unexpectedErrors', `DELETE ${k.key}?versionId=${id} answered version ${res.VersionId}`);
      k.versions.delete(id);
      k.markers.delete(id);
      k.removed.add(id);
      this.count('removals');
    } catch (err) {
      this.unexpected(err, `DELETE ${this.bucket(k)}/${k.key}?versionId=${id}`);
      if (!refused(err)) k.maybeRemoved.add(id);
    }
  }

  /** PutObjectRetention COMPLIANCE or PutObjectLegalHold ON on an unlocked version. */
  private async lock(s3: S3Client, k: VKey): Promise<void> {
    const ids = [...k.versions].filter(([id, v]) => !v.lock && !k.maybeLocked.has(id)).map(([id]) => id);
    if (ids.length === 0) return this.put(s3, k, 'compliance');
    const id = ids[Math.floor(this.d.rng() * ids.length)]!;
    const how: Lock = this.d.rng() < 0.5 ? 'compliance' : 'hold';
    const Bucket = this.bucket(k);
    try {
      if (how === 'compliance') {
        await s3.send(new PutObjectRetentionCommand({ Bucket, Key: k.key, VersionId: id, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + DAY) } }));
      } else {
        await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: k.key, VersionId: id, LegalHold: { Status: 'ON' } }));
      }
      k.versions.get(id)!.lock = how;
      this.count('locks');
    } catch (err) {
      this.unexpected(err, `lock (${how}) ${Bucket}/${k.key}?versionId=${id}`);
      if (!refused(err)) k.maybeLocked.set(id, how);
    }
  }

  /** DELETE ?versionId of a locked version must be refused with 403 AccessDenied. */
  private async deleteLocked(s3: S3Client, k: VKey): Promise<void> {
    const ids = [...k.versions].filter(([, v]) => v.lock).map(([id]) => id);
    if (ids.length === 0) return this.put(s3, k, 'hold');
    await this.expectLocked(s3, k, ids[Math.floor(this.d.rng() * ids.length)]!, false);
  }

  /** Tries DELETE ?versionId of a locked version; true when it was refused as it must be. */
  private async expectLocked(s3: S3Client, k: VKey, id: string, afterRestart: boolean): Promise<boolean> {
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: this.bucket(k), Key: k.key, VersionId: id }));
      this.d.fail('lockViolations', `DELETE ${this.bucket(k)}/${k.key}?versionId=${id} of a version under ${k.versions.get(id)?.lock} succeeded${afterRestart ? ' after a restart' : ''}`);
      k.versions.delete(id);
      k.removed.add(id);
      return false;
    } catch (err) {
      if (status(err) === 403 && (err as Error).name === 'AccessDenied') {
        this.d.report.lockedDeletesRefused++;
        if (afterRestart) this.d.report.lockedDeletesRefusedAfterRestart++;
        return true;
      }
      this.unexpected(err, `DELETE (locked) ${this.bucket(k)}/${k.key}?versionId=${id}`);
      return false;
    }
  }

  /** After a restart: holds the server to every acknowledged version, marker, removal and lock. */
  async check(s3: S3Client): Promise<void> {
    for (const kind of ['versioned', 'locked'] as const) {
      const keys = this.keys.filter((k) => k.kind === kind);
      if (keys.length === 0) continue;
      const listed = await this.listAll(s3, BUCKETS[kind]);
      for (const k of keys) await this.checkKey(s3, k, listed.get(k.key) ?? []);
    }
  }

  private async listAll(s3: S3Client, Bucket: string): Promise<Map<string, Listed[]>> {
    const out = new Map<string, Listed[]>();
    const add = (l: Listed) => out.set(l.key, [...(out.get(l.key) ?? []), l]);
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    // Small pages: the markers must resume mid-key after a restart as well.
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket, KeyMarker, VersionIdMarker, MaxKeys: 25 }));
      for (const v of page.Versions ?? []) add({ key: v.Key!, id: v.VersionId!, latest: !!v.IsLatest, marker: false, etag: v.ETag!, size: v.Size! });
      for (const m of page.DeleteMarkers ?? []) add({ key: m.Key!, id: m.VersionId!, latest: !!m.IsLatest, marker: true, etag: '', size: 0 });
      if (!page.IsTruncated) return out;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  }

  private async checkKey(s3: S3Client, k: VKey, listed: Listed[]): Promise<void> {
    const Bucket = this.bucket(k);
    const byId = new Map(listed.map((l) => [l.id, l]));
    const clean = k.latest !== undefined && k.maybeBodies.length === 0 && !k.maybeMarker && k.maybeRemoved.size === 0;
    for (const [id, v] of k.versions) {
      const l = byId.get(id);
      if (!l || l.marker) {
        if (k.maybeRemoved.has(id)) k.versions.delete(id);
        else {
          this.d.fail('lost', `${Bucket}/${k.key}: acknowledged version ${id} (${v.body.size} B) is not listed`);
          k.versions.delete(id);
        }
      } else if (l.size !== v.body.size || (v.body.etag !== '' && l.etag !== v.body.etag)) {
        this.d.fail('corrupt', `${Bucket}/${k.key}@${id}: listed ${l.etag} ${l.size} B, acknowledged ${v.body.etag} ${v.body.size} B`);
      }
    }
    for (const id of k.markers) {
      const l = byId.get(id);
      if (l?.marker) this.d.report.markersChecked++;
      else if (k.maybeRemoved.has(id)) k.markers.delete(id);
      else {
        this.d.fail('lost', `${Bucket}/${k.key}: acknowledged delete marker ${id} is not listed`);
        k.markers.delete(id);
      }
    }
    for (const id of k.removed) if (byId.has(id)) this.d.fail('resurrected', `${Bucket}/${k.key}: version ${id} deleted (acknowledged) is listed again`);
    // What the model does not know: only the outcome of a write in flight at the kill.
    let maybeMarkerUsed = false;
    for (const l of listed) {
      if (k.versions.has(l.id) || k.markers.has(l.id) || k.removed.has(l.id)) continue;
      if (l.marker) {
        if (k.maybeMarker && !maybeMarkerUsed) {
          maybeMarkerUsed = true;
          k.markers.add(l.id);
          this.d.report.inFlightApplied++;
        } else this.d.fail('corrupt', `${Bucket}/${k.key}: unexpected delete marker ${l.id}`);
        continue;
      }
      const i = k.maybeBodies.findIndex((b) => b.size === l.size && (b.etag === '' || b.etag === l.etag));
      if (i < 0) {
        this.d.fail('corrupt', `${Bucket}/${k.key}: unexpected version ${l.id} (${l.etag}, ${l.size} B)`);
        continue;
      }
      const [{ lock, ...body }] = k.maybeBodies.splice(i, 1) as [Body];
      k.versions.set(l.id, { body: { ...body, etag: l.etag }, verified: false });
      // A PUT with a lock that applied while its answer was lost: checkLocks asks the server.
      if (lock) k.maybeLocked.set(l.id, lock);
      this.d.report.inFlightApplied++;
    }
    await this.verifyBytes(s3, k);
    if (clean) await this.checkLatest(s3, k, listed);
    if (k.kind === 'locked') await this.checkLocks(s3, k);
    // What is there now survived a crash: the next cycles hold the server to it.
    k.latest = listed.find((l) => l.latest && (k.versions.has(l.id) || k.markers.has(l.id)))?.id;
    k.maybeBodies = [];
    k.maybeMarker = false;
    k.maybeRemoved.clear();
  }

  /** GET ?versionId of every version not read back yet, and a sample of the others. */
  private async verifyBytes(s3: S3Client, k: VKey): Promise<void> {
    const all = [...k.versions];
    const fresh = all.filter(([, v]) => !v.verified);
    const old = all.filter(([, v]) => v.verified).sort(() => this.d.rng() - 0.5).slice(0, SAMPLE);
    for (const [id, v] of [...fresh, ...old]) {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: this.bucket(k), Key: k.key, VersionId: id }));
        const bytes = Buffer.from(await res.Body!.transformToByteArray());
        if (res.VersionId !== id) this.d.fail('corrupt', `GET ${k.key}?versionId=${id} answered version ${res.VersionId}`);
        if (sha256(bytes) !== v.body.sha || bytes.length !== v.body.size) {
          this.d.fail('corrupt', `GET ${this.bucket(k)}/${k.key}?versionId=${id}: ${bytes.length} B ${sha256(bytes).slice(0, 12)}, acknowledged ${v.body.size} B ${v.body.sha.slice(0, 12)}`);
        } else {
          v.verified = true;
          this.d.report.versionsVerified++;
        }
      } catch (err) {
        this.d.fail('lost', `GET ${this.bucket(k)}/${k.key}?versionId=${id}: ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  }

  /** Nothing in flight since the last acknowledged write: it is the latest, and a plain GET serves it. */
  private async checkLatest(s3: S3Client, k: VKey, listed: Listed[]): Promise<void> {
    const latest = listed.filter((l) => l.latest);
    if (latest.length !== 1 || latest[0]!.id !== k.latest) {
      this.d.fail('corrupt', `${this.bucket(k)}/${k.key}: IsLatest on ${latest.map((l) => l.id).join(',') || 'nothing'}, the last acknowledged write made ${k.latest}`);
      return;
    }
    const v = k.versions.get(k.latest!);
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: this.bucket(k), Key: k.key }));
      const bytes = Buffer.from(await res.Body!.transformToByteArray());
      if (!v || res.VersionId !== k.latest || sha256(bytes) !== v.body.sha) {
        this.d.fail('corrupt', `GET ${this.bucket(k)}/${k.key}: version ${res.VersionId} (${bytes.length} B), expected ${v ? `version ${k.latest}` : `the delete marker ${k.latest}`}`);
      }
    } catch (err) {
      if (!(!v && (err as Error).name === 'NoSuchKey')) this.d.fail('corrupt', `GET ${this.bucket(k)}/${k.key}: ${(err as Error).name}, expected ${v ? `version ${k.latest}` : 'NoSuchKey (a delete marker)'}`);
    }
  }

  /** Every acknowledged lock survived: HEAD shows it, DELETE ?versionId is refused. In-flight locks are learnt. */
  private async checkLocks(s3: S3Client, k: VKey): Promise<void> {
    for (const [id, how] of k.maybeLocked) {
      const v = k.versions.get(id);
      if (!v) continue;
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: this.bucket(k), Key: k.key, VersionId: id }));
        if (head.ObjectLockLegalHoldStatus === 'ON') v.lock = 'hold';
        else if (head.ObjectLockMode === 'COMPLIANCE') v.lock = 'compliance';
        else if (head.ObjectLockMode) this.d.fail('corrupt', `${k.key}@${id}: lock mode ${head.ObjectLockMode} after a ${how} in flight`);
      } catch (err) {
        this.d.fail('lost', `HEAD ${this.bucket(k)}/${k.key}?versionId=${id}: ${(err as Error).name}`);
      }
    }
    k.maybeLocked.clear();
    const locked = [...k.versions].filter(([, v]) => v.lock);
    for (const [id, v] of locked.sort(() => this.d.rng() - 0.5).slice(0, SAMPLE)) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: this.bucket(k), Key: k.key, VersionId: id }));
        const shows = v.lock === 'hold' ? head.ObjectLockLegalHoldStatus === 'ON' : head.ObjectLockMode === 'COMPLIANCE' && head.ObjectLockRetainUntilDate!.getTime() > Date.now();
        if (!shows) {
          this.d.fail('lockViolations', `HEAD ${this.bucket(k)}/${k.key}?versionId=${id}: lock mode ${head.ObjectLockMode}, legal hold ${head.ObjectLockLegalHoldStatus}; acknowledged ${v.lock}`);
        }
      } catch (err) {
        this.d.fail('lost', `HEAD ${this.bucket(k)}/${k.key}?versionId=${id}: ${(err as Error).name}`);
        continue;
      }
      await this.expectLocked(s3, k, id, true);
    }
  }
}

interface Listed {
  key: string;
  id: string;
  latest: boolean;
  marker: boolean;
  etag: string;
  size: number;
}

export function formatVersionsReport(r: VersionsReport): string[] {
  const a = r.acknowledged;
  return [
    `versioned/lock buckets: acknowledged ${a.total} (versions ${a.versions}, delete markers ${a.markers}, version deletes ${a.removals}, locks ${a.locks}); ` +
      `after restarts: versions read back and hashed ${r.versionsVerified}, markers found ${r.markersChecked}, in-flight writes found applied ${r.inFlightApplied}`,
    `locked versions: deletes refused ${r.lockedDeletesRefused} (${r.lockedDeletesRefusedAfterRestart} after a restart); lock violations: ${r.lockViolations}`,
  ];
}
