import type { Command } from 'commander';
import { FILTERS, filterFlag, type FilterName } from '../db/records/filters.js';
import { ConfigError } from '../config.js';

// Shared plumbing for the record/maintenance commands: where to find the data (a data dir or
// a running server's admin API), error handling and exit codes.
//   0 ok, 1 the operation failed (or verify found broken chunks), 2 usage or configuration error.

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error whose message is meant for the user as is; `exitCode` 1 (failure) or 2 (usage/config). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, EXIT_USAGE);

/** Flags every record command takes. */
export interface TargetFlags {
  dataDir?: string;
  /** A postgres:// URL: the gateways' metadata database (chunk files stay in the data dir). */
  metadata?: string;
  url?: string;
  token?: string;
  json?: boolean;
}

/** Adds --data-dir/--url/--token/--json, usage errors as exit 2, and help after an error. */
export function withTarget(cmd: Command, opts: { json?: boolean } = {}): Command {
  cmd
    .option('-d, --data-dir <dir>', 'read the data dir directly (server stopped or running) [env CAIRN_DATA_DIR, default ./data]')
    .option('--metadata <url>', 'with --data-dir: the metadata database of PostgreSQL gateways, postgres://... [env CAIRN_METADATA_URL]')
    .option('--url <adminUrl>', "use a running server's admin API instead, e.g. http://127.0.0.1:9001")
    .option('--token <token>', 'admin API token for --url [env CAIRN_ADMIN_TOKEN]');
  if (opts.json !== false) cmd.option('--json', 'print one JSON document (the admin API shape) instead of a table');
  return usageExits(cmd);
}

/** Commander reports usage errors with exit code 1; cairn uses 2 for them. */
export function usageExits(cmd: Command): Command {
  return cmd.showHelpAfterError('(add --help for usage)').exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  });
}

/**
 * Wraps a command action: a CliError prints `cairn: <message>` and sets its exit code; anything
 * else is an unexpected failure (exit 1). Exit codes are set, not forced, so stdout drains.
 */
export function handle<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CliError || err instanceof ConfigError) {
        process.stderr.write(`cairn: ${err.message}\n`);
        // A bad CAIRN_* setting (src/config.ts) is a configuration error, as for `cairn serve`.
        process.exitCode = err instanceof CliError ? err.exitCode : EXIT_USAGE;
        return;
      }
      const e = err as Error & { field?: unknown };
      // QueryError (src/db/records/errors.ts), KeyValidationError and AccountValidationError name the bad input: usage errors.
      const name = e?.name !== 'Error' ? e?.name : e?.constructor?.name;
      if ((name === 'QueryError' || name === 'KeyValidationError' || name === 'AccountValidationError') && typeof e.field === 'string') {
        process.stderr.write(`cairn: ${name === 'QueryError' ? `${flagForField(e.field)}: ` : ''}${e.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.stderr.write(`cairn: ${e?.message ?? String(err)}\n`);
      if (process.env.CAIRN_DEBUG && e?.stack) process.stderr.write(e.stack + '\n');
      process.exitCode = EXIT_FAILED;
    }
  };
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses `bucket`, `bucket/`, `bucket/prefix/of/key` (and the same with `s3://`). */
export function splitTarget(arg: string): { bucket: string; rest: string | undefined } {
  const s = arg.startsWith('s3://') ? arg.slice(5) : arg;
  const slash = s.indexOf('/');
  if (slash < 0) return { bucket: s, rest: undefined };
  return { bucket: s.slice(0, slash), rest: s.slice(slash + 1) };
}

export function requireObjectTarget(arg: string): { bucket: string; key: string } {
  const { bucket, rest } = splitTarget(arg);
  if (!bucket || !rest) throw usage(`expected bucket/key, got "${arg}"`);
  return { bucket, key: rest };
}

export function parsePositiveInt(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value.trim())) throw usage(`${name}: not a whole number: "${value}"`);
  const n = Number(value);
  if (n < 1 || n > max) throw usage(`${name}: must be between 1 and ${max} (got ${value})`);
  return n;
}

/** The CLI flag for an admin API query field: minSize -> --min-size, meta.owner -> --meta owner. */
export function flagForField(field: string): string {
  const filter = field.slice(0, Math.max(0, field.indexOf('.')));
  if (Object.hasOwn(FILTERS, filter) && FILTERS[filter as FilterName].kind === 'pairs') return `${filterFlag(filter)} ${field.slice(filter.length + 1)}`;
  return filterFlag(field);
}
