import type { Handler } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../../s3/errors.js';
import { validateBucketName } from '../../s3/names.js';
import { aclXml, locationXml, parseCreateBucketConfiguration, versioningXml } from '../../s3/xml.js';
import { readSmallBody } from '../body.js';

/** CreateBucket (PUT /bucket): optional CreateBucketConfiguration body, x-amz-acl private|public-read. */
export const createBucket: Handler = async (ctx, deps) => {
  const name = ctx.state.bucket!;
  validateBucketName(name);
  const acl = header(ctx, 'x-amz-acl') ?? 'private';
  if (acl !== 'private' && acl !== 'public-read') {
    throw new S3Error('NotImplemented', {}, `The canned ACL ${acl} is not supported; use private or public-read.`);
  }
  const { body } = await readSmallBody(ctx, 64 * 1024);
  const conf = parseCreateBucketConfiguration(body.toString('utf8'));
  const region = deps.config.region;
  // S3 rejects a LocationConstraint naming another region; us-east-1 is also sent as empty.
  if (conf.locationConstraint && conf.locationConstraint !== region && !(region === 'us-east-1' && conf.locationConstraint === 'US')) {
    throw new S3Error('InvalidArgument', { ArgumentName: 'LocationConstraint', ArgumentValue: conf.locationConstraint }, `The specified location-constraint is not valid for this endpoint (region ${region}).`);
  }
  if (!deps.repo.createBucket({ name, region, publicRead: acl === 'public-read' })) {
    throw new S3Error('BucketAlreadyOwnedByYou', { BucketName: name });
  }
  ctx.set('Location', `/${name}`);
  ctx.status = 200;
};

/** HeadBucket (HEAD /bucket). */
export const headBucket: Handler = async (ctx, deps) => {
  const bucket = deps.objects.requireBucket(ctx.state.bucket!);
  ctx.set('x-amz-bucket-region', bucket.region);
  ctx.status = 200;
};

/** DeleteBucket (DELETE /bucket): only an empty bucket. */
export const deleteBucket: Handler = async (ctx, deps) => {
  const bucket = deps.objects.requireBucket(ctx.state.bucket!);
  // Uploads in progress do not keep a bucket alive (as in S3): they are aborted with it.
  if (deps.repo.listKeys(bucket.id, '', undefined, 1).length === 0) {
    for (const u of deps.mp.listUploads(bucket.id, '', undefined, 10_000)) {
      await deps.multipart.abort(bucket, u.key, u.id).catch(() => undefined);
    }
  }
  if (deps.repo.deleteBucket(bucket.id) === 'not-empty') throw new S3Error('BucketNotEmpty', { BucketName: bucket.name });
  ctx.status = 204;
};

/** GetBucketLocation (GET /bucket?location). */
export const getBucketLocation: Handler = async (ctx, deps) => {
  const bucket = deps.objects.requireBucket(ctx.state.bucket!);
  ctx.type = 'application/xml';
  ctx.body = locationXml(bucket.region);
};

/** GetBucketVersioning (GET /bucket?versioning): cairn buckets are never versioned. */
export const getBucketVersioning: Handler = async (ctx, deps) => {
  deps.objects.requireBucket(ctx.state.bucket!);
  ctx.type = 'application/xml';
  ctx.body = versioningXml();
};

/** GetBucketAcl / GetObjectAcl: the owner has full control (public-read is not modelled as a grant here). */
export const getAcl: Handler = async (ctx, deps) => {
  const bucket = deps.objects.requireBucket(ctx.state.bucket!);
  if (ctx.state.key !== undefined) deps.objects.headObject(bucket, ctx.state.key);
  ctx.type = 'application/xml';
  ctx.body = aclXml(deps.owner);
};
