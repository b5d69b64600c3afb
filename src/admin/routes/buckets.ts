import { z } from 'zod';
import { canManageBuckets, canRead, canWrite, requireThat } from '../console.js';
import { adminErrorFor, readJson } from '../http.js';
import { who } from '../auth.js';
import { parseBody, requireBucket, type RegisterRoutes } from './common.js';

// Buckets: summaries, create, delete, public or private, CORS for the console's origin. Every
// change goes through BucketService, the rules the S3 listener applies.

const MANAGE = "(it needs write on every bucket, '*')";

export const registerBucketRoutes: RegisterRoutes = (router, deps, jobs) => {
  // Sums over every row: the store runs them off the event loop (src/db/records/aggregates.ts).
  router.get('/v1/buckets', async (ctx) => {
    const all = await deps.records.buckets();
    const p = who(ctx);
    ctx.body = { buckets: all.filter((b) => canRead(p, b.name)) };
  });

  router.post('/v1/buckets', async (ctx) => {
    requireThat(canManageBuckets(who(ctx)), `create buckets ${MANAGE}`);
    const body = parseBody(z.object({ name: z.string(), public: z.boolean().default(false), owner: z.string().optional() }), await readJson(ctx));
    try {
      await deps.accessControl.createBucket(body.name, { public: body.public, owner: body.owner });
    } catch (err) {
      throw adminErrorFor(err, 'name');
    }
    ctx.status = 201;
    ctx.body = await deps.records.bucket(body.name);
  });

  // S3's rule: uploads in progress are aborted with the bucket; objects keep it (409).
  router.delete('/v1/buckets/:name', async (ctx) => {
    requireThat(canManageBuckets(who(ctx)), `delete buckets ${MANAGE}`);
    await deps.buckets.delete(ctx.params.name!);
    ctx.status = 204;
  });

  router.put('/v1/buckets/:name/public', async (ctx) => {
    requireThat(canManageBuckets(who(ctx)), `make buckets public or private ${MANAGE}`);
    const bucket = await requireBucket(deps, ctx.params.name!);
    const body = parseBody(z.object({ public: z.boolean() }), await readJson(ctx));
    await deps.accessControl.setPublic(bucket.name, body.public);
    ctx.body = await deps.records.bucket(bucket.name);
  });

  // A bucket CORS rule for the console's origin, so the browser may upload and download over S3:
  // the same rule check as PutBucketCors (src/s3/cors.ts); a rule it refuses is 400 with S3's reason.
  router.put('/v1/buckets/:name/cors', async (ctx) => {
    const name = ctx.params.name!;
    requireThat(canWrite(who(ctx), name), `change bucket ${name}`);
    await requireBucket(deps, name);
    const origin = z.string().regex(/^https?:\/\/[^\s/<>&]+$|^\*$/, 'an origin such as http://nas.local:9001, or *');
    const body = parseBody(z.object({ origins: z.array(origin).min(1).max(20) }), await readJson(ctx));
    await deps.buckets.allowOrigins(name, body.origins);
    ctx.body = { bucket: name, origins: body.origins };
  });
};
