import { z } from 'zod';
import { QueryError } from '../../db/records/index.js';
import { NoSuchAccountError } from '../../store/accounts.js';
import { canManageBuckets, canWrite, requireThat } from '../console.js';
import { AdminError, adminErrorFor, readJson } from '../http.js';
import { who } from '../auth.js';
import { AdminAccess } from '../access.js';
import { parseBody, queryParams, requireBucket, type RegisterRoutes } from './common.js';

// Buckets: summaries, create, delete, public or private, CORS for the console's origin. Every
// change goes through BucketService and AccessControlService, the rules the S3 listener applies;
// an access key uses the buckets its grants and its account may (src/admin/access.ts).

const MANAGE = "(it needs write on every bucket, '*')";

export const registerBucketRoutes: RegisterRoutes = (router, deps) => {
  // Sums over every row: the store runs them off the event loop (src/db/records/aggregates.ts).
  router.get('/v1/buckets', async (ctx) => {
    const params = queryParams(ctx.querystring);
    for (const name of Object.keys(params)) if (name !== 'owner') throw new QueryError(name, `unknown parameter "${name}"`);
    if (params.owner === '') throw new QueryError('owner', 'must not be empty');
    const all = await deps.records.buckets(params.owner === undefined ? {} : { owner: params.owner });
    const readable = await new AdminAccess(ctx, deps).readable();
    ctx.body = { buckets: readable ? all.filter((b) => readable.has(b.name)) : all };
  });

  // For an account (default: the root account's); an access key creates for its own account, as
  // CreateBucket over S3 does.
  router.post('/v1/buckets', async (ctx) => {
    const p = who(ctx);
    requireThat(canManageBuckets(p), `create buckets ${MANAGE}`);
    const body = parseBody(z.object({ name: z.string(), public: z.boolean().default(false), owner: z.string().min(1, 'an account name or canonical id').optional() }), await readJson(ctx));
    let owner = body.owner;
    if (p.kind === 'key') {
      if (owner !== undefined && owner !== p.accountId) {
        const named = await deps.accounts?.require(owner).catch(() => undefined);
        requireThat(named?.id === p.accountId, `create buckets for another account (${owner})`);
      }
      owner = p.accountId;
    }
    try {
      await deps.accessControl.createBucket(body.name, { public: body.public, owner });
    } catch (err) {
      if (err instanceof NoSuchAccountError) throw new AdminError('BadRequest', err.message, 'owner');
      throw adminErrorFor(err, 'name');
    }
    ctx.status = 201;
    ctx.body = await deps.records.bucket(body.name);
  });

  // S3's rule: uploads in progress are aborted with the bucket; objects keep it (409).
  router.delete('/v1/buckets/:name', async (ctx) => {
    const name = ctx.params.name!;
    requireThat(canManageBuckets(who(ctx)), `delete buckets ${MANAGE}`);
    await new AdminAccess(ctx, deps).require('DeleteBucket', name, `delete bucket ${name} (another account owns it)`);
    await deps.buckets.delete(name);
    ctx.status = 204;
  });

  router.put('/v1/buckets/:name/public', async (ctx) => {
    const name = ctx.params.name!;
    requireThat(canManageBuckets(who(ctx)), `make buckets public or private ${MANAGE}`);
    await new AdminAccess(ctx, deps).require('PutBucketPolicy', name, `make bucket ${name} public or private (only its owner's keys may)`);
    const bucket = await requireBucket(deps, name);
    const body = parseBody(z.object({ public: z.boolean() }), await readJson(ctx));
    await deps.accessControl.setPublic(bucket.name, body.public);
    ctx.body = await deps.records.bucket(bucket.name);
  });

  // A bucket CORS rule for the console's origin, so the browser may upload and download over S3:
  // the same rule check as PutBucketCors (src/s3/cors.ts); a rule it refuses is 400 with S3's reason.
  router.put('/v1/buckets/:name/cors', async (ctx) => {
    const name = ctx.params.name!;
    requireThat(canWrite(who(ctx), name), `change bucket ${name}`);
    await new AdminAccess(ctx, deps).require('PutBucketCors', name, `change bucket ${name} (another account owns it)`);
    await requireBucket(deps, name);
    const origin = z.string().regex(/^https?:\/\/[^\s/<>&]+$|^\*$/, 'an origin such as http://nas.local:9001, or *');
    const body = parseBody(z.object({ origins: z.array(origin).min(1).max(20) }), await readJson(ctx));
    await deps.buckets.allowOrigins(name, body.origins);
    ctx.body = { bucket: name, origins: body.origins };
  });
};
