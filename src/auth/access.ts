import { S3Error } from '../s3/errors.js';
import { aclPermits, decodeAcl, type AclPermission } from '../s3/acl.js';
import { evaluatePolicy, type CompiledPolicy } from './policy/index.js';
import type { ConditionValue } from './policy/types.js';
import { storedPolicy } from './public-access.js';
import { allows, hasPermission, type Access, type Principal } from './authorize.js';
import { OPERATION_RULES, type OperationRule } from './operations.js';
import { conditionValue, type ConditionSource } from './request-conditions.js';
import type { BucketRow, TagSet } from '../store/types.js';
import { tagCondition, usesTags } from './tag-conditions.js';

// Whether a request may run, in the order S3 documents: the key's grants limit what it may do
// for its account; an explicit Deny in the bucket policy refuses; then the bucket's owner, an
// Allow of the policy, or the ACL of the bucket or the object allows; nothing else does.
//
// Choices (docs/policies.md): the bucket owner may act on every object in its buckets, also one
// another account wrote under ObjectWriter ownership (S3 would need that object's ACL to say so):
// it spares GET and PUT by the owner any lookup of the object. The root key (the operator's, from
// the configuration; the console presigns with it) acts as the owner of every bucket; a policy's
// Deny still binds it, as it binds an owner. The owner's administrators (the root key, keys with
// a write grant on every bucket) may always read, replace and delete the bucket policy whatever
// it denies, as the root user on S3; the owner's other keys are bound by a Deny like IAM users,
// so a policy can keep a backup key from replacing the policy that binds it.

/** The object facts an object ACL check needs. */
export interface ObjectAclTarget {
  ownerId: string | null;
  acl: string | null;
}

export interface AccessLookups {
  bucket(name: string): Promise<BucketRow | undefined>;
  /** The version a request names (the current one without versionId); undefined when there is none. */
  object(bucket: BucketRow, key: string, versionId: string | undefined): Promise<ObjectAclTarget | undefined>;
  /** That version's tags (s3:ExistingObjectTag), asked only when a policy tests them; absent: none known. */
  tags?(bucket: BucketRow, key: string, versionId: string | undefined): Promise<TagSet | undefined>;
}

export interface AccessRequest extends Omit<ConditionSource, 'resourceAccount'> {
  operation: string;
  /** What the key's grants must hold (the router's `access`). */
  access: Access;
  bucket: string | undefined;
  key: string | undefined;
}

/** 'object': the object's ACL decides; 'not-owner': a policy operation allowed to another account (405). */
type Decision = 'allow' | 'deny' | 'object' | 'not-owner';
const OWNER_ONLY: OperationRule = { action: '' };

/** The decisions about one request on one bucket (the request's own, or a copy's source). */
export class BucketAccess {
  private readonly caller: string | null;
  private readonly owner: boolean;
  /** The owner's administrator: a Deny never keeps it from repairing the policy. */
  private readonly repairs: boolean;
  private readonly policy: CompiledPolicy | undefined;
  // Built when a policy condition first asks: every request makes a BucketAccess, few meet a
  // condition (a copy of the request per request was a measurable share of a small GET's garbage).
  private source?: ConditionSource;
  private now?: number;
  private condition?: (name: string) => ConditionValue;
  /** The tags of the version acted on, loaded by check() when the policy tests s3:ExistingObjectTag. */
  existingTags?: TagSet;
  /** PutObjectTagging's body, set by authorizeBodyTags; undefined: x-amz-tagging is read when asked. */
  bodyTags?: TagSet;
  /** PutObjectTagging waits for its body before it is judged (authorizeBodyTags). */
  deferred = false;

  constructor(
    readonly req: AccessRequest,
    readonly bucket: BucketRow,
  ) {
    this.caller = req.principal?.accountId ?? null;
    this.owner = this.caller === bucket.ownerId || req.principal?.kind === 'root';
    this.repairs = this.owner && req.principal !== null && allows(req.principal, 'admin', undefined);
    this.policy = storedPolicy(bucket);
  }

