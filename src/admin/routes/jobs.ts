import { z } from 'zod';
import { isAdmin, requireThat } from '../console.js';
import { AdminError, readJson } from '../http.js';
import { who } from '../auth.js';
import { parseBody, type RegisterRoutes } from './common.js';
import { LifecycleBusyError } from '../../storage/lifecycle.js';
import { S3Error } from '../../s3/errors.js';

// GC and verify (scrub) runs, one of each at a time (src/admin/jobs.ts), recorded in /metrics.

export const registerJobRoutes: RegisterRoutes = (router, deps, jobs) => {
  router.post('/v1/gc', async (ctx) => {
    requireThat(isAdmin(who(ctx)), 'run garbage collection (the admin token or the root key pair can)');
    const gc = deps.gc;
    if (!gc) throw new AdminError('NotImplemented', 'garbage collection is not available in this build');
    const body = parseBody(z.object({ dryRun: z.boolean().default(false) }), await readJson(ctx));
    const result = await jobs.run('gc', (signal) => gc({ dryRun: body.dryRun, signal }));
    deps.metrics.recordGc(result);
    ctx.body = result;
  });

  // One lifecycle pass (`cairn lifecycle run` against a server): the same engine as its worker.
  router.post('/v1/lifecycle', async (ctx) => {
    requireThat(isAdmin(who(ctx)), 'run a lifecycle pass (the admin token or the root key pair can)');
    const lifecycle = deps.lifecycle;
    if (!lifecycle) throw new AdminError('NotImplemented', 'lifecycle passes are not available in this build');
    const body = parseBody(z.object({ dryRun: z.boolean().default(false), at: z.iso.datetime({ offset: true }).optional(), bucket: z.string().min(1).optional() }), await readJson(ctx));
    try {
      ctx.body = await jobs.run('lifecycle', (signal) => lifecycle({ dryRun: body.dryRun, now: body.at === undefined ? undefined : Date.parse(body.at), bucket: body.bucket, signal }));
    } catch (err) {
      if (err instanceof LifecycleBusyError) throw new AdminError('Conflict', err.message);
      if (err instanceof S3Error && err.code === 'NoSuchBucket') throw new AdminError('NotFound', `no bucket ${body.bucket}`);
      throw err;
    }
  });

  router.post('/v1/verify', async (ctx) => {
    const scrub = deps.scrub;
    if (!scrub) throw new AdminError('NotImplemented', 'verify (scrub) is not available in this build');
    requireThat(isAdmin(who(ctx)), 'run verify (the admin token or the root key pair can)');
    const body = parseBody(z.object({ quarantine: z.boolean().default(true), background: z.boolean().default(false) }), await readJson(ctx));
    if (body.background) {
      // Answer at once; GET /v1/verify reports progress and, at the end, the result.
      const state = jobs.startVerify(
        (signal, onProgress) => scrub({ quarantine: body.quarantine, signal, onProgress }),
        (result) => deps.metrics.recordScrub(result),
      );
      ctx.status = 202;
      ctx.body = state;
      return;
    }
    const result = await jobs.run('verify', (signal) => scrub({ quarantine: body.quarantine, signal }));
    deps.metrics.recordScrub(result);
    ctx.body = result;
  });

  router.get('/v1/verify', (ctx) => {
    requireThat(isAdmin(who(ctx)), 'run verify (the admin token or the root key pair can)');
    ctx.body = jobs.verifyState();
  });
};
