import type { Command } from 'commander';
import type { LifecycleResult } from '../storage/lifecycle.js';
import { openBackend } from './backend.js';
import { handle, usage, withTarget, type TargetFlags } from './common.js';
import { fields, humanDuration, humanSize, note, out, printJson, table } from './output.js';
import { progress } from './progress.js';

interface LifecycleFlags extends TargetFlags {
  dryRun?: boolean;
  at?: string;
  bucket?: string;
  progress: boolean;
}

/** The --at value: an ISO 8601 date or date-time (UTC when no offset is given). */
export function parseAt(value: string): number {
  const withZone = /T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? `${value}Z` : value;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(withZone) : NaN;
  if (Number.isNaN(ms)) throw usage(`--at: not a date: "${value}" (use e.g. 2027-01-31 or 2027-01-31T12:00:00Z)`);
  return ms;
}

export function lifecycleReport(r: LifecycleResult): string {
  const head = `${r.dryRun ? 'lifecycle (dry run, nothing changed)' : 'lifecycle'}: rules evaluated at ${r.evaluatedAt} over ${r.buckets} bucket(s)`;
  const would = r.dryRun ? 'would be ' : '';
  const summary = fields([
    [`  Versions ${would}removed`, String(r.versionsExpired)],
    [`  Delete markers ${would}added`, String(r.markersAdded)],
    [`  Expired delete markers ${would}removed`, String(r.markersRemoved)],
    [`  Uploads ${would}aborted`, String(r.uploadsAborted)],
    [`  Bytes ${would}freed`, `${humanSize(r.bytesExpired)} (${r.bytesExpired} bytes)`],
    ['  Kept by object lock', String(r.lockedKept)],
    ['  Took', humanDuration(r.durationMs)],
  ]);
  if (r.actions.length === 0) return `${head}\n${summary}`;
  const rows = r.actions.map((a) => [a.bucket, a.key, a.action, a.versionId ?? a.uploadId ?? '', humanSize(a.bytes), a.ruleId]);
  const more = r.moreActions > 0 ? `\n... and ${r.moreActions} more` : '';
  return `${head}\n${summary}\n\n${table(['BUCKET', 'KEY', 'ACTION', 'VERSION/UPLOAD', 'SIZE', 'RULE'], rows)}${more}`;
}

export function register(program: Command): void {
  const lifecycle = program.command('lifecycle').description("Bucket lifecycle rules: apply them now, or show what they would expire");
  withTarget(
    lifecycle
      .command('run')
      .description('Run one lifecycle pass: expire current and noncurrent versions, remove expired delete markers, abort old uploads, as the buckets\' rules say')
      .option('-n, --dry-run', 'show what would expire, change nothing')
      .option('--at <date>', 'evaluate the rules as of this date (ISO 8601, UTC), e.g. 2027-01-31 to see what will expire by then')
      .option('--bucket <name>', 'only this bucket')
      .option('--no-progress', 'no progress bar or progress lines on stderr'),
  )
    .addHelpText(
      'after',
      '\nThe same engine as the server\'s worker (--lifecycle-interval): object lock and legal holds are respected,\n' +
        'versioned buckets get delete markers. With --data-dir the pass runs in this process (use --url when the\n' +
        'server runs, so one pass runs at a time); its "day" is CAIRN_LIFECYCLE_DAY_SECONDS (a testing aid).\n' +
        'Lists up to 1000 actions; --json prints the LifecycleResult.',
    )
    .action(
      handle(async (flags: LifecycleFlags) => {
        const at = flags.at === undefined ? undefined : parseAt(flags.at);
        const backend = openBackend(flags, { write: true });
        try {
          let result: LifecycleResult;
          const opts = { dryRun: flags.dryRun === true, at, bucket: flags.bucket };
          if (backend.kind === 'remote') {
            if (flags.progress) note(`lifecycle: running on ${backend.where}${opts.dryRun ? ' (dry run)' : ''}`);
            result = await backend.lifecycle(opts);
          } else {
            const bar = progress('lifecycle', 'buckets', { enabled: flags.progress });
            try {
              result = await backend.lifecycle(opts, (d, t) => bar.update(d, t));
            } finally {
              bar.stop();
            }
          }
          if (flags.json) printJson(result);
          else out(lifecycleReport(result));
        } finally {
          backend.close();
        }
      }),
    );
}
