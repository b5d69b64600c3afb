import { z } from 'zod';
import { parseSize } from '../../config.js';
import type { ChecksumAlgorithm } from '../../s3/checksums.js';
import { decodeCursor } from './cursor.js';
import { QueryError } from './errors.js';
import {
  CHECKSUM_FILTERS,
  FILTER_LIST,
  FILTER_RULES,
  SORT_FIELDS,
  SORT_ORDERS,
  type FILTERS,
  type PairsFilterName,
  type ParseKit,
  type ValueFilterName,
} from './filters.js';

// A records query from query-string style parameters, validated once with the parsers the filters
// define (filters.ts), then compiled to SQL by objects.ts. The admin API and the CLI's local
// backend parse through here.

export type { SortField, SortOrder } from './filters.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

// The filters' algorithms must be ones cairn stores.
CHECKSUM_FILTERS satisfies readonly ChecksumAlgorithm[];

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

const flagParam = z.enum(['true', 'false'], { error: 'true or false' }).transform((v) => v === 'true');

const PARSE_KIT: ParseKit = { z, size: sizeParam, time: timeParam, nonEmpty, flag: flagParam };

// Each filter's own parser, keyed by its name: the exact zod types, so ObjectQuery is inferred.
type FilterShape = { [K in ValueFilterName]: ReturnType<(typeof FILTERS)[K]['parse']> };
const filterShape = Object.fromEntries(FILTER_LIST.flatMap(({ name, def }) => (def.kind === 'value' ? [[name, def.parse(PARSE_KIT)]] : []))) as FilterShape;

const querySchema = z.strictObject({
  ...filterShape,
  sort: z.enum(SORT_FIELDS, { error: 'key, size or modified' }).default('key'),
  order: z.enum(SORT_ORDERS, { error: 'asc or desc' }).default('asc'),
  cursor: nonEmpty.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, `a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.number().min(1, 'at least 1').max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
    .default(DEFAULT_LIMIT),
});

/** A parsed query: every filter as its parser outputs it (pairs filters as name -> value), sorting and paging. */
export type ObjectQuery = z.output<typeof querySchema> & { [K in PairsFilterName]?: Record<string, string> };

const PAIRS_FILTERS = new Map(FILTER_LIST.flatMap(({ name, def }) => (def.kind === 'pairs' ? [[name, def] as const] : [])));

/** From query-string style params (meta.<name>=<value> included). Throws QueryError naming the field. */
export function parseObjectQuery(params: Record<string, string | undefined>): ObjectQuery {
  const plain: Record<string, string> = {};
  const pairs = new Map<PairsFilterName, Record<string, string>>();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const filter = name.slice(0, Math.max(0, name.indexOf('.'))) as PairsFilterName;
    const def = PAIRS_FILTERS.get(filter);
    if (def) {
      const raw = name.slice(filter.length + 1);
      const pairName = def.names.keepCase ? raw : raw.toLowerCase();
      if (!def.names.pattern.test(pairName)) throw new QueryError(name, def.names.error);
      pairs.set(filter, { ...pairs.get(filter), [pairName]: value });
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
  for (const [name, values] of pairs) q[name] = values;
  for (const rule of FILTER_RULES) if (rule.broken(q)) throw new QueryError(rule.field, rule.message);
  if (q.cursor !== undefined) decodeCursor(q.cursor, q);
  return q;
}