  /** The decision for `action` on the bucket (key undefined) or one of its objects. */
  decide(rule: OperationRule, action: string, key: string | undefined): Decision {
    let verdict: 'Allow' | 'Deny' | undefined;
    if (this.policy && action !== '') {
      verdict = evaluatePolicy(this.policy, {
        action,
        resource: key === undefined ? `arn:aws:s3:::${this.bucket.name}` : `arn:aws:s3:::${this.bucket.name}/${key}`,
        // A Principal has the two fields a policy matches on.
        principal: this.req.principal,
        condition: (this.condition ??= (name) => {
          // Named fields, not a spread of the request: the spread was a third of the time of
          // evaluating the bench's 10-statement policy (bench/scenarios/access.ts).
          const r = this.req;
          this.source ??= { principal: r.principal, auth: r.auth, headers: r.headers, query: r.query, remoteAddress: r.remoteAddress, tlsVersion: r.tlsVersion, resourceAccount: this.bucket.ownerId };
          if (name.startsWith('s3:') && name.includes('tag')) {
            const tagged = tagCondition(name, this.existingTags, this.bodyTags, r.headers);
            if (tagged !== false) return tagged;
          }
          return conditionValue(this.source, name, (this.now ??= Date.now()));
        }),
      });
    }
    if (verdict === 'Deny' && !(this.repairs && rule.ownerOverridesDeny)) return 'deny';
    if (this.owner) return 'allow';
    // Bucket policy operations are the owner's alone, as on S3: 405 to a caller the policy allows.
    if (rule.ownerOverridesDeny) return verdict === 'Allow' ? 'not-owner' : 'deny';
    if (verdict === 'Allow') return 'allow';
    const acl = rule.aclForVersions === false && action === rule.versioned ? undefined : rule.acl;
    if (!acl || this.bucket.ownership === 'BucketOwnerEnforced') return 'deny';
    if (acl.on === 'object') return 'object';
    return aclPermits(decodeAcl(this.bucket.acl, this.bucket.ownerId), this.caller, acl.permission) ? 'allow' : 'deny';
  }

