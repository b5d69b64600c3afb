import { Option, type Command } from 'commander';
import type { ObjectSummary } from '../db/records/index.js';
import { parseDuration, parseSize } from '../config.js';
import { openBackend, type QueryParams } from './backend.js';
import { collect, handle, parsePositiveInt, usage, withTarget, type TargetFlags } from './common.js';
import { JsonArrayWriter, humanSize, humanTime, note, out, printJson } from './output.js';
import { PAGE_MAX, objectLine, pageObjects } from './ls.js';

interface FindFlags extends TargetFlags {
  bucket?: string;
  prefix?: string;
  contains?: string;
  minSize?: string;
  maxSize?: string;
  modifiedAfter?: string;
  modifiedBefore?: string;
  contentType?: string;
  etag?: string;
  meta?: string[];
  checksumAlgorithm?: string;
  sort?: string;
  order?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
  long?: boolean;
}

/** 10MiB, 512k, 1048576 -> bytes as a string (the API takes plain bytes). */
function size(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return String(parseSize(value));
  } catch (e) {
    throw usage(`${flag}: ${(e as Error).message}`);
  }
}

/** A duration means "that long ago" (7d, 12h, 30m); anything else goes to the query parser as is. */
export function timeArg(value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*(ms|s|m|h|d)\s*$/i.test(value)) return new Date(now - parseDuration(value)).toISOString();
  return value;
}

/** The flags as parseObjectQuery's query-string parameters (meta.<name>=<value> included). */
export function queryParams(f: FindFlags): QueryParams {
  const params: QueryParams = {
    bucket: f.bucket,
    prefix: f.prefix,
    contains: f.contains,
    minSize: size('--min-size', f.minSize),
    maxSize: size('--max-size', f.maxSize),
    modifiedAfter: timeArg(f.modifiedAfter),
    modifiedBefore: timeArg(f.modifiedBefore),
    contentType: f.contentType,
    etag: f.etag,
    checksumAlgorithm: f.checksumAlgorithm,
    sort: f.sort,
    order: f.order,
    cursor: f.cursor,
  };
  for (const m of f.meta ?? []) {
    const eq = m.indexOf('=');
    if (eq <= 0) throw usage(`--meta: expected name=value, got "${m}"`);
    params[`meta.${m.slice(0, eq).toLowerCase()}`] = m.slice(eq + 1);
  }
  for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
  return params;
}

function longLine(o: ObjectSummary): string {
  return `${humanTime(o.lastModified)}  ${humanSize(o.size).padStart(10)}  ${(o.contentType || '-').padEnd(24)}  ${o.etag.padEnd(36)}  ${o.bucket}/${o.key}\n`;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('find')
      .description('Find objects by bucket, prefix, name, size, date, content type, ETag, metadata or checksum (the admin API filters)')
      .option('-b, --bucket <name>', 'only this bucket')
      .option('-p, --prefix <prefix>', 'keys starting with this (use with --bucket)')
      .option('--contains <text>', 'keys containing this text')
      .option('--min-size <size>', 'at least this size: bytes or 10MiB, 512k, 1GiB')
      .option('--max-size <size>', 'at most this size')
      .option('--modified-after <when>', 'modified at or after: 2024-05-01, 2024-05-01T12:00:00Z, or a duration ago (7d, 12h)')
      .option('--modified-before <when>', 'modified before (same forms)')
      .option('--content-type <type>', 'content type, e.g. image/png, or image/* for every subtype')
      .option('--etag <etag>', 'exact ETag (quotes optional)')
      .option('--meta <name=value>', 'user metadata x-amz-meta-<name> equals value (repeatable)', collect)
      .option('--checksum-algorithm <alg>', 'objects stored with this checksum: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, or NONE')
      .addOption(new Option('--sort <field>', 'sort by (default key)').choices(['key', 'size', 'modified']))
      .addOption(new Option('--order <order>', 'sort order (default asc)').choices(['asc', 'desc']))
      .option('-n, --limit <n>', 'at most this many results (default 100); the cursor to continue is printed')
      .option('--all', 'every match (pages through with the cursor)')
      .option('--cursor <cursor>', 'continue from an earlier result')
      .option('-l, --long', 'also show content type and ETag'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  cairn find --bucket photos --min-size 10MiB --sort size --order desc\n' +
        '  cairn find --contains report --modified-after 7d\n' +
        '  cairn find --meta owner=alice --json | jq -r \'.objects[].key\'\n' +
        '--json prints the admin API shape: { "objects": [...], "nextCursor": "..." }',
    )
    .action(
      handle(async (flags: FindFlags) => {
        if (flags.all && flags.limit !== undefined) throw usage('use either --all or --limit');
        const limit = flags.all ? undefined : flags.limit !== undefined ? parsePositiveInt('--limit', flags.limit) : 100;
        const params = queryParams(flags);
        const backend = openBackend(flags, { write: false });
        try {
          if (limit !== undefined && limit <= PAGE_MAX) {
            // One page: exactly the admin API's answer.
            const page = await backend.findObjects({ ...params, limit: String(limit) });
            if (flags.json) printJson(page);
            else {
              out(page.objects.map((o) => (flags.long ? longLine(o) : objectLine(o, true))).join(''));
              if (page.objects.length === 0) note('no matching objects');
              if (page.nextCursor) note(`more results: continue with --cursor ${page.nextCursor}`);
            }
            return;
          }
          const w = flags.json ? new JsonArrayWriter('objects') : undefined;
          const r = await pageObjects(backend, params, limit, (objs) =>
            w ? w.write(objs) : out(objs.map((o) => (flags.long ? longLine(o) : objectLine(o, true))).join('')),
          );
          if (w) w.end({ nextCursor: r.nextCursor });
          else {
            if (r.count === 0) note('no matching objects');
            if (r.nextCursor) note(`more results: continue with --cursor ${r.nextCursor}`);
          }
        } finally {
          backend.close();
        }
      }),
    );
}
