import type { Command } from 'commander';
import type { BucketSummary, ObjectSummary } from '../db/records/index.js';
import { openBackend, type Backend, type QueryParams } from './backend.js';
import { CliError, handle, parsePositiveInt, splitTarget, withTarget, type TargetFlags } from './common.js';
import { JsonArrayWriter, humanSize, humanTime, note, out, printJson, table } from './output.js';

export function bucketTable(buckets: BucketSummary[]): string {
  return table(
    ['NAME', 'OBJECTS', 'SIZE', 'STORED', 'ACCESS', 'REGION', 'CREATED'],
    buckets.map((b) => [
      b.name,
      String(b.objects),
      humanSize(b.logicalBytes),
      humanSize(b.physicalBytes),
      b.public ? 'public' : 'private',
      b.region,
      humanTime(b.createdAt),
    ]),
    ['left', 'right', 'right', 'right'],
  );
}

/** Fixed-width so pages print as they arrive: `2024-05-01 12:00:03   1.5 MiB  bucket/key`. */
export function objectLine(o: ObjectSummary, withBucket: boolean): string {
  return `${humanTime(o.lastModified)}  ${humanSize(o.size).padStart(10)}  ${withBucket ? `${o.bucket}/` : ''}${o.key}\n`;
}

export const PAGE_MAX = 1000;

/**
 * Pages through findObjects with the cursor until `limit` objects (or all when undefined),
 * handing each page to `onPage`. Returns the cursor to resume from, when stopped early.
 */
export async function pageObjects(
  backend: Backend,
  params: QueryParams,
  limit: number | undefined,
  onPage: (objects: ObjectSummary[]) => void,
): Promise<{ count: number; nextCursor?: string }> {
  let count = 0;
  let cursor = params.cursor;
  for (;;) {
    const want = limit === undefined ? PAGE_MAX : Math.min(PAGE_MAX, limit - count);
    const page = await backend.findObjects({ ...params, cursor, limit: String(want) });
    onPage(page.objects);
    count += page.objects.length;
    cursor = page.nextCursor;
    if (!cursor || (limit !== undefined && count >= limit)) return { count, nextCursor: cursor };
  }
}

interface LsFlags extends TargetFlags {
  limit?: string;
  cursor?: string;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('ls')
      .argument('[bucket[/prefix]]', 'a bucket, or a bucket and key prefix (s3://bucket/prefix also works)')
      .description('List buckets, or the objects in a bucket (every key under the prefix, in key order)')
      .option('-n, --limit <n>', 'stop after this many objects (default: all; a resume cursor is printed)')
      .option('--cursor <cursor>', 'continue a listing stopped by --limit'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  cairn ls                      buckets with object counts and sizes\n  cairn ls photos/2024/         objects under a prefix\n  cairn ls photos --json | jq   the admin API shapes: { buckets } or { objects, nextCursor? }',
    )
    .action(
      handle(async (arg: string | undefined, flags: LsFlags) => {
        const limit = flags.limit !== undefined ? parsePositiveInt('--limit', flags.limit) : undefined;
        const backend = openBackend(flags, { write: false });
        try {
          if (arg === undefined || arg === '' || arg === 's3://') {
            const buckets = await backend.buckets();
            if (flags.json) printJson({ buckets });
            else if (buckets.length === 0) note('no buckets');
            else out(bucketTable(buckets));
            return;
          }
          const { bucket, rest } = splitTarget(arg);
          const params: QueryParams = { bucket, prefix: rest || undefined, sort: 'key', order: 'asc', cursor: flags.cursor };
          // An unknown bucket is an error, not an empty listing (checked before anything is printed).
          const first = await backend.findObjects({ ...params, limit: String(limit === undefined ? PAGE_MAX : Math.min(PAGE_MAX, limit)) });
          if (first.objects.length === 0 && !(await backend.buckets()).some((b) => b.name === bucket)) {
            throw new CliError(`no bucket ${bucket}`);
          }
          const w = flags.json ? new JsonArrayWriter('objects') : undefined;
          const print = (objs: ObjectSummary[]) => (w ? w.write(objs) : out(objs.map((o) => objectLine(o, false)).join('')));
          print(first.objects);
          let nextCursor = first.nextCursor;
          if (nextCursor && (limit === undefined || first.objects.length < limit)) {
            const rest = limit === undefined ? undefined : limit - first.objects.length;
            nextCursor = (await pageObjects(backend, { ...params, cursor: nextCursor }, rest, print)).nextCursor;
          }
          if (w) w.end({ nextCursor });
          else if (nextCursor) note(`more objects: continue with --cursor ${nextCursor}`);
        } finally {
          backend.close();
        }
      }),
    );
}
