import { Option, type Command } from 'commander';
import type { ObjectSummary } from '../db/records/index.js';
import { FILTER_LIST, SORT_FIELDS, SORT_ORDERS, filterFlag, type PairsFilterName, type ValueFilterName } from '../db/records/filters.js';
import { parseDuration, parseSize } from '../config.js';
import { openBackend, type QueryParams } from './backend.js';
import { collect, handle, parsePositiveInt, usage, withTarget, type TargetFlags } from './common.js';
import { JsonArrayWriter, humanSize, humanTime, note, out, printJson } from './output.js';
import { PAGE_MAX, encryptionWord, lockWords, objectLine, pageObjects, versionLine, versionState } from './ls.js';

// The filter flags come from the filter definitions (src/db/records/filters.ts): a new filter
// gets its flag, help line and value handling from there.
// Commander gives a switch `true`, any other value filter its text.
type FilterFlags = { [K in ValueFilterName]?: string | true } & { [K in PairsFilterName]?: string[] };

interface FindFlags extends TargetFlags, FilterFlags {
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
  const params: QueryParams = {};
  const pairs: QueryParams = {};
  for (const { name, def } of FILTER_LIST) {
    const flag = filterFlag(name);
    if (def.kind === 'pairs') {
      for (const m of (f[name as PairsFilterName] as string[] | undefined) ?? []) {
        const eq = m.indexOf('=');
        if (eq <= 0) throw usage(`${flag}: expected name=value, got "${m}"`);
        const pairName = m.slice(0, eq);
        pairs[`${name}.${def.names.keepCase ? pairName : pairName.toLowerCase()}`] = m.slice(eq + 1);
      }
      continue;
    }
    const given = f[name as ValueFilterName];
    if (def.input === 'switch') {
      if (given) params[name] = 'true';
      continue;
    }
    const value = given === true ? undefined : given;
    params[name] = def.input === 'size' ? size(flag, value) : def.input === 'time' ? timeArg(value) : value;
  }
  Object.assign(params, { sort: f.sort, order: f.order, cursor: f.cursor }, pairs);
  for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
  return params;
}

function longLine(o: ObjectSummary, versions: boolean): string {
  const state = versions ? versionState(o) : [lockWords(o.lock), encryptionWord(o)].filter(Boolean).join(', ');
  const version = `${versions ? `  ${o.versionId}` : ''}${state ? `  (${state})` : ''}`;
  return `${humanTime(o.lastModified)}  ${humanSize(o.size).padStart(10)}  ${(o.contentType || '-').padEnd(24)}  ${(o.etag || '-').padEnd(36)}  ${o.bucket}/${o.key}${version}\n`;
}

export function register(program: Command): void {
  const find = program
    .command('find')
    .description('Find objects by bucket, prefix, name, size, date, content type, ETag, metadata or checksum (the admin API filters)');
  for (const { name, def } of FILTER_LIST) {
    const flags = `${def.cli.short ? `-${def.cli.short}, ` : ''}${filterFlag(name)}${def.cli.arg ? ` <${def.cli.arg}>` : ''}`;
    if (def.kind === 'pairs') find.option(flags, def.cli.help, collect);
    else find.option(flags, def.cli.help);
  }
  withTarget(
    find
      .addOption(new Option('--sort <field>', 'sort by (default key)').choices(SORT_FIELDS))
      .addOption(new Option('--order <order>', 'sort order (default asc)').choices(SORT_ORDERS))
      .option('-n, --limit <n>', 'at most this many results (default 100); the cursor to continue is printed')
      .option('--all', 'every match (pages through with the cursor)')
      .option('--cursor <cursor>', 'continue from an earlier result')
      .option('-l, --long', 'also show content type, ETag, lock, legal hold and encryption'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  cairn find --bucket photos --min-size 10MiB --sort size --order desc\n' +
        '  cairn find --contains report --modified-after 7d\n' +
        '  cairn find --meta owner=alice --json | jq -r \'.objects[].key\'\n' +
        '  cairn find --bucket records --versions --locked   every version under retention or legal hold\n' +
        'Without --versions only current objects match (not older versions, not delete markers).\n' +
        '--json prints the admin API shape: { "objects": [...], "nextCursor": "..." }',
    )
    .action(
      handle(async (flags: FindFlags) => {
        if (flags.all && flags.limit !== undefined) throw usage('use either --all or --limit');
        const limit = flags.all ? undefined : flags.limit !== undefined ? parsePositiveInt('--limit', flags.limit) : 100;
        const params = queryParams(flags);
        const versions = params.versions === 'true';
        const line = (o: ObjectSummary) => (flags.long ? longLine(o, versions) : versions ? versionLine(o, true) : objectLine(o, true));
        const backend = openBackend(flags, { write: false });
        try {
          if (limit !== undefined && limit <= PAGE_MAX) {
            // One page: exactly the admin API's answer.
            const page = await backend.findObjects({ ...params, limit: String(limit) });
            if (flags.json) printJson(page);
            else {
              out(page.objects.map(line).join(''));
              if (page.objects.length === 0) note('no matching objects');
              if (page.nextCursor) note(`more results: continue with --cursor ${page.nextCursor}`);
            }
            return;
          }
          const w = flags.json ? new JsonArrayWriter('objects') : undefined;
          const r = await pageObjects(backend, params, limit, (objs) =>
            w ? w.write(objs) : out(objs.map(line).join('')),
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
