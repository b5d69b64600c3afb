import { S3Error } from '../s3/errors.js';
import { validateBucketName } from '../s3/names.js';
import { NO_SERVER_KEY } from '../storage/encryption.js';
import { corsConfigurationXml, parseCorsConfiguration, type CorsRule } from '../s3/cors.js';
import { serializeLifecycle, storedLifecycle, type LifecycleConfig } from '../s3/lifecycle.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { BucketRow, LockMode, ObjectOwnership, VersioningStatus } from '../store/types.js';

/**
 * Object ownership of a new bucket that asks for none. ObjectWriter, S3's default until 2023 and
 * what the self-hosted tools were written against: ACLs apply (Mastodon's public-read media, s3cmd
 * setacl, the Docker registry's x-amz-acl), where S3's BucketOwnerEnforced refuses them.
 */
export const DEFAULT_OWNERSHIP: ObjectOwnership = 'ObjectWriter';
import type { MultipartService } from '../storage/multipart-service.js';

// Buckets: one rule per operation for the S3 handlers, the admin API and the CLI. Errors are
// S3Errors (the S3 side writes them as XML; the admin API and the CLI map the few they expect).

export class BucketService {
  constructor(
    private readonly store: MetadataStore,
    private readonly region: string,
    private readonly multipart: MultipartService,
  ) {}

  /** The bucket, or NoSuchBucket. */
  async require(name: string): Promise<BucketRow> {
    const bucket = await this.store.buckets.get(name);
    if (!bucket) throw new S3Error('NoSuchBucket', { BucketName: name });
    return bucket;
  }

  /** The bucket, or undefined (callers with an answer of their own for a missing bucket). */
  find(name: string): Promise<BucketRow | undefined> {
    return this.store.buckets.get(name);
  }

  list(): Promise<BucketRow[]> {
    return this.store.buckets.list();
  }

  /** Every bucket an account owns, by name (ListBuckets). */
  listOwned(ownerId: string): Promise<BucketRow[]> {
    return this.store.buckets.listOwned(ownerId);
  }

  /**
   * CreateBucket for account `ownerId`: InvalidBucketName, InvalidArgument for a location
   * constraint naming another region (us-east-1 is also spelled "US"); when the name is taken,
   * BucketAlreadyOwnedByYou for its owner and BucketAlreadyExists for anyone else.
   */
  async create(
    name: string,
    opts: { ownerId: string; acl?: string | null; ownership?: ObjectOwnership; locationConstraint?: string; objectLock?: boolean },
  ): Promise<BucketRow> {
    validateBucketName(name);
    const region = this.region;
    const lc = opts.locationConstraint;
    if (lc && lc !== region && !(region === 'us-east-1' && lc === 'US')) {
      throw new S3Error('InvalidArgument', { ArgumentName: 'LocationConstraint', ArgumentValue: lc }, `The specified location-constraint is not valid for this endpoint (region ${region}).`);
    }
    const row = { name, region, ownerId: opts.ownerId, acl: opts.acl ?? null, ownership: opts.ownership ?? DEFAULT_OWNERSHIP, objectLock: opts.objectLock ?? false };
    if (!(await this.store.buckets.create(row))) {
      const existing = await this.store.buckets.get(name);
      throw new S3Error(existing && existing.ownerId !== opts.ownerId ? 'BucketAlreadyExists' : 'BucketAlreadyOwnedByYou', { BucketName: name });
    }
    return this.require(name);
  }

  /**
   * DeleteBucket: only a bucket without versions, objects or delete markers (BucketNotEmpty), so
   * never one holding a locked version. Uploads in progress do not keep a bucket alive, as in
   * S3: they are aborted with it.
   */
  async delete(name: string): Promise<void> {
    const bucket = await this.require(name);
    if ((await this.store.objects.listVersions(bucket.id, { prefix: '', maxKeys: 1 })).entries.length === 0) {
      for (const u of await this.store.multipart.list(bucket.id, '', undefined, 10_000)) {
        await this.multipart.abort(bucket, u.key, u.id).catch(() => undefined);
      }
    }
    if ((await this.store.buckets.delete(bucket.id)) === 'not-empty') throw new S3Error('BucketNotEmpty', { BucketName: bucket.name });
  }

