// Who may do what. Authentication (src/auth/authenticate.ts) says which access key signed a
// request; this says whether that key may run the operation on the bucket.

import type { Grant, Permission } from '../store/types.js';
import { S3Error } from '../s3/errors.js';

/**
 * The root key may do everything. Any other key holds per-bucket grants ('*' = every bucket),
 * resolved from the database on each request so a revoked or changed key takes effect at once.
 */
export type Principal =
  | { kind: 'root'; accessKeyId: string }
  | { kind: 'key'; accessKeyId: string; grants: readonly Grant[] };

/**
 * What an operation needs on the request's bucket:
 * - 'read' / 'write' / 'bypass': that permission on the bucket (each includes the ones before);
 * - 'admin': create or delete buckets, a '*' write grant;
 * - 'service': any authenticated key (ListBuckets, which then shows only readable buckets).
 */
export type Access = Permission | 'admin' | 'service';

const RANK: Record<Permission, number> = { read: 0, write: 1, bypass: 2 };

/** Whether the principal holds `need` on `bucket` (read < write < bypass). */
export function hasPermission(p: Principal, bucket: string, need: Permission): boolean {
  if (p.kind === 'root') return true;
  return p.grants.some((g) => (g.bucket === '*' || g.bucket === bucket) && RANK[g.permission] >= RANK[need]);
}

/**
 * Whether the request may bypass GOVERNANCE retention: it asked (x-amz-bypass-governance-retention:
 * true) and its key may (the root key, or a 'bypass' grant on the bucket). Asking without the
 * right is refused, never ignored.
 */
export function bypassGovernance(ctx: { state: { principal?: Principal | null } }, bucket: string, asked: boolean): boolean {
  if (!asked) return false;
  const p = ctx.state.principal;
  if (!p || !hasPermission(p, bucket, 'bypass')) throw new S3Error('AccessDenied', {}, 'Access Denied: this key may not bypass GOVERNANCE retention.');
  return true;
}

/** Whether the principal may run an operation needing `access` on `bucket` (undefined for service-level operations). */
export function allows(p: Principal, access: Access, bucket: string | undefined): boolean {
  if (p.kind === 'root') return true;
  switch (access) {
    case 'service':
      return true;
    case 'admin':
      return p.grants.some((g) => g.bucket === '*' && g.permission !== 'read');
    case 'read':
    case 'write':
    case 'bypass':
      return bucket !== undefined && hasPermission(p, bucket, access);
  }
}

/** Throws AccessDenied unless the principal may run an operation needing `access` on `bucket`. */
export function authorize(p: Principal, access: Access, bucket: string | undefined): void {
  if (!allows(p, access, bucket)) throw new S3Error('AccessDenied');
}

/**
 * For handlers touching a second bucket (CopyObject and UploadPartCopy read their source):
 * throws AccessDenied unless the request's principal holds `need` on `bucket`.
 * An anonymous request (principal null) is denied.
 */
export function requireAccess(ctx: { state: { principal?: Principal | null } }, bucket: string, need: Permission): void {
  const p = ctx.state.principal;
  if (!p || !hasPermission(p, bucket, need)) throw new S3Error('AccessDenied');
}
