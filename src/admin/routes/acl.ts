import type Koa from 'koa';
import type { AclGrant } from '../../s3/acl.js';
import { allows } from '../../auth/authorize.js';
import { bucketIsPublic } from '../../auth/public-access.js';
import { S3Error } from '../../s3/errors.js';
import type { AclView } from '../../services/access-control.js';
import { AdminAccess } from '../access.js';
import { AdminError } from '../http.js';
import { requireBucket, type AdminDeps, type RegisterRoutes } from './common.js';

// Who owns a bucket or an object and who else may use it, read through AccessControlService (the
// rule GetBucketAcl, GetObjectAcl and GetBucketPolicy answer with): for the console's bucket and
// object pages and for scripts. Changing them is S3's business (PutBucketAcl, PutBucketPolicy...).

/** A grant as the admin API shows it: canonical users with their account's name (null: no such account). */
export type NamedGrant = { grantee: { type: 'CanonicalUser'; id: string; name: string | null } | AclGrant['grantee'] & { type: 'Group' }; permission: AclGrant['permission'] };

export interface AclAnswer {
  owner: { id: string; name: string | null };
  grants: NamedGrant[];
}

async function named(deps: AdminDeps, view: AclView): Promise<AclAnswer> {
  const accounts = await deps.accounts?.resolver();
  const name = (id: string) => accounts?.displayName(id) ?? null;
  return {
    owner: { id: view.owner.id, name: name(view.owner.id) },
    grants: view.grants.map((g) => ({
      grantee: g.grantee.type === 'CanonicalUser' ? { type: 'CanonicalUser', id: g.grantee.id, name: name(g.grantee.id) } : g.grantee,
      permission: g.permission,
    })),
  };
}

/** GET /v1/objects/{bucket}/{key}?acl[&versionId=V]: a version's owner and ACL (objects.ts routes it here). */
export async function objectAclAnswer(ctx: Koa.Context, deps: AdminDeps, bucketName: string, key: string, versionId: string | undefined): Promise<AclAnswer & { bucket: string; key: string; versionId: string }> {
  const access = new AdminAccess(ctx, deps);
  const denied = () => new AdminError('Forbidden', `this access key may not read the ACL of ${bucketName}/${key}`);
  // The grants first: a key without one learns nothing, not even whether the bucket exists.
  if (access.principal.kind === 'key' && !allows(access.principal, 'read', bucketName)) throw denied();
  const bucket = await requireBucket(deps, bucketName);
  let obj;
  try {
    obj = await deps.objects.headObject(bucket, key, versionId);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') throw new AdminError('NotFound', 'a delete marker has no ACL');
    throw err;
  }
  if (!(await access.mayReadObjectAcl(bucket, key, versionId, obj))) throw denied();
  const view = await deps.accessControl.objectAcl(bucket.name, key, obj.versionId);
  return { bucket: bucket.name, key, versionId: obj.versionId, ...(await named(deps, view)) };
}

export const registerAclRoutes: RegisterRoutes = (router, deps) => {
  router.get('/v1/buckets/:name/acl', async (ctx) => {
    const name = ctx.params.name!;
    await new AdminAccess(ctx, deps).require('GetBucketAcl', name, `read the ACL of bucket ${name}`);
    const bucket = await requireBucket(deps, name);
    const view = await deps.accessControl.bucketAcl(bucket.name);
    // public: what the records say (the ACL or the policy gives something to everyone).
    ctx.body = { bucket: bucket.name, ownership: bucket.ownership, public: bucketIsPublic(bucket), ...(await named(deps, view)) };
  });

  // The policy as stored (parsed: it was validated when it was put), and whether it lets everyone in.
  router.get('/v1/buckets/:name/policy', async (ctx) => {
    const name = ctx.params.name!;
    await new AdminAccess(ctx, deps).require('GetBucketPolicy', name, `read the policy of bucket ${name} (only its owner's keys may)`);
    const bucket = await requireBucket(deps, name);
    if (bucket.policy === null) {
      ctx.body = { bucket: bucket.name, policy: null, isPublic: false };
      return;
    }
    ctx.body = { bucket: bucket.name, policy: JSON.parse(bucket.policy) as unknown, isPublic: await deps.accessControl.policyIsPublic(bucket.name) };
  });
};
