import { eq } from 'drizzle-orm';
import { objects } from './schema.js';
import type { Repository } from './repository.js';
import { checkRetentionChange } from '../s3/object-lock.js';
import { S3Error } from '../s3/errors.js';
import type { LockMode, ObjectRow } from '../store/types.js';

// What a version carries besides its data, changed in place: retention, legal hold, ACL. Each is
// one write transaction on the version a request names (the current one without a version id).

/**
 * PutObjectRetention: sets (or with null removes) a version's retention under object lock's
 * rules (checkRetentionChange). Undefined when there is no such version.
 */
export function setRetention(repo: Repository, bucketId: number, key: string, versionId: string | undefined, next: { mode: LockMode; until: number } | null, bypass: boolean): ObjectRow | undefined {
  return repo.write(() => {
    const row = target(repo, bucketId, key, versionId);
    if (!row) return undefined;
    checkRetentionChange(row, next, Date.now(), bypass);
    repo.db.update(objects).set({ lockMode: next?.mode ?? null, lockUntil: next?.until ?? null }).where(eq(objects.id, row.id)).run();
    return { ...row, lockMode: next?.mode ?? null, lockUntil: next?.until ?? null };
  });
}

/** PutObjectLegalHold, PutObjectAcl. Undefined when there is no such version. */
export function setVersionColumns(repo: Repository, bucketId: number, key: string, versionId: string | undefined, set: Partial<Pick<ObjectRow, 'legalHold' | 'acl'>>): ObjectRow | undefined {
  return repo.write(() => {
    const row = target(repo, bucketId, key, versionId);
    if (!row) return undefined;
    repo.db.update(objects).set(set).where(eq(objects.id, row.id)).run();
    return { ...row, ...set };
  });
}

/** The version a request names; a delete marker has no lock or ACL to set (405, as GET of one). */
export function target(repo: Repository, bucketId: number, key: string, versionId: string | undefined): ObjectRow | undefined {
  const row = versionId === undefined ? repo.getObject(bucketId, key) : repo.getVersion(bucketId, key, versionId);
  if (row?.deleteMarker) throw new S3Error('MethodNotAllowed', {}, undefined, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': row.versionId });
  return row;
}
