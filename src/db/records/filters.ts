import type { Column, SQL, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { z } from 'zod';

// The records filters, defined once: each one's parameter name, how it parses (zod), how it
// compiles to SQL, its `cairn find` flag and help, and its field on the console's search page.
// query.ts builds the admin API's parser from it, compile.ts the SQL (with each engine's SqlKit:
// objects.ts for SQLite, src/db/pg/records for PostgreSQL), src/commands/find.ts the
// flags, console/src/lib/search.ts the form. Adding a filter is an entry here (and
// docs/admin-contract.md, and a test).
//
// The web console bundles this file too (vite), so it imports nothing at run time: zod and
// drizzle reach the `parse` and `where` functions as kits (ParseKit, SqlKit) from the node side.
// Keep it that way: no value imports, no node APIs.

export const SORT_FIELDS = ['key', 'size', 'modified'] as const;
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export type SortOrder = (typeof SORT_ORDERS)[number];

/** The algorithms a checksum filter names (query.ts checks them against s3/checksums.ts). */
export const CHECKSUM_FILTERS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

/** The zod pieces a filter's parser is made of (query.ts supplies them). */
export interface ParseKit {
  z: typeof z;
  /** Bytes, or a size with a unit (10MiB) -> a safe integer. */
  size: z.ZodType<number, string>;
  /** An ISO 8601 date, or a date-time with a zone -> a Date. */
  time: z.ZodType<Date, string>;
  nonEmpty: z.ZodString;
  /** A switch: 'true' or 'false' -> a boolean. */
  flag: z.ZodType<boolean, string>;
}

/** The objects table's columns a filter may test: each engine hands over its table itself. */
export type FilterColumn =
  | 'id'
  | 'bucketId'
  | 'key'
  | 'size'
  | 'lastModified'
  | 'contentType'
  | 'etag'
  | 'userMetadata'
  | 'checksumAlgorithm'
  | 'lockMode'
  | 'lockUntil'
  | 'legalHold'
  | 'ownerId'
  | 'encryption';

/** The SQL pieces a filter compiles to (each engine supplies them, bound to one database). */
export interface SqlKit {
  objects: Record<FilterColumn, Column>;
  eq: typeof eq;
  gte: typeof gte;
  lt: typeof lt;
  lte: typeof lte;
  sql: typeof sql;
  /** Values starting with `prefix`: the index range [prefix, the next prefix). */
  startsWith(column: Column, prefix: string): SQL[];
  /** A bucket's id by name; undefined when there is none. */
  bucketId(name: string): number | undefined;
  /** An account's canonical id, from its id or its name; undefined when there is none. */
  accountId(idOrName: string): string | undefined;
  /** The query's clock (ms): one value for every condition of one query. */
  now: number;
  // Where the engines' SQL differs (SQLite stores booleans as 0/1 and JSON as text; PostgreSQL
  // has real booleans and jsonb), the kit says it, so each filter is still written once.
  /** The row is a current version. */
  current: SQL;
  /** A boolean column is true. */
  isTrue(column: Column): SQL;
  /** `text` occurs in the column: exact and case-sensitive, like keys (LIKE is neither). */
  contains(column: Column, text: string): SQL;
  /** The string member `name` of a JSON object column (`name` is a header token: nothing to escape). */
  jsonMember(column: Column, name: string): SQL;
}

/** What a filter adds to the WHERE clause: conditions (ANDed), nothing, or NO_MATCH (no row can match). */
export type Where = SQL | SQL[] | undefined | typeof NO_MATCH;
export const NO_MATCH = 'no-match' as const;

interface FilterBase {
  /** `cairn find --<name in kebab case> <arg>` (no arg for a switch), and its help line. */
  cli: { arg?: string; help: string; short?: string };
  /** A field on the console's search page; the URL (and form) name is the filter's unless `name` says. */
  form?: { label: string; name?: string; attrs?: Record<string, string> };
}

/** One query parameter, one value. */
export interface ValueFilter<Z extends z.ZodType = z.ZodType> extends FilterBase {
  kind: 'value';
  /**
   * How people type it, for the CLI and the console: a size (10MiB: the CLI sends bytes, the
   * console strips spaces), a time (the CLI also takes a duration meaning "that long ago"), or a
   * switch (a flag without a value in the CLI, a checkbox in the console; `true` in the URL).
   */
  input: 'text' | 'size' | 'time' | 'switch';
  parse: (k: ParseKit) => Z;
  /** Called only when the parameter has a value (given, or the parser's default). */
  where: (value: NonNullable<z.output<Z>>, k: SqlKit) => Where;
}

/** Name/value pairs: `<filter>.<name>=<value>` parameters, `--<filter> name=value` (repeatable). */
export interface PairsFilter extends FilterBase {
  kind: 'pairs';
  /** Valid names (checked lower-cased unless `keepCase`: tag keys are case-sensitive), and what a bad one is told. */
  names: { pattern: RegExp; error: string; keepCase?: boolean };
  where: (pairs: Record<string, string>, k: SqlKit) => Where;
}

export type FilterDef = ValueFilter | PairsFilter;

// Helpers that keep each definition's exact type: ObjectQuery (query.ts) is inferred from the zod
// parsers, and the search form's fields (console) from which filters have a `form`.
const value = <Z extends z.ZodType, const B extends FilterBase>(f: B & Omit<ValueFilter<Z>, 'kind'>): B & ValueFilter<Z> => ({ kind: 'value', ...f });
const pairs = <const B extends FilterBase>(f: B & Omit<PairsFilter, 'kind'>): B & PairsFilter => ({ kind: 'pairs', ...f });

/** In this order: `cairn find --help`, the SQL conditions, the search form's URL parameters. */
export const FILTERS = {
  bucket: value({
    input: 'text',
    cli: { short: 'b', arg: 'name', help: 'only this bucket' },
    parse: (k) => k.nonEmpty.optional(),
    where: (name, k) => {
      const id = k.bucketId(name);
      return id === undefined ? NO_MATCH : k.eq(k.objects.bucketId, id);
    },
  }),
  // A version's owner is its writer when that is not the bucket's owner (objects.owner_id), else
  // the bucket's owner (owner_id null): both halves, the bucket half through the buckets it owns.
  owner: value({
    input: 'text',
    cli: { arg: 'account', help: "versions owned by this account (its name or canonical id): the writer's, else the bucket owner's" },
    form: { label: 'Owner (account)', attrs: { placeholder: 'alice' } },
    parse: (k) => k.nonEmpty.optional(),
    where: (idOrName, k) => {
      const id = k.accountId(idOrName);
      if (id === undefined) return NO_MATCH;
      const owner = k.objects.ownerId;
      return k.sql`(${owner} = ${id} or (${owner} is null and ${k.objects.bucketId} in (select id from buckets where owner_id = ${id})))`;
    },
  }),
  prefix: value({
    input: 'text',
    cli: { short: 'p', arg: 'prefix', help: 'keys starting with this (use with --bucket)' },
    form: { label: 'Prefix (folder)', attrs: { placeholder: 'photos/2026/' } },
    parse: (k) => k.z.string().optional(),
    where: (prefix, k) => (prefix ? k.startsWith(k.objects.key, prefix) : undefined),
  }),
  contains: value({
    input: 'text',
    cli: { arg: 'text', help: 'keys containing this text' },
    form: { label: 'Name contains', attrs: { placeholder: 'cat' } },
    parse: (k) => k.z.string().optional(),
    // Substrings cannot use an index.
    where: (text, k) => (text ? k.contains(k.objects.key, text) : undefined),
  }),
  minSize: value({
    input: 'size',
    cli: { arg: 'size', help: 'at least this size: bytes or 10MiB, 512k, 1GiB' },
    form: { label: 'Min size', attrs: { placeholder: '10MiB', inputmode: 'text' } },
    parse: (k) => k.size.optional(),
    where: (n, k) => k.gte(k.objects.size, n),
  }),
  maxSize: value({
    input: 'size',
    cli: { arg: 'size', help: 'at most this size' },
    form: { label: 'Max size', attrs: { placeholder: '1GiB' } },
    parse: (k) => k.size.optional(),
    where: (n, k) => k.lte(k.objects.size, n),
  }),
  // After is inclusive, before exclusive: consecutive ranges tile without overlap.
  modifiedAfter: value({
    input: 'time',
    cli: { arg: 'when', help: 'modified at or after: 2024-05-01, 2024-05-01T12:00:00Z, or a duration ago (7d, 12h)' },
    form: { label: 'Modified from', attrs: { type: 'date' } },
    parse: (k) => k.time.optional(),
    where: (t, k) => k.gte(k.objects.lastModified, t.getTime()),
  }),
  modifiedBefore: value({
    input: 'time',
    cli: { arg: 'when', help: 'modified before (same forms)' },
    form: { label: 'Modified before', attrs: { type: 'date' } },
    parse: (k) => k.time.optional(),
    where: (t, k) => k.lt(k.objects.lastModified, t.getTime()),
  }),
  contentType: value({
    input: 'text',
    cli: { arg: 'type', help: 'content type, e.g. image/png, or image/* for every subtype' },
    form: { label: 'Type', attrs: { placeholder: 'image/*' } },
    parse: (k) => k.nonEmpty.optional(),
    where: (type, k) => (type.endsWith('/*') ? k.startsWith(k.objects.contentType, type.slice(0, -1)) : k.eq(k.objects.contentType, type)),
  }),
  etag: value({
    input: 'text',
    cli: { arg: 'etag', help: 'exact ETag (quotes optional)' },
    // Normalized to the stored form: quoted, lower-case hex.
    parse: (k) =>
      k.z
        .string()
        .regex(/^"?[0-9a-fA-F]{32}(-\d+)?"?$/, 'an ETag: 32 hex digits, optionally -<parts>, quotes optional')
        .transform((v) => `"${v.replace(/"/g, '').toLowerCase()}"`)
        .optional(),
    where: (etag, k) => k.eq(k.objects.etag, etag),
  }),
  meta: pairs({
    cli: { arg: 'name=value', help: 'user metadata x-amz-meta-<name> equals value (repeatable)' },
    form: { label: 'Metadata', name: 'metadata', attrs: { placeholder: 'camera=x100; album=trip' } },
    // Header field-name characters: metadata names are x-amz-meta-<name> headers, stored lower-case.
    names: { pattern: /^[a-z0-9!#$%&'*+.^_`|~-]+$/, error: 'a metadata name (the part after x-amz-meta-)' },
    where: (meta, k) => Object.entries(meta).map(([name, v]) => k.sql`${k.jsonMember(k.objects.userMetadata, name)} = ${v}`),
  }),
  // Each tag is one seek of object_tags_key_value (key, value, object_id); several are ANDed.
  tag: pairs({
    cli: { arg: 'key=value', help: 'versions tagged key=value (repeatable: every tag must match)' },
    form: { label: 'Tags', attrs: { placeholder: 'project=blue; env=prod' } },
    // S3's tag key characters (src/s3/tagging.ts), as written: tag keys are case-sensitive.
    names: { pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, error: 'a tag key (1-128 letters, digits, spaces and _ . : / = + - @)', keepCase: true },
    where: (tags, k) => Object.entries(tags).map(([key, v]) => k.sql`${k.objects.id} in (select object_id from object_tags where key = ${key} and value = ${v})`),
  }),
  checksumAlgorithm: value({
    input: 'text',
    cli: { arg: 'alg', help: `objects stored with this checksum: ${CHECKSUM_FILTERS.join(', ')}, or NONE` },
    // NONE: objects stored without one.
    parse: (k) =>
      k.z
        .string()
        .transform((v) => v.toUpperCase())
        .pipe(k.z.enum([...CHECKSUM_FILTERS, 'NONE'], { error: `one of ${CHECKSUM_FILTERS.join(', ')}, NONE` }))
        .optional(),
    where: (alg, k) => (alg === 'NONE' ? k.sql`${k.objects.checksumAlgorithm} is null` : k.eq(k.objects.checksumAlgorithm, alg)),
  }),
  // One word per mode, as the records show it (encryption.ts); AES256 is S3's header value for SSE-S3.
  encryption: value({
    input: 'text',
    cli: { arg: 'mode', help: 'encrypted at rest with: SSE-S3 (or AES256), SSE-C, or none' },
    form: { label: 'Encryption', attrs: { placeholder: 'SSE-S3, SSE-C or none' } },
    parse: (k) =>
      k.z
        .string()
        .transform((v) => ({ 'sse-s3': 'AES256', aes256: 'AES256', 'sse-c': 'SSE-C', none: 'none' })[v.trim().toLowerCase()] ?? v)
        .pipe(k.z.enum(['AES256', 'SSE-C', 'none'], { error: 'one of SSE-S3 (or AES256), SSE-C, none' }))
        .optional(),
    where: (mode, k) => (mode === 'none' ? k.sql`${k.objects.encryption} is null` : k.eq(k.objects.encryption, mode)),
  }),
  // A row per version: without the switch only current objects, as GET and ListObjects see them.
  versions: value({
    input: 'switch',
    cli: { help: 'every version and delete marker, not only current objects' },
    form: { label: 'Every version and delete marker' },
    parse: (k) => k.flag.default(false),
    where: (all, k) => (all ? undefined : k.current),
  }),
  locked: value({
    input: 'switch',
    cli: { help: 'only versions under retention (retain-until still ahead) or a legal hold' },
    form: { label: 'Locked (retention or legal hold)' },
    parse: (k) => k.flag.optional(),
    where: (on, k) => {
      const held = k.sql`(${k.isTrue(k.objects.legalHold)} or (${k.objects.lockMode} is not null and ${k.objects.lockUntil} > ${k.now}))`;
      return on ? held : k.sql`not ${held}`;
    },
  }),
};

type Filters = typeof FILTERS;
export type FilterName = keyof Filters;
export type ValueFilterName = { [K in FilterName]: Filters[K] extends PairsFilter ? never : K }[FilterName];
export type PairsFilterName = Exclude<FilterName, ValueFilterName>;

/** What the filters parse to (absent when not given), for the rules below. */
type Parsed = { [K in ValueFilterName]?: NonNullable<z.output<ReturnType<Filters[K]['parse']>>> };

/** Rules across filters, checked after each has parsed: a broken one is a bad `field`. */
export const FILTER_RULES: Array<{ field: ValueFilterName; message: string; broken: (q: Parsed) => boolean }> = [
  { field: 'maxSize', message: 'smaller than minSize', broken: (q) => q.minSize !== undefined && q.maxSize !== undefined && q.minSize > q.maxSize },
  { field: 'modifiedBefore', message: 'not after modifiedAfter', broken: (q) => !!q.modifiedAfter && !!q.modifiedBefore && q.modifiedAfter >= q.modifiedBefore },
];

/** The entries in definition order, for code that walks every filter. */
export const FILTER_LIST = Object.entries(FILTERS).map(([name, def]) => ({ name, def: def as FilterDef })) as Array<{ name: FilterName; def: FilterDef }>;

/** --min-size for minSize: the CLI flag of a filter (commander maps it back to the name). */
export function filterFlag(name: string): string {
  return '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * The search page's fields top to bottom (a layout choice, so not the definition order, which
 * stays the URL's parameter order). Every filter with a `form` must be listed: checked below.
 */
export const SEARCH_PAGE_ORDER = [
  'contains',
  'prefix',
  'minSize',
  'maxSize',
  'modifiedAfter',
  'modifiedBefore',
  'contentType',
  'owner',
  'encryption',
  'meta',
  'tag',
  'versions',
  'locked',
] as const satisfies readonly FilterName[];
/** The filters offered on the search page. */
export type FormFilterName = { [K in FilterName]: Filters[K] extends { form: object } ? K : never }[FilterName];
// A compile error here names a filter with a form that the page does not lay out, or the reverse.
type Nothing<T extends never> = T;
export type SearchPageOrderIsComplete = Nothing<Exclude<FormFilterName, (typeof SEARCH_PAGE_ORDER)[number]> | Exclude<(typeof SEARCH_PAGE_ORDER)[number], FormFilterName>>;
