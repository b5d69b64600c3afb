import type Koa from 'koa';
import { BucketAccess, type AccessLookups, type AccessRequest, type ObjectAclTarget } from '../auth/access.js';
import { allows, type Access } from '../auth/authorize.js';
import { OPERATION_RULES } from '../auth/operations.js';
import type { AuthResult } from '../auth/types.js';
import type { BucketRow, TagSet } from '../store/types.js';
import { who } from './auth.js';
import { requireThat, type AdminPrincipal } from './console.js';
import type { AdminDeps } from './routes/common.js';

// Which buckets a caller of the admin API may read and change. The admin token and the root key
// pair may do everything. An access key acts for its account, as on the S3 listener: its grants
// limit what it may do (console.ts), and its account must be allowed what the matching S3
// operation needs, decided by src/auth/access.ts (the bucket's owner; or its policy or ACL):
// reading a bucket's records is ListObjects, its ACL GetBucketAcl, its policy GetBucketPolicy,
// the public switch PutBucketPolicy (the owner's alone), deleting DeleteBucket, CORS PutBucketCors.

/** What a route asks of a bucket, and the S3 operation whose rule answers. */
export type BucketUse = 'ListObjects' | 'GetBucketAcl' | 'GetBucketPolicy' | 'PutBucketPolicy' | 'DeleteBucket' | 'PutBucketCors';

const GRANT_NEEDED: Record<BucketUse, Access> = {
  ListObjects: 'read',
  GetBucketAcl: 'read',
  GetBucketPolicy: 'read',
  PutBucketPolicy: 'admin',
  DeleteBucket: 'admin',
  PutBucketCors: 'write',
};

export class AdminAccess {
  readonly principal: AdminPrincipal;

  constructor(
    private readonly ctx: Koa.Context,
    private readonly deps: AdminDeps,
  ) {
    this.principal = who(ctx);
  }

  /** The token or the root pair: every bucket, every change. */
  get isAdmin(): boolean {
    return this.principal.kind !== 'key';
  }

  /**
   * Whether the caller may `use` the bucket. A bucket that does not exist is allowed when the
   * grants are (the route answers 404 or an empty result, as S3 answers a signed request).
   */
  async may(use: BucketUse, bucket: BucketRow | string): Promise<boolean> {
    const p = this.principal;
    if (p.kind !== 'key') return true;
    const name = typeof bucket === 'string' ? bucket : bucket.name;
    if (!allows(p, GRANT_NEEDED[use], name)) return false;
    const row = typeof bucket === 'string' ? await this.deps.buckets.find(bucket) : bucket;
    if (!row) return true;
    return new BucketAccess(this.request(use, name), row).decide(OPERATION_RULES[use]!, OPERATION_RULES[use]!.action, undefined) === 'allow';
  }

  /** Forbidden (403 naming what) unless `may`. */
  async require(use: BucketUse, bucket: BucketRow | string, what: string): Promise<void> {
    requireThat(await this.may(use, bucket), what);
  }

  /** The names of the buckets whose records the caller may read; undefined: every bucket. */
  async readable(): Promise<Set<string> | undefined> {
    if (this.isAdmin) return undefined;
    const out = new Set<string>();
    for (const b of await this.deps.buckets.list()) if (await this.may('ListObjects', b)) out.add(b.name);
    return out;
  }

  /** GetObjectAcl's rule for one version: its owner, the bucket's owner, the policy, or the object's ACL (READ_ACP). */
  async mayReadObjectAcl(bucket: BucketRow, key: string, versionId: string | undefined, obj: ObjectAclTarget): Promise<boolean> {
    const p = this.principal;
    if (p.kind !== 'key') return true;
    if (!allows(p, 'read', bucket.name)) return false;
    const rule = OPERATION_RULES.GetObjectAcl!;
    const access = new BucketAccess(this.request('GetObjectAcl', bucket.name, key, versionId), bucket);
    const decision = access.decide(rule, versionId !== undefined ? rule.versioned! : rule.action, key);
    return decision === 'allow' || (decision === 'object' && access.objectAllows(obj, 'READ_ACP'));
  }

  /**
   * Get/PutObjectTagging's rule for one version, as on the S3 listener: the key's grant (read or
   * write), then the bucket's owner or its policy (a policy testing the version's or the
   * request's tags sees them, loaded through `lookups`).
   */
  async mayTagObject(operation: 'GetObjectTagging' | 'PutObjectTagging', bucket: BucketRow, key: string, versionId: string | undefined, tags: TagSet | undefined, lookups: AccessLookups): Promise<boolean> {
    const p = this.principal;
    if (p.kind !== 'key') return true;
    if (!allows(p, operation === 'GetObjectTagging' ? 'read' : 'write', bucket.name)) return false;
    const rule = OPERATION_RULES[operation]!;
    const access = new BucketAccess(this.request(operation, bucket.name, key, versionId), bucket);
    access.bodyTags = tags;
    if (access.policyUses('existing')) access.existingTags = (await lookups.tags?.(bucket, key, versionId)) ?? [];
    return access.decide(rule, versionId !== undefined ? rule.versioned! : rule.action, key) === 'allow';
  }

  /** Store-wide views (totals, metrics, searches across buckets): only for a caller who may read every bucket. */
  async seesAll(): Promise<boolean> {
    const p = this.principal;
    if (p.kind !== 'key') return true;
    if (!p.grants.some((g) => g.bucket === '*')) return false;
    for (const b of await this.deps.buckets.list()) if (!(await this.may('ListObjects', b))) return false;
    return true;
  }

  /** What the rule of an operation reads of this admin request (a policy may test the caller's address or agent). */
  private request(operation: string, bucket: string, key?: string, versionId?: string): AccessRequest {
    const p = this.principal;
    return {
      operation,
      access: operation === 'GetObjectAcl' || operation === 'GetObjectTagging' ? 'read' : operation === 'PutObjectTagging' ? 'write' : GRANT_NEEDED[operation as BucketUse],
      bucket,
      key,
      principal: p.kind === 'admin' ? null : p,
      auth: (this.ctx.state as { auth?: AuthResult }).auth ?? null,
      headers: this.ctx.req.headers,
      query: new URLSearchParams(versionId === undefined ? {} : { versionId }),
      remoteAddress: this.ctx.req.socket.remoteAddress,
      tlsVersion: undefined,
    };
  }
}