  /**
   * PutBucketVersioning. A bucket with object lock keeps versioning Enabled (InvalidBucketState).
   * There is no way back to unversioned, as in S3.
   */
  async setVersioning(name: string, status: VersioningStatus): Promise<BucketRow> {
    const bucket = await this.require(name);
    if (bucket.objectLock && status !== 'Enabled') {
      throw new S3Error('InvalidBucketState', { BucketName: name }, 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    }
    await this.store.buckets.setVersioning(bucket.id, status);
    return this.require(name);
  }

  /**
   * PutObjectLockConfiguration: the default retention of a bucket created with object lock
   * (InvalidBucketState for any other: lock cannot be turned on later here).
   */
  async setLockConfiguration(name: string, rule: { mode: LockMode; days?: number; years?: number } | null): Promise<BucketRow> {
    const bucket = await this.require(name);
    if (!bucket.objectLock) throw new S3Error('InvalidBucketState', { BucketName: name }, 'Object Lock configuration cannot be enabled on existing buckets');
    await this.store.buckets.setLockDefault(bucket.id, rule);
    return this.require(name);
  }

  /** PutBucketEncryption: the default for new writes; SSE-S3 needs the server's keys (NotImplemented without). */
  async setDefaultEncryption(name: string, algorithm: 'AES256' | null, serverKeys: boolean): Promise<void> {
    const bucket = await this.require(name);
    if (algorithm && !serverKeys) throw new S3Error('NotImplemented', {}, NO_SERVER_KEY);
    await this.store.buckets.setDefaultEncryption(bucket.id, algorithm);
  }

  /** GetBucketEncryption: ServerSideEncryptionConfigurationNotFoundError when none is set. */
  async defaultEncryption(name: string): Promise<'AES256'> {
    const bucket = await this.require(name);
    if (!bucket.defaultEncryption) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', { BucketName: name });
    return bucket.defaultEncryption;
  }

  /** GetBucketCors: NoSuchCORSConfiguration when the bucket has none. */
  async getCors(name: string): Promise<CorsRule[]> {
    const bucket = await this.require(name);
    const rules = await this.store.buckets.getCors(bucket.id);
    if (!rules) throw new S3Error('NoSuchCORSConfiguration');
    return rules;
  }

  /** The bucket's CORS rules, undefined when it has none (preflights and requests with an Origin). */
  corsRules(bucket: BucketRow): Promise<CorsRule[] | undefined> {
    return this.store.buckets.getCors(bucket.id);
  }

  corsRulesByName(name: string): Promise<CorsRule[] | undefined> {
    return this.store.buckets.getCorsByName(name);
  }

  /** PutBucketCors with rules parsed and validated by src/s3/cors.ts. */
  async putCors(name: string, rules: CorsRule[]): Promise<void> {
    const bucket = await this.require(name);
    if (!(await this.store.buckets.putCors(bucket.id, rules))) throw new S3Error('NoSuchBucket', { BucketName: bucket.name });
  }

  async deleteCors(name: string): Promise<void> {
    const bucket = await this.require(name);
    await this.store.buckets.deleteCors(bucket.id);
  }

  /** GetBucketLifecycleConfiguration: NoSuchLifecycleConfiguration when the bucket has none. */
  async getLifecycle(name: string): Promise<LifecycleConfig> {
    const bucket = await this.require(name);
    const config = storedLifecycle(bucket.lifecycle);
    if (!config) throw new S3Error('NoSuchLifecycleConfiguration', { BucketName: name });
    return config;
  }

  /** PutBucketLifecycleConfiguration with rules parsed and validated by src/s3/lifecycle.ts (replaces the old ones). */
  async putLifecycle(name: string, config: LifecycleConfig): Promise<void> {
    const bucket = await this.require(name);
    await this.store.buckets.setLifecycle(bucket.id, serializeLifecycle(config));
  }

  async deleteLifecycle(name: string): Promise<void> {
    const bucket = await this.require(name);
    await this.store.buckets.setLifecycle(bucket.id, null);
  }

  /**
   * Lets browsers at `origins` use the bucket (the web console's uploads and downloads): a rule
   * allowing every method the console uses and any header, exposing ETag (multipart parts),
   * after the bucket's other rules; nothing changes when every origin is allowed already. The
   * result is the document PutBucketCors would store, checked by the same parser.
   */
  async allowOrigins(name: string, origins: string[]): Promise<void> {
    const bucket = await this.require(name);
    const current = (await this.store.buckets.getCors(bucket.id)) ?? [];
    const allowed = new Set(current.flatMap((r) => r.allowedOrigins));
    if (current.length > 0 && origins.every((o) => allowed.has(o))) return;
    const rule: CorsRule = {
      allowedOrigins: origins,
      allowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag', 'x-amz-request-id'],
      maxAgeSeconds: 3600,
    };
    await this.putCors(name, parseCorsConfiguration(corsConfigurationXml([...current, rule])));
  }
}
