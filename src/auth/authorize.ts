// Who may do what. Authentication (src/auth/authenticate.ts) says which access key signed a
// request; this says whether that key may run the operation on the bucket.

import type { Grant, Permission } from '../store/types.js';
import { S3Error } from '../s3/errors.js';

/**
 * A signed request's principal: the account it acts for, and the key. The root key is limited by
 * nothing; any other key holds per-bucket grants ('*' = every bucket) that limit what it may do
 * for its account (like an identity policy), resolved from the database on each request so a
 * revoked or changed key takes effect at once. What the account may do is src/auth/access.ts.
 */
export type Principal =
  | { kind: 'root'; accessKeyId: string; accountId: string }
  | { kind: 'key'; accessKeyId: string; accountId: string; grants: readonly Grant[] };

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
 * true) and may (src/auth/access.ts: the key's grant and the account's right). Asking without the
 * right is refused, never ignored.
 */
export function bypassGovernance(ctx: { state: { access?: { allowsBypass(key: string | undefined): boolean }; key?: string } }, asked: boolean): boolean {
  if (!asked) return false;
  if (!ctx.state.access?.allowsBypass(ctx.state.key)) throw new S3Error('AccessDenied', {}, 'Access Denied: this key may not bypass GOVERNANCE retention.');
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
