import type { Command } from 'commander';
import type { GcResult } from '../storage/gc.js';
import { loadSettings } from '../config.js';
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
            // The server's settings, read and checked as it reads them (the flags are named for gc).
            const { gcGrace: graceMs, multipartExpiry: multipartExpiryMs } = loadSettings(
              ['gcGrace', 'multipartExpiry'],
              { gcGrace: flags.grace, multipartExpiry: flags.multipartExpiry },
              process.env,
              { gcGrace: '--grace' },
            );
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
