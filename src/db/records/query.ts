import { z } from 'zod';
import { parseSize } from '../../config.js';
import type { ChecksumAlgorithm } from '../../s3/checksums.js';
import { decodeCursor } from './cursor.js';
import { QueryError } from './errors.js';

// A records query from query-string style parameters: validated once (zod), then compiled to SQL
// by objects.ts. The admin API and the CLI (local and remote) parse through here.

export type SortField = 'key' | 'size' | 'modified';
export type SortOrder = 'asc' | 'desc';

export interface ObjectQuery {
  bucket?: string;
  prefix?: string;
  contains?: string;
  minSize?: number;
  maxSize?: number;
  /** Inclusive: last modified at or after this instant. */
  modifiedAfter?: Date;
  /** Exclusive: last modified strictly before this instant (after/before tile without overlap). */
  modifiedBefore?: Date;
  /** Exact media type, or `type/*` for every subtype. */
  contentType?: string;
  /** Normalized to the stored form: quoted, lower-case hex. */
  etag?: string;
  meta?: Record<string, string>;
  /** An S3 checksum algorithm, or NONE for objects stored without one. */
  checksumAlgorithm?: string;
  sort: SortField;
  order: SortOrder;
  cursor?: string;
  limit: number;
}

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

const CHECKSUM_FILTERS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const satisfies readonly ChecksumAlgorithm[];
// Header field-name characters: metadata names are x-amz-meta-<name> headers, stored lower-case.
const META_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

const sizeParam = z.string().transform((v, ctx) => {
  try {
    const n = parseSize(v);
    if (Number.isSafeInteger(n)) return n;
    ctx.addIssue({ code: 'custom', message: 'too large' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a size: "${v}" (bytes, or a unit such as 10MiB)` });
  }
  return z.NEVER;
});

const timeParam = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'an ISO 8601 date or date-time with a time zone, e.g. 2024-05-01 or 2024-05-01T12:00:00Z',
  })
  .transform((v) => new Date(v));

const nonEmpty = z.string().min(1, 'must not be empty');

const querySchema = z.strictObject({
  bucket: nonEmpty.optional(),
  prefix: z.string().optional(),
  contains: z.string().optional(),
  minSize: sizeParam.optional(),
  maxSize: sizeParam.optional(),
  modifiedAfter: timeParam.optional(),
  modifiedBefore: timeParam.optional(),
  contentType: nonEmpty.optional(),
  etag: z
    .string()
    .regex(/^"?[0-9a-fA-F]{32}(-\d+)?"?$/, 'an ETag: 32 hex digits, optionally -<parts>, quotes optional')
    .transform((v) => `"${v.replace(/"/g, '').toLowerCase()}"`)
    .optional(),
  checksumAlgorithm: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum([...CHECKSUM_FILTERS, 'NONE'], { error: `one of ${CHECKSUM_FILTERS.join(', ')}, NONE` }))
    .optional(),
  sort: z.enum(['key', 'size', 'modified'], { error: 'key, size or modified' }).default('key'),
  order: z.enum(['asc', 'desc'], { error: 'asc or desc' }).default('asc'),
  cursor: nonEmpty.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, `a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.number().min(1, 'at least 1').max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
    .default(DEFAULT_LIMIT),
});

/** From query-string style params (meta.<name>=<value> included). Throws QueryError naming the field. */
export function parseObjectQuery(params: Record<string, string | undefined>): ObjectQuery {
  const plain: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (name.startsWith('meta.')) {
      const metaName = name.slice(5).toLowerCase();
      if (!META_NAME.test(metaName)) throw new QueryError(name, 'a metadata name (the part after x-amz-meta-)');
      meta[metaName] = value;
    } else {
      plain[name] = value;
    }
  }
  const parsed = querySchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new QueryError(issue.keys[0]!, `unknown parameter "${issue.keys[0]}"`);
    throw new QueryError(String(issue.path[0] ?? 'query'), issue.message);
  }
  const q: ObjectQuery = { ...parsed.data };
  for (const k of Object.keys(q) as Array<keyof ObjectQuery>) if (q[k] === undefined) delete q[k];
  if (Object.keys(meta).length > 0) q.meta = meta;
  if (q.minSize !== undefined && q.maxSize !== undefined && q.minSize > q.maxSize) throw new QueryError('maxSize', 'smaller than minSize');
  if (q.modifiedAfter && q.modifiedBefore && q.modifiedAfter >= q.modifiedBefore) throw new QueryError('modifiedBefore', 'not after modifiedAfter');
  if (q.cursor !== undefined) decodeCursor(q.cursor, q);
  return q;
}
