import type { Command } from 'commander';
import type { AccessKeyInfo, Grant } from '../store/types.js';
import { openBackend } from './backend.js';
import { collect, handle, usage, usageExits, withTarget, type TargetFlags } from './common.js';
import { fields, humanTime, note, out, printJson, table } from './output.js';

/** `photos:read`, `*:write` -> Grant. */
export function parseGrant(value: string): Grant {
  const i = value.lastIndexOf(':');
  const bucket = i > 0 ? value.slice(0, i) : '';
  const permission = i > 0 ? value.slice(i + 1).toLowerCase() : '';
  if (!bucket || (permission !== 'read' && permission !== 'write' && permission !== 'bypass')) {
    throw usage(`--grant: expected <bucket>:read, <bucket>:write or <bucket>:bypass ('*' for every bucket), got "${value}"`);
  }
  return { bucket, permission };
}

const grantsText = (k: AccessKeyInfo) => k.grants.map((g) => `${g.bucket}:${g.permission}`).join(', ') || '(none)';

export function register(program: Command): void {
  const keys = usageExits(
    program
      .command('keys')
      .description('Access keys besides the root pair, each with per-bucket grants (read; write, which includes read; bypass, which is write and may bypass GOVERNANCE retention)'),
  );

  withTarget(
    keys
      .command('create')
      .description('Create an access key; its secret is printed once')
      .option('-g, --grant <bucket:permission>', "a grant: photos:read, logs:write, backups:bypass, '*:read' for every bucket (repeatable, at least one)", collect)
      .option('--description <text>', 'what the key is for'),
  )
    .addHelpText(
      'after',
      "\nExample:\n  cairn keys create --grant photos:read --grant '*:write' --description 'backup job'\n" +
        '--json prints the AccessKeyInfo with its "secret" (shown only this once).',
    )
    .action(
      handle(async (flags: TargetFlags & { grant?: string[]; description?: string }) => {
        const grants = (flags.grant ?? []).map(parseGrant);
        if (grants.length === 0) throw usage("a key needs at least one --grant, e.g. --grant photos:read or --grant '*:write'");
        const backend = openBackend(flags, { write: true });
        try {
          const k = await backend.createKey({ description: flags.description, grants });
          if (flags.json) return printJson(k);
          out(
            `Created access key (the secret is shown only now; keep it):\n` +
              `  AWS_ACCESS_KEY_ID=${k.id}\n  AWS_SECRET_ACCESS_KEY=${k.secret}\n\n` +
              fields([
                ['Grants', grantsText(k)],
                ['Description', k.description || '-'],
              ]),
          );
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(keys.command('list').description('List access keys and their grants (never secrets)'))
    .addHelpText('after', '\n--json prints { "keys": [AccessKeyInfo...] }.')
    .action(
      handle(async (flags: TargetFlags) => {
        const backend = openBackend(flags, { write: false });
        try {
          const list = await backend.listKeys();
          if (flags.json) printJson({ keys: list });
          else if (list.length === 0) note('no access keys (only the root credentials)');
          else out(table(['ID', 'CREATED', 'GRANTS', 'DESCRIPTION'], list.map((k) => [k.id, humanTime(k.createdAt), grantsText(k), k.description || '-'])));
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(keys.command('revoke').argument('<id>', 'access key id').description('Revoke an access key: requests signed with it fail from now on'))
    .addHelpText('after', '\n--json prints { "id": "<id>", "revoked": true }.')
    .action(
      handle(async (id: string, flags: TargetFlags) => {
        const backend = openBackend(flags, { write: true });
        try {
          await backend.revokeKey(id);
          if (flags.json) printJson({ id, revoked: true });
          else out(`revoked access key ${id}\n`);
        } finally {
          backend.close();
        }
      }),
    );
}