  /** An object's ACL (its owner always keeps READ_ACP and WRITE_ACP, as on S3). */
  objectAllows(obj: ObjectAclTarget, permission: AclPermission): boolean {
    const objectOwner = obj.ownerId ?? this.bucket.ownerId;
    if (this.caller === objectOwner && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return true;
    return aclPermits(decodeAcl(obj.acl, objectOwner), this.caller, permission);
  }

  /** Whether the bucket policy tests these tag keys ('existing' or 'request'). */
  policyUses(kind: 'existing' | 'request'): boolean {
    return this.policy !== undefined && usesTags(this.policy.conditionKeys, kind);
  }

  /** PutObjectTagging: judged on its body's tags when the policy tests request tags (authorizeRequest deferred it). */
  async authorizeBodyTags(key: string, versionId: string | undefined, tags: TagSet, lookups: AccessLookups): Promise<void> {
    if (!this.deferred) return;
    this.bodyTags = tags;
    await check(this, OPERATION_RULES[this.req.operation]!, key, versionId, lookups);
    this.deferred = false;
  }

  /** DeleteObjects, per key: the same rule as DeleteObject (the bucket's WRITE is the ACL's part). */
  allowsDelete(key: string, versionId: string | undefined): boolean {
    const rule = OPERATION_RULES.DeleteObject!;
    return this.decide(rule, versionId !== undefined ? rule.versioned! : rule.action, key) === 'allow';
  }

  /**
   * x-amz-bypass-governance-retention: the key may (the root key, or a bypass grant on the bucket)
   * and the account may (the owner, or a policy Allow of s3:BypassGovernanceRetention, no Deny).
   */
  allowsBypass(key: string | undefined): boolean {
    const p = this.req.principal;
    if (!p || !hasPermission(p, this.bucket.name, 'bypass')) return false;
    return this.decide(OWNER_ONLY, 's3:BypassGovernanceRetention', key) === 'allow';
  }
}

/**
 * Authorizes a request before its handler runs; AccessDenied unless it may. Returns the bucket's
 * access decisions for the handler's further checks (DeleteObjects' keys, bypassing retention),
 * undefined for service operations and for a bucket that does not exist (the handler answers
 * NoSuchBucket to a signed request, and this answers it to an anonymous one, as S3 does).
 */
export async function authorizeRequest(req: AccessRequest, lookups: AccessLookups): Promise<BucketAccess | undefined> {
  const p = req.principal;
  const rule = OPERATION_RULES[req.operation] ?? OWNER_ONLY;
  if (req.bucket === undefined || rule.service) {
    if (!p || !allows(p, req.access, req.bucket)) throw new S3Error('AccessDenied');
    return undefined;
  }
  if (p && !allows(p, req.access, req.bucket)) throw new S3Error('AccessDenied');
  const bucket = await lookups.bucket(req.bucket);
  if (!bucket) {
    // S3 tells anyone that a bucket does not exist (404), and tools that probe public buckets or
    // create on a miss rely on it; a bucket that exists still answers 403 to whoever may not.
    // An anonymous CreateBucket stays a 403: nobody may create without credentials.
    if (!p && req.operation === 'CreateBucket') throw new S3Error('AccessDenied');
    if (!p) throw new S3Error('NoSuchBucket', { BucketName: req.bucket });
    return undefined;
  }
  expectOwner(req.headers['x-amz-expected-bucket-owner'], bucket);
  const access = new BucketAccess(req, bucket);
  // PutObjectTagging's tags are in its body: a policy testing them is applied once it is read.
  if (rule.bodyTags && access.policyUses('request')) access.deferred = true;
  else if (!rule.perKey) await check(access, rule, req.key, req.query.get('versionId') ?? undefined, lookups);
  return access;
}

/** CopyObject's and UploadPartCopy's source: GetObject (or GetObjectVersion) on it, by the same rules. */
export async function authorizeCopySource(
  req: AccessRequest,
  source: { bucket: string; key: string; versionId?: string },
  lookups: AccessLookups,
): Promise<void> {
  const p = req.principal;
  // Anonymous callers copy what everyone may read into where everyone may write, like any other
  // caller; a missing source bucket is NoSuchBucket to them too, as in authorizeRequest.
  if (p && !hasPermission(p, source.bucket, 'read')) throw new S3Error('AccessDenied');
  const bucket = await lookups.bucket(source.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', { BucketName: source.bucket });
  expectOwner(req.headers['x-amz-source-expected-bucket-owner'], bucket);
  await check(new BucketAccess(req, bucket), OPERATION_RULES.GetObject!, source.key, source.versionId, lookups);
}

async function check(access: BucketAccess, rule: OperationRule, key: string | undefined, versionId: string | undefined, lookups: AccessLookups): Promise<void> {
  const action = versionId !== undefined && rule.versioned ? rule.versioned : rule.action;
  // Loaded only for a policy that tests them, on operations that act on an existing version.
  if (rule.existingTags && key !== undefined && access.existingTags === undefined && access.policyUses('existing')) {
    access.existingTags = (await lookups.tags?.(access.bucket, key, versionId)) ?? [];
  }
  let decision = access.decide(rule, action, key);
  if (rule.also && decision !== 'deny') {
    // Both actions must pass: the stricter of the two decisions stands (allow < object ACL < deny).
    const second = access.decide(rule, versionId !== undefined ? rule.also.versioned : rule.also.action, key);
    if (second === 'deny' || second === 'not-owner' || (second === 'object' && decision === 'allow')) decision = second;
  }
  if (decision === 'allow') return;
  if (decision === 'not-owner') {
    throw new S3Error('MethodNotAllowed', {}, "The bucket policy operations are for the bucket owner's account only.");
  }
  if (decision === 'object' && key !== undefined) {
    const obj = await lookups.object(access.bucket, key, versionId);
    if (obj ? access.objectAllows(obj, rule.acl!.permission) : mayList(access)) return;
  }
  throw new S3Error('AccessDenied');
}

/**
 * GetObject or HeadObject allowed (by a policy or an ACL) found no such key: a caller who may list
 * the bucket learns that (404), others get 403, as on S3, so opening reads reveals no key names.
 */
export function concealMissing(err: unknown, operation: string, access: BucketAccess | undefined): unknown {
  if (!access || !(err instanceof S3Error) || err.code !== 'NoSuchKey') return err;
  if (operation !== 'GetObject' && operation !== 'HeadObject' && operation !== 'GetObjectAttributes') return err;
  return mayList(access) ? err : new S3Error('AccessDenied');
}

/** No such object: a caller who may list the bucket learns that (the handler's 404); others get 403, as on S3. */
function mayList(access: BucketAccess): boolean {
  const list = OPERATION_RULES.ListObjects!;
  return access.decide(list, list.action, undefined) === 'allow';
}

/** x-amz-expected-bucket-owner: AccessDenied when the bucket belongs to another account. */
function expectOwner(expected: string | string[] | undefined, bucket: BucketRow): void {
  if (expected === undefined) return;
  if ((Array.isArray(expected) ? expected.join(',') : expected).trim() !== bucket.ownerId) throw new S3Error('AccessDenied');
}
