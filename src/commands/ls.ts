import type { Command } from 'commander';
import type { BucketSummary, LockState, ObjectSummary } from '../db/records/index.js';
import { openBackend, type Backend, type QueryParams } from './backend.js';
import { CliError, handle, parsePositiveInt, splitTarget, withTarget, type TargetFlags } from './common.js';
import { encryptionTag } from '../db/records/encryption.js';
import { JsonArrayWriter, humanSize, humanTime, note, out, printJson, table } from './output.js';

/** OBJECTS and SIZE: current objects; VERSIONS: every version holding data; STORED: distinct chunk bytes. */
export function bucketTable(buckets: BucketSummary[]): string {
  return table(
    ['NAME', 'OWNER', 'OBJECTS', 'SIZE', 'VERSIONS', 'MARKERS', 'STORED', 'ACCESS', 'ENCRYPTION', 'REGION', 'CREATED'],
    buckets.map((b) => [
      b.name,
      b.owner.name ?? b.owner.id.slice(0, 12) + '…',
      String(b.objects),
      humanSize(b.logicalBytes),
      String(b.versions),
      String(b.deleteMarkers),
      humanSize(b.physicalBytes),
      b.public ? 'public' : 'private',
      b.defaultEncryption === 'none' ? '-' : b.defaultEncryption,
      b.region,
      humanTime(b.createdAt),
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** Fixed-width so pages print as they arrive: `2024-05-01 12:00:03   1.5 MiB  bucket/key`. */
export function objectLine(o: ObjectSummary, withBucket: boolean): string {
  return `${humanTime(o.lastModified)}  ${humanSize(o.size).padStart(10)}  ${withBucket ? `${o.bucket}/` : ''}${o.key}\n`;
}

/** `GOVERNANCE until 2027-01-01 00:00:00`, `legal hold`, both, or ''; an expired retention says so. */
export function lockWords(lock: LockState, now = Date.now()): string {
  const words: string[] = [];
  if (lock.mode && lock.retainUntil) words.push(`${lock.mode} until ${humanTime(lock.retainUntil)}${Date.parse(lock.retainUntil) <= now ? ' (expired)' : ''}`);
  if (lock.legalHold) words.push('legal hold');
  return words.join(', ');
}

/** A version's state in words: `latest`, `delete marker`, its lock, then its encryption (SSE-S3, SSE-C). */
export function versionState(o: Pick<ObjectSummary, 'isLatest' | 'deleteMarker' | 'lock' | 'encryption'>): string {
  return [o.isLatest ? 'latest' : '', o.deleteMarker ? 'delete marker' : '', lockWords(o.lock), encryptionWord(o)].filter(Boolean).join(', ');
}

/** `SSE-S3`, `SSE-C`, or '' for a version stored in clear. */
export function encryptionWord(o: Pick<ObjectSummary, 'encryption'>): string {
  return o.encryption.mode === 'none' ? '' : encryptionTag(o.encryption);
}

/** objectLine for a listing of versions: the version id after the key, then its state. */
export function versionLine(o: ObjectSummary, withBucket: boolean): string {
  const size = o.deleteMarker ? '-' : humanSize(o.size);
  const state = versionState(o);
  return `${humanTime(o.lastModified)}  ${size.padStart(10)}  ${withBucket ? `${o.bucket}/` : ''}${o.key}  ${o.versionId}${state ? `  (${state})` : ''}\n`;
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
  versions?: boolean;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('ls')
      .argument('[bucket[/prefix]]', 'a bucket, or a bucket and key prefix (s3://bucket/prefix also works)')
      .description('List buckets, or the objects in a bucket (every key under the prefix, in key order)')
      .option('-n, --limit <n>', 'stop after this many objects (default: all; a resume cursor is printed)')
      .option('--cursor <cursor>', 'continue a listing stopped by --limit')
      .option('--versions', 'every version and delete marker (newest first within a key), with its version id, lock and legal hold'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  cairn ls                      buckets with object, version and delete marker counts and sizes\n' +
        '  cairn ls photos/2024/         objects under a prefix\n' +
        '  cairn ls photos --versions    every version of every key: version id, latest, delete marker, retention, legal hold\n' +
        '  cairn ls photos --json | jq   the admin API shapes: { buckets } or { objects, nextCursor? }',
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
          const params: QueryParams = { bucket, prefix: rest || undefined, sort: 'key', order: 'asc', cursor: flags.cursor, versions: flags.versions ? 'true' : undefined };
          // An unknown bucket is an error, not an empty listing (checked before anything is printed).
          const first = await backend.findObjects({ ...params, limit: String(limit === undefined ? PAGE_MAX : Math.min(PAGE_MAX, limit)) });
          if (first.objects.length === 0 && !(await backend.buckets()).some((b) => b.name === bucket)) {
            throw new CliError(`no bucket ${bucket}`);
          }
          const w = flags.json ? new JsonArrayWriter('objects') : undefined;
          const line = flags.versions ? versionLine : objectLine;
          const print = (objs: ObjectSummary[]) => (w ? w.write(objs) : out(objs.map((o) => line(o, false)).join('')));
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
