import type { AppDeps, S3Context } from './context.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/authorize.js';
import { aclFromHeaders, type AccountResolver } from '../s3/acl.js';
import type { AclColumns, BucketRow } from '../store/types.js';

// The ACL headers of a write (x-amz-acl, x-amz-grant-*) turned into the new version's owner and ACL.

const NO_ACCOUNTS: AccountResolver = { exists: () => false, byEmail: () => undefined, displayName: () => undefined };

/** Whether the request names grantees (then accounts are read to resolve them). */
export function hasGrantHeaders(ctx: S3Context): boolean {
  return Object.keys(ctx.req.headers).some((h) => h.startsWith('x-amz-grant-'));
}

/** The resolver a request's ACL headers need: every account, read now, only when it names grantees. */
export async function resolverFor(ctx: S3Context, deps: AppDeps): Promise<AccountResolver> {
  return hasGrantHeaders(ctx) ? deps.accounts.resolver(true) : NO_ACCOUNTS;
}

/**
 * Owner and ACL of the version a PutObject, CopyObject or CreateMultipartUpload makes. A request
 * without ACL headers by the bucket's owner costs nothing here: private, owned by the bucket owner.
 */
export function newObjectAccess(ctx: S3Context, deps: AppDeps, bucket: BucketRow): Promise<AclColumns> {
  return newObjectAccessFrom(ctx.req.headers, ctx.state.principal, deps, bucket);
}

/** The same from a header record (PostObject: its `acl` field as x-amz-acl) and the form's signer. */
export async function newObjectAccessFrom(headers: IncomingHttpHeaders, principal: Principal | null, deps: AppDeps, bucket: BucketRow): Promise<AclColumns> {
  const writer = principal?.accountId ?? bucket.ownerId;
  const raw = headers['x-amz-acl'];
  const canned = (Array.isArray(raw) ? raw.join(',') : raw)?.trim();
  const granting = Object.keys(headers).some((h) => h.startsWith('x-amz-grant-'));
  if (canned === undefined && writer === bucket.ownerId && !granting) return { ownerId: null, acl: null };
  const grants = aclFromHeaders(headers, 'object', writer, bucket.ownerId, granting ? await deps.accounts.resolver(true) : NO_ACCOUNTS);
  return deps.accessControl.newObjectAccess(bucket, writer, grants, canned);
}
