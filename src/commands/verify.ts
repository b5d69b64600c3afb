import type { Command } from 'commander';
import type { ScrubResult } from '../storage/scrub.js';
import { openBackend } from './backend.js';
import { EXIT_FAILED, handle, withTarget, type TargetFlags } from './common.js';
import { humanDuration, humanSize, note, out, printJson, table } from './output.js';
import { progress } from './progress.js';

interface VerifyFlags extends TargetFlags {
  quarantine: boolean;
  progress: boolean;
}

/** Every object (bucket/key) a broken chunk breaks, each once, sorted. */
export function brokenObjects(r: ScrubResult): string[] {
  const set = new Set<string>();
  for (const c of r.broken) for (const o of c.objects) set.add(`${o.bucket}/${o.key}`);
  return [...set].sort();
}

export function verifyReport(r: ScrubResult): string {
  let s = `verify: checked ${r.checked} chunks (${humanSize(r.bytes)}) in ${humanDuration(r.durationMs)}: `;
  if (r.broken.length === 0) return s + 'all good\n';
  s += `${r.broken.length} broken\n\n`;
  s += table(
    ['CHUNK', 'PROBLEM', 'QUARANTINED TO'],
    r.broken.map((c) => [c.sha256, c.problem, c.quarantinedTo ?? '-']),
  );
  const objects = brokenObjects(r);
  const total = r.broken.reduce((n, c) => n + (c.objectCount ?? c.objects.length), 0);
  s += `\nBroken objects (${objects.length}${total > objects.length ? `; ${total} references in all, some not listed` : ''}):\n`;
  s += objects.length ? objects.map((o) => `  ${o}\n`).join('') : '  (none)\n';
  const uploads = r.broken.flatMap((c) => c.uploads.map((u) => `  ${u.bucket}/${u.key} upload ${u.uploadId} part ${u.partNumber}\n`));
  if (uploads.length > 0) s += `\nBroken multipart upload parts (${uploads.length}):\n` + [...new Set(uploads)].join('');
  return s;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('verify')
      .description('Scrub: re-read every chunk, compare CRC32C and SHA-256, quarantine corrupt or missing chunks and list the objects they break')
      .option('--no-quarantine', 'only report; leave corrupt chunk files in place')
      .option('--no-progress', 'no progress bar or progress lines on stderr'),
  )
    .addHelpText(
      'after',
      '\nExit status 1 when any chunk is corrupt or missing (also with --json, which prints the ScrubResult).\n' +
        'Progress goes to stderr: a bar on a terminal, plain lines ("verify: 1200/5000 chunks") otherwise.',
    )
    .action(
      handle(async (flags: VerifyFlags) => {
        const backend = openBackend(flags, { write: true });
        try {
          let result: ScrubResult;
          if (backend.kind === 'remote') {
            if (flags.progress) note(`verify: running on ${backend.where}`);
            result = await backend.verify({ quarantine: flags.quarantine });
          } else {
            const bar = progress('verify', 'chunks', { enabled: flags.progress });
            try {
              result = await backend.verify({ quarantine: flags.quarantine }, (d, t) => bar.update(d, t));
            } finally {
              bar.stop();
            }
          }
          if (flags.json) printJson(result);
          else out(verifyReport(result));
          if (result.broken.length > 0) process.exitCode = EXIT_FAILED;
        } finally {
          backend.close();
        }
      }),
    );
}
