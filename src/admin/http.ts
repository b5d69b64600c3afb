import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { QueryError } from '../db/records/index.js';
import { S3Error } from '../s3/errors.js';
import { KeyValidationError } from '../services/keys.js';
import { AccountValidationError, NoSuchAccountError } from '../store/accounts.js';

// JSON plumbing of the admin API: one error shape, one place that writes it, small JSON bodies.
// Errors never carry paths, stacks or SQL: an unexpected one is logged and answered InternalError.

export type AdminErrorCode =
  | 'BadFilter'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'Conflict'
  | 'PayloadTooLarge'
  | 'NotImplemented'
  | 'InternalError';

const STATUS: Record<AdminErrorCode, number> = {
  BadFilter: 400,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PayloadTooLarge: 413,
  NotImplemented: 501,
  InternalError: 500,
};

export class AdminError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export function sendError(ctx: Koa.Context, code: AdminErrorCode, message: string, field?: string): void {
  ctx.status = STATUS[code];
  ctx.body = { error: { code, message, ...(field !== undefined ? { field } : {}) } };
}

/**
 * The admin API's answer for an error a service threw: its own codes and messages
 * (docs/admin-contract.md), not S3's. `field` names the body field the bucket name came from.
 * Anything else is returned as it is (the error middleware answers InternalError).
 */
export function adminErrorFor(err: unknown, field?: string): unknown {
  if (err instanceof KeyValidationError || err instanceof AccountValidationError) return new AdminError(err.conflict ? 'Conflict' : 'BadRequest', err.message, err.field);
  if (err instanceof NoSuchAccountError) return new AdminError('NotFound', err.message);
  if (!(err instanceof S3Error)) return err;
  const bucket = String(err.details.BucketName ?? '');
  switch (err.code) {
    case 'NoSuchBucket':
      return new AdminError('NotFound', 'no such bucket');
    case 'InvalidAccessKeyId':
      return new AdminError('NotFound', 'no such access key');
    case 'NoSuchKey':
      return new AdminError('NotFound', 'no such object');
    case 'NoSuchVersion':
      return new AdminError('NotFound', 'no such version');
    case 'InvalidBucketName':
      return new AdminError('BadRequest', `not a valid bucket name: "${bucket}"`, field);
    case 'BucketAlreadyExists':
    case 'BucketAlreadyOwnedByYou':
      return new AdminError('Conflict', `bucket ${bucket} already exists`, field);
    case 'BucketNotEmpty':
      return new AdminError('Conflict', `bucket ${bucket} is not empty (objects remain)`);
    case 'NotImplemented':
      return new AdminError('NotImplemented', err.message);
  }
  // The input was refused (a CORS rule the parser rejects, ...): S3's reason, for the caller.
  if (err.status >= 400 && err.status < 500) return new AdminError('BadRequest', `${err.message} (${err.code})`);
  return err;
}

/** Outermost middleware: maps thrown errors (and bodiless 404/405 from the router) to JSON. */
export function errorMiddleware(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) sendError(ctx, 'NotFound', 'no such endpoint');
        else if (ctx.status === 405) sendError(ctx, 'MethodNotAllowed', `${ctx.method} is not allowed here`);
      }
    } catch (thrown) {
      const err = adminErrorFor(thrown);
      if (err instanceof AdminError) return sendError(ctx, err.code, err.message, err.field);
      if (err instanceof QueryError) return sendError(ctx, 'BadFilter', `${err.field}: ${err.message}`, err.field);
      log.error({ err, method: ctx.method, path: ctx.path }, 'admin request failed');
      sendError(ctx, 'InternalError', 'internal error (see the server log)');
    }
  };
}

const MAX_BODY = 64 * 1024;

/**
 * Reads a small JSON object body; an empty body is {}. A SigV4-signed request that promised a body
 * hash (x-amz-content-sha256, kept in ctx.state.bodySha256 by the auth step) must match it.
 */
export async function readJson(ctx: Koa.Context): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AdminError('PayloadTooLarge', `the body is larger than ${MAX_BODY} bytes`);
    parts.push(chunk);
  }
  const raw = Buffer.concat(parts);
  const expected = (ctx.state as { bodySha256?: string }).bodySha256;
  if (expected !== undefined && createHash('sha256').update(raw).digest('hex') !== expected) {
    throw new AdminError('BadRequest', 'the body does not match its signed hash (x-amz-content-sha256)');
  }
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError('BadRequest', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminError('BadRequest', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
