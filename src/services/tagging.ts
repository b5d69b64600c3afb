import { S3Error } from '../s3/errors.js';
import { decodeTags, validateTagSet } from '../s3/tagging.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { BucketRow, ObjectRow, TagSet } from '../store/types.js';
import type { ObjectService } from '../storage/object-service.js';
import type { BucketService } from './buckets.js';

// Object and bucket tags: one rule for the S3 handlers (Put/Get/DeleteObjectTagging,
// Put/Get/DeleteBucketTagging), the admin API, the CLI and the console. Who may call these is
// decided before (src/auth/access.ts); this checks S3's limits and names S3's errors.

export class TaggingService {
  constructor(
    private readonly store: MetadataStore,
    private readonly buckets: BucketService,
    private readonly objects: ObjectService,
  ) {}

  /** The tags of a version (the current one without versionId): NoSuchKey, NoSuchVersion, 405 for a delete marker. */
  async objectTags(bucketName: string, key: string, versionId: string | undefined): Promise<{ object: ObjectRow; tags: TagSet }> {
    const bucket = await this.buckets.require(bucketName);
    const object = await this.objects.headObject(bucket, key, versionId);
    return { object, tags: await this.tagsOf(object) };
  }

  /** A row's tags without a lookup when it has none. */
  async tagsOf(object: ObjectRow): Promise<TagSet> {
    return object.tagCount > 0 ? this.store.objects.getTags(object.id) : [];
  }

  /** For s3:ExistingObjectTag: the tags of the version a request names; undefined when there is none. */
  async existingTags(bucket: BucketRow, key: string, versionId: string | undefined): Promise<TagSet | undefined> {
    const row = versionId === undefined ? await this.store.objects.getForRead(bucket.id, key) : await this.store.objects.getVersion(bucket.id, key, versionId);
    return row && !row.deleteMarker ? this.tagsOf(row) : undefined;
  }

  /** PutObjectTagging (a set, validated here) and DeleteObjectTagging (null): the updated version. */
  async setObjectTags(bucketName: string, key: string, versionId: string | undefined, tags: TagSet | null): Promise<ObjectRow> {
    if (tags) validateTagSet(tags, 'object');
    const bucket = await this.buckets.require(bucketName);
    const row = await this.store.objects.setTags(bucket.id, key, versionId, tags);
    if (row) return row;
    // No such version: headObject names S3's error (NoSuchKey with the delete marker's headers, NoSuchVersion).
    await this.objects.headObject(bucket, key, versionId);
    throw new S3Error('NoSuchKey', { Key: key });
  }

  /** GetBucketTagging: NoSuchTagSet when the bucket has none. */
  async bucketTags(bucketName: string): Promise<TagSet> {
    const bucket = await this.buckets.require(bucketName);
    const tags = decodeTags(bucket.tags);
    if (tags.length === 0) throw new S3Error('NoSuchTagSet', { BucketName: bucketName });
    return tags;
  }

  /** PutBucketTagging (validated here) and DeleteBucketTagging (null). */
  async setBucketTags(bucketName: string, tags: TagSet | null): Promise<void> {
    if (tags) validateTagSet(tags, 'bucket');
    const bucket = await this.buckets.require(bucketName);
    await this.store.buckets.setTags(bucket.id, tags);
  }
}
