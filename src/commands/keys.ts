import fs from 'node:fs';
import type { Command } from 'commander';
import type { AccessKeyInfo, Grant } from '../store/types.js';
import { openBackend, type Backend } from './backend.js';
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

/** Account id -> name, for showing whom keys act for. */
async function accountNames(backend: Backend): Promise<(id: string) => string> {
  const names = new Map((await backend.listAccounts()).map((a) => [a.id, a.name]));
  return (id) => names.get(id) ?? id;
}

type CreateFlags = TargetFlags & { grant?: string[]; description?: string; account?: string; accessKeyId?: string; secretAccessKey?: string };

/** --access-key-id with --secret-access-key (or '-': read from standard input, kept out of the process list). */
function importedPair(flags: CreateFlags): { accessKeyId: string; secretAccessKey: string } | undefined {
  if (flags.accessKeyId === undefined && flags.secretAccessKey === undefined) return undefined;
  if (flags.accessKeyId === undefined || flags.secretAccessKey === undefined) throw usage('--access-key-id and --secret-access-key import a pair: give both');
  const secret = flags.secretAccessKey === '-' ? fs.readFileSync(0, 'utf8').trim() : flags.secretAccessKey;
  return { accessKeyId: flags.accessKeyId, secretAccessKey: secret };
}

export function register(program: Command): void {
  const keys = usageExits(
    program
      .command('keys')
      .description('Access keys besides the root pair, each acting for an account, with per-bucket grants (read; write, which includes read; bypass, which is write and may bypass GOVERNANCE retention)'),
  );
  registerCreate(keys);
  registerListAndRevoke(keys);
}

function registerCreate(keys: Command): void {
  withTarget(
    keys
      .command('create')
      .description('Create an access key for an account (default root), or import a pair made elsewhere; a new secret is printed once')
      .option('-g, --grant <bucket:permission>', "a grant: photos:read, logs:write, backups:bypass, '*:read' for every bucket (repeatable, at least one)", collect)
      .option('--account <account>', 'the account the key acts for: its name or canonical id (default: root)')
      .option('--description <text>', 'what the key is for')
      .option('--access-key-id <id>', 'import: use this access key id (3-128 letters and digits) instead of a new one')
      .option('--secret-access-key <secret>', "import: its secret (8-128 characters); '-' reads it from standard input"),
  )
    .addHelpText(
      'after',
      "\nExamples:\n  cairn keys create --grant photos:read --grant '*:write' --description 'backup job'\n" +
        "  cairn keys create --account alice --grant '*:write'\n" +
        "  echo \"$SECRET\" | cairn keys create --account alice --grant '*:write' --access-key-id AKIAEXAMPLE --secret-access-key -\n" +
        'The key acts for its account (it sees that account\'s buckets); its grants limit what it may do.\n' +
        'An id that is taken (by another key or the root pair) is refused (exit 2).\n' +
        '--json prints the AccessKeyInfo with its "secret" (shown only this once).',
    )
    .action(
      handle(async (flags: CreateFlags) => {
        const grants = (flags.grant ?? []).map(parseGrant);
        if (grants.length === 0) throw usage("a key needs at least one --grant, e.g. --grant photos:read or --grant '*:write'");
        const pair = importedPair(flags);
        const backend = openBackend(flags, { write: true });
        try {
          const k = await backend.createKey({ description: flags.description, grants, ...(flags.account !== undefined ? { account: flags.account } : {}), ...pair });
          if (flags.json) return printJson(k);
          const account = (await accountNames(backend))(k.accountId);
          const head = pair
            ? `Imported access key ${k.id} (its secret is the one given)\n\n`
            : `Created access key (the secret is shown only now; keep it):\n  AWS_ACCESS_KEY_ID=${k.id}\n  AWS_SECRET_ACCESS_KEY=${k.secret}\n\n`;
          out(
            head +
              fields([
                ['Account', account],
                ['Grants', grantsText(k)],
                ['Description', k.description || '-'],
              ]),
          );
        } finally {
          backend.close();
        }
      }),
    );

}

function registerListAndRevoke(keys: Command): void {
  withTarget(
    keys
      .command('list')
      .option('--account <account>', "only this account's keys (its name or canonical id)")
      .description('List access keys, the account each acts for and their grants (never secrets)'),
  )
    .addHelpText('after', '\n--json prints { "keys": [AccessKeyInfo...] } (accountId: the account it acts for).')
    .action(
      handle(async (flags: TargetFlags & { account?: string }) => {
        const backend = openBackend(flags, { write: false });
        try {
          const list = await backend.listKeys(flags.account);
          if (flags.json) printJson({ keys: list });
          else if (list.length === 0) note(flags.account === undefined ? 'no access keys (only the root credentials)' : `account ${flags.account} has no access keys`);
          else {
            const name = await accountNames(backend);
            out(table(['ID', 'ACCOUNT', 'CREATED', 'GRANTS', 'DESCRIPTION'], list.map((k) => [k.id, name(k.accountId), humanTime(k.createdAt), grantsText(k), k.description || '-'])));
          }
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
