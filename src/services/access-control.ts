import { S3Error } from '../s3/errors.js';
import { cannedGrants, decodeAcl, encodeAcl, isPrivateAcl, isPublicAcl, type AclGrant } from '../s3/acl.js';
import { isPublicPolicy, parsePolicy, PolicyError } from '../auth/policy/index.js';
import { storedPolicy } from '../auth/public-access.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { AclColumns, BucketRow, ObjectOwnership } from '../store/types.js';
import type { ObjectService } from '../storage/object-service.js';
import type { AccountService } from './accounts.js';
import type { BucketService } from './buckets.js';

// ACLs, object ownership and bucket policies: one rule for the S3 handlers, the admin API, the
// CLI and the console. Who may call these is decided before (src/auth/access.ts); this says what
// a change means and refuses the ones S3 refuses.

export interface AclView {
  owner: { id: string; displayName: string };
  grants: AclGrant[];
}

/** The Sid of the statement `setPublic` adds and removes (the admin API's and CLI's "public" switch). */
export const PUBLIC_READ_SID = 'CairnPublicRead';
const MAX_POLICY_BYTES = 20 * 1024;

export class AccessControlService {
  constructor(
    private readonly store: MetadataStore,
    private readonly buckets: BucketService,
    private readonly objects: ObjectService,
    private readonly accounts: AccountService,
  ) {}

  /**
   * CreateBucket of the admin API, the CLI and the console: for the account named (default: the
   * root account), made public at once when asked (setPublic).
   */
  async createBucket(name: string, opts: { owner?: string; public?: boolean } = {}): Promise<BucketRow> {
    const owner = opts.owner === undefined ? await this.accounts.root() : await this.accounts.require(opts.owner);
    const bucket = await this.buckets.create(name, { ownerId: owner.id });
    return opts.public ? this.setPublic(name, true) : bucket;
  }

  async bucketAcl(name: string): Promise<AclView> {
    const bucket = await this.buckets.require(name);
    return { owner: await this.accounts.owner(bucket.ownerId), grants: this.effectiveBucketGrants(bucket) };
  }

  /** PutBucketAcl. AccessControlListNotSupported when ACLs are off (BucketOwnerEnforced), unless the ACL is the owner's alone. */
  async putBucketAcl(name: string, grants: AclGrant[]): Promise<void> {
    const bucket = await this.buckets.require(name);
    aclsOn(bucket, grants, bucket.ownerId);
    await this.store.buckets.setAccess(bucket.id, { acl: isPrivateAcl(grants, bucket.ownerId) ? null : encodeAcl(grants) });
  }

  async objectAcl(name: string, key: string, versionId: string | undefined): Promise<AclView> {
    const bucket = await this.buckets.require(name);
    const obj = await this.objects.headObject(bucket, key, versionId);
    const owner = obj.ownerId ?? bucket.ownerId;
    const grants = bucket.ownership === 'BucketOwnerEnforced' ? cannedGrants('private', 'object', owner, owner) : decodeAcl(obj.acl, owner);
    return { owner: await this.accounts.owner(owner), grants };
  }

  async putObjectAcl(name: string, key: string, versionId: string | undefined, grants: AclGrant[]): Promise<void> {
    const bucket = await this.buckets.require(name);
    const obj = await this.objects.headObject(bucket, key, versionId);
    const owner = obj.ownerId ?? bucket.ownerId;
    aclsOn(bucket, grants, owner);
    await this.objects.setAcl(bucket, key, versionId ?? obj.versionId, isPrivateAcl(grants, owner) ? null : encodeAcl(grants));
  }

  /**
   * Owner and ACL of a new version written by `writer` with `grants` (undefined: no ACL asked):
   * the writer owns it under ObjectWriter, the bucket owner under BucketOwnerEnforced, and under
   * BucketOwnerPreferred when the writer gave the bucket owner full control.
   */
  newObjectAccess(bucket: BucketRow, writer: string, grants: AclGrant[] | undefined, canned: string | undefined): AclColumns {
    if (bucket.ownership === 'BucketOwnerEnforced') {
      if (grants && !(canned === 'private' || canned === 'bucket-owner-full-control' || ownersFullControlOnly(grants, writer, bucket.ownerId))) {
        throw new S3Error('AccessControlListNotSupported');
      }
      return { ownerId: null, acl: null };
    }
    const handsOver = bucket.ownership === 'BucketOwnerPreferred' && canned === 'bucket-owner-full-control';
    const owner = writer === bucket.ownerId || handsOver ? bucket.ownerId : writer;
    const acl = grants === undefined || isPrivateAcl(grants, owner) ? null : encodeAcl(grants);
    return { ownerId: owner === bucket.ownerId ? null : owner, acl };
  }

