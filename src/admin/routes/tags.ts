import type Koa from 'koa';
import { z } from 'zod';
import { S3Error } from '../../s3/errors.js';
import type { TagSet } from '../../store/types.js';
import { requireThat } from '../console.js';
import { AdminAccess } from '../access.js';
import { AdminError, readJson } from '../http.js';
import { objectPath, parseBody, queryParams, requireBucket, type AdminDeps, type RegisterRoutes } from './common.js';
import { QueryError } from '../../db/records/index.js';

// An object version's tags for the console and scripts, through TaggingService: the same limits
// and errors as S3's Put/GetObjectTagging (an invalid set is 400 with S3's reason), and the same
// authorization (the key's grant, the bucket's owner or policy).
//   GET /v1/objects/{bucket}/{key}?tags[&versionId=V]  -> { bucket, key, versionId, tags: [{key, value}] }
//   PUT /v1/objects/{bucket}/{key}?tags[&versionId=V]  { tags: [{key, value}] } ([] removes them)

const OBJECT_PATH = /^\/v1\/objects\/[^/]+\/./;

function target(ctx: Koa.Context): { bucket: string; key: string; versionId: string | undefined } {
  const { bucket, key } = objectPath(ctx.path);
  const params = queryParams(ctx.querystring);
  for (const name of Object.keys(params)) if (name !== 'versionId' && name !== 'tags') throw new QueryError(name, `unknown parameter "${name}"`);
  if (params.tags !== '') throw new QueryError('tags', 'takes no value (?tags)');
  if (params.versionId === '') throw new QueryError('versionId', 'must not be empty');
  return { bucket, key, versionId: params.versionId };
}

const asPairs = (tags: TagSet) => tags.map(([key, value]) => ({ key, value }));

async function answer(deps: AdminDeps, bucket: string, key: string, versionId: string | undefined) {
  const { object, tags } = await deps.tagging!.objectTags(bucket, key, versionId);
  return { bucket, key, versionId: object.versionId, tags: asPairs(tags) };
}

/** A delete marker has no tags: 404 here, as the console shows versions, not S3's 405. */
async function noMarker<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') throw new AdminError('NotFound', 'a delete marker has no tags');
    throw err;
  }
}

export const registerTagRoutes: RegisterRoutes = (router, deps) => {
  // Only with ?tags: the object routes (objects.ts) answer the rest of GET and nothing else.
  router.get(OBJECT_PATH, async (ctx, next) => {
    if (!/(^|&)tags(=|&|$)/.test(ctx.querystring)) return next();
    const t = target(ctx);
    if (!deps.tagging) throw new AdminError('NotImplemented', 'tags are not served here');
    const bucket = await requireBucket(deps, t.bucket);
    const access = new AdminAccess(ctx, deps);
    requireThat(await access.mayTagObject('GetObjectTagging', bucket, t.key, t.versionId, undefined, tagLookups(deps)), `read the tags of ${t.bucket}/${t.key}`);
    ctx.body = await noMarker(answer(deps, bucket.name, t.key, t.versionId));
  });

  router.put(OBJECT_PATH, async (ctx) => {
    const t = target(ctx);
    if (!deps.tagging) throw new AdminError('NotImplemented', 'tags are not served here');
    const body = parseBody(z.object({ tags: z.array(z.object({ key: z.string(), value: z.string() })).max(1000) }), await readJson(ctx));
    const tags: TagSet = body.tags.map((p) => [p.key, p.value]);
    const bucket = await requireBucket(deps, t.bucket);
    const access = new AdminAccess(ctx, deps);
    requireThat(await access.mayTagObject('PutObjectTagging', bucket, t.key, t.versionId, tags, tagLookups(deps)), `change the tags of ${t.bucket}/${t.key}`);
    const row = await noMarker(deps.tagging.setObjectTags(bucket.name, t.key, t.versionId, tags.length > 0 ? tags : null));
    ctx.body = await answer(deps, bucket.name, t.key, row.versionId);
  });
};

/** The version's tags for a policy that tests s3:ExistingObjectTag. */
function tagLookups(deps: AdminDeps) {
  return {
    bucket: (name: string) => deps.buckets.find(name),
    object: async () => undefined,
    tags: (bucket: Parameters<NonNullable<AdminDeps['tagging']>['existingTags']>[0], key: string, versionId: string | undefined) => deps.tagging!.existingTags(bucket, key, versionId),
  };
}
