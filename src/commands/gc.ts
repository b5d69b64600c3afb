import type { Command } from 'commander';
import type { GcResult } from '../storage/gc.js';
import { parseDuration } from '../config.js';
import { openBackend } from './backend.js';
import { handle, usage, withTarget, type TargetFlags } from './common.js';
import { fields, humanDuration, humanSize, note, out, printJson } from './output.js';
import { progress } from './progress.js';

interface GcFlags extends TargetFlags {
  dryRun?: boolean;
  grace?: string;
  multipartExpiry?: string;
  progress: boolean;
}

function duration(flag: string, value: string | undefined, envName: string, fallback: number): number {
  const v = value ?? (process.env[envName] || undefined);
  if (v === undefined) return fallback;
  try {
    return parseDuration(v);
  } catch (e) {
    throw usage(`${value !== undefined ? flag : envName}: ${(e as Error).message}`);
  }
}

export function gcReport(r: GcResult): string {
  const would = r.dryRun ? 'would free' : 'freed';
  return (
    `${r.dryRun ? 'gc (dry run, nothing deleted)' : 'gc'}: ${would} ${humanSize(r.freedBytes)}\n` +
    fields([
      ['  Orphan chunks', `${r.orphanChunks} (${humanSize(r.orphanBytes)})${r.youngOrphans ? `; ${r.youngOrphans} younger than the grace period kept` : ''}`],
      ['  Expired multipart uploads', String(r.expiredUploads)],
      ['  Stray temp files', `${r.tmpFiles} (${humanSize(r.tmpBytes)})`],
      ...(r.chunkRowsRepaired ? ([['  Chunk rows repaired', String(r.chunkRowsRepaired)]] as Array<[string, string]>) : []),
      ['  Took', humanDuration(r.durationMs)],
    ])
  );
}

export function register(program: Command): void {
  withTarget(
    program
      .command('gc')
      .description('Collect garbage: orphan chunk files past a grace period, expired multipart uploads, stray temp files; reports what it frees')
      .option('-n, --dry-run', 'report what would be freed, delete nothing')
      .option('--grace <duration>', 'keep orphan chunks and temp files younger than this, with --data-dir [env CAIRN_GC_GRACE, default 1h]')
      .option('--multipart-expiry <duration>', 'remove uploads started longer ago, with --data-dir [env CAIRN_MULTIPART_EXPIRY, default 7d]')
      .option('--no-progress', 'no progress bar or progress lines on stderr'),
  )
    .addHelpText(
      'after',
      '\nSafe beside a running server: files younger than the grace period (uploads in flight) are kept.\n' +
        'Progress goes to stderr (a bar on a terminal, plain lines otherwise); --json prints the GcResult.',
    )
    .action(
      handle(async (flags: GcFlags) => {
        const backend = openBackend(flags, { write: true });
        try {
          let result: GcResult;
          if (backend.kind === 'remote') {
            if (flags.grace !== undefined || flags.multipartExpiry !== undefined) {
              throw usage('--grace and --multipart-expiry apply with --data-dir; a server uses its own --gc-grace and --multipart-expiry');
            }
            if (flags.progress) note(`gc: running on ${backend.where}${flags.dryRun ? ' (dry run)' : ''}`);
            result = await backend.gc({ dryRun: flags.dryRun === true });
          } else {
            const graceMs = duration('--grace', flags.grace, 'CAIRN_GC_GRACE', 3_600_000);
            const multipartExpiryMs = duration('--multipart-expiry', flags.multipartExpiry, 'CAIRN_MULTIPART_EXPIRY', 7 * 86_400_000);
            const bar = progress('gc', 'chunk dirs', { enabled: flags.progress });
            try {
              result = await backend.gc({ dryRun: flags.dryRun === true, graceMs, multipartExpiryMs }, (d, t) => bar.update(d, t));
            } finally {
              bar.stop();
            }
          }
          if (flags.json) printJson(result);
          else out(gcReport(result));
        } finally {
          backend.close();
        }
      }),
    );
}