  /** PutBucketOwnershipControls. BucketOwnerEnforced needs the bucket's ACL to be private (InvalidBucketAclWithObjectOwnership). */
  async setOwnership(name: string, ownership: ObjectOwnership): Promise<void> {
    const bucket = await this.buckets.require(name);
    if (ownership === 'BucketOwnerEnforced' && !isPrivateAcl(decodeAcl(bucket.acl, bucket.ownerId), bucket.ownerId)) {
      throw new S3Error('InvalidBucketAclWithObjectOwnership');
    }
    await this.store.buckets.setAccess(bucket.id, { ownership });
  }

  /** The bucket policy's text; NoSuchBucketPolicy when there is none. */
  async policy(name: string): Promise<string> {
    const bucket = await this.buckets.require(name);
    if (bucket.policy === null) throw new S3Error('NoSuchBucketPolicy', { BucketName: name });
    return bucket.policy;
  }

  /** PutBucketPolicy: MalformedPolicy saying what is wrong. */
  async putPolicy(name: string, text: string): Promise<void> {
    const bucket = await this.buckets.require(name);
    if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw new S3Error('MalformedPolicy', {}, `Policies may be at most ${MAX_POLICY_BYTES} bytes.`);
    const accounts = await this.accounts.resolver(true);
    try {
      parsePolicy(text, bucket.name, (id) => accounts.exists(id));
    } catch (err) {
      if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', {}, err.message);
      throw err;
    }
    await this.store.buckets.setAccess(bucket.id, { policy: text });
  }

  async deletePolicy(name: string): Promise<void> {
    const bucket = await this.buckets.require(name);
    await this.store.buckets.setAccess(bucket.id, { policy: null });
  }

  /** GetBucketPolicyStatus: whether the policy lets everyone in. NoSuchBucketPolicy without one. */
  async policyIsPublic(name: string): Promise<boolean> {
    const policy = storedPolicy({ name, policy: await this.policy(name) });
    return policy !== undefined && isPublicPolicy(policy);
  }

  /**
   * The admin API's and CLI's "public" switch: anonymous listings (the public-read ACL) and
   * anonymous GETs (a policy statement allowing s3:GetObject to everyone, Sid PUBLIC_READ_SID).
   * Off removes both, leaving the rest of the policy as it was.
   */
  async setPublic(name: string, on: boolean): Promise<BucketRow> {
    const bucket = await this.buckets.require(name);
    const statements = bucket.policy === null ? [] : (JSON.parse(bucket.policy) as { Statement: unknown }).Statement;
    const others = (Array.isArray(statements) ? statements : [statements]).filter((s) => (s as { Sid?: string }).Sid !== PUBLIC_READ_SID);
    const mine = { Sid: PUBLIC_READ_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket.name}/*` };
    const next = on ? [...others, mine] : others;
    const policy = next.length === 0 ? null : JSON.stringify({ Version: '2012-10-17', Statement: next });
    if (on && bucket.ownership === 'BucketOwnerEnforced') throw new S3Error('AccessControlListNotSupported');
    const acl = on ? encodeAcl(cannedGrants('public-read', 'bucket', bucket.ownerId, bucket.ownerId)) : null;
    await this.store.buckets.setAccess(bucket.id, { acl, policy });
    return this.buckets.require(name);
  }

  /** With ACLs off, GetBucketAcl shows the owner's full control whatever was stored before. */
  private effectiveBucketGrants(bucket: BucketRow): AclGrant[] {
    if (bucket.ownership === 'BucketOwnerEnforced') return cannedGrants('private', 'bucket', bucket.ownerId, bucket.ownerId);
    return decodeAcl(bucket.acl, bucket.ownerId);
  }
}

/**
 * Grants that only give FULL_CONTROL to the writer or the bucket owner: what S3 accepts with ACLs
 * off besides the canned ACLs, so a writer may also spell bucket-owner-full-control out in grant
 * headers (`x-amz-grant-full-control: id=<bucket owner>`).
 */
function ownersFullControlOnly(grants: readonly AclGrant[], writer: string, bucketOwner: string): boolean {
  return grants.every((g) => g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && (g.grantee.id === writer || g.grantee.id === bucketOwner));
}

function aclsOn(bucket: BucketRow, grants: AclGrant[], owner: string): void {
  if (bucket.ownership === 'BucketOwnerEnforced' && !isPrivateAcl(grants, owner)) throw new S3Error('AccessControlListNotSupported');
}
