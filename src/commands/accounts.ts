import type { Command } from 'commander';
import type { AccountInfo } from '../services/accounts.js';
import { openBackend } from './backend.js';
import { handle, usageExits, withTarget, type TargetFlags } from './common.js';
import { fields, humanTime, out, printJson, table } from './output.js';

// Accounts own buckets and objects; access keys act for one (`cairn keys create --account`). The
// first account, 'root', is the root key pair's and owns every bucket made before accounts.

export function accountsTable(list: AccountInfo[]): string {
  return table(
    ['NAME', 'ID', 'EMAIL', 'BUCKETS', 'KEYS', 'CREATED'],
    list.map((a) => [a.root ? `${a.name} (root)` : a.name, a.id, a.email ?? '-', String(a.buckets), String(a.keys), humanTime(a.createdAt)]),
    ['left', 'left', 'left', 'right', 'right'],
  );
}

export function register(program: Command): void {
  const accounts = usageExits(
    program
      .command('accounts')
      .description('Accounts: who owns buckets and objects, and whom access keys act for (S3 canonical user ids)'),
  );

  withTarget(
    accounts
      .command('create')
      .argument('<name>', 'account name: 1-64 letters, digits, ".", "_", "-", starting with a letter or digit')
      .option('--email <address>', 'its email address (ACL grants may name an account by email)')
      .description('Create an account; it gets a new canonical id'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  cairn accounts create alice --email alice@example.com\n  cairn keys create --account alice --grant "*:write"\n  cairn bucket create photos --owner alice\n' +
        '--json prints the AccountInfo { id, name, email, createdAt, root, buckets, keys }.',
    )
    .action(
      handle(async (name: string, flags: TargetFlags & { email?: string }) => {
        const backend = openBackend(flags, { write: true });
        try {
          const a = await backend.createAccount({ name, ...(flags.email !== undefined ? { email: flags.email } : {}) });
          if (flags.json) return printJson(a);
          out(`Created account ${a.name}\n` + fields([['Canonical id', a.id], ['Email', a.email ?? '-']]));
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(accounts.command('list').description('List accounts with the buckets they own and their keys'))
    .addHelpText('after', '\n--json prints { "accounts": [AccountInfo...] }.')
    .action(
      handle(async (flags: TargetFlags) => {
        const backend = openBackend(flags, { write: false });
        try {
          const list = await backend.listAccounts();
          if (flags.json) printJson({ accounts: list });
          else out(accountsTable(list));
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(
    accounts
      .command('delete')
      .argument('<account>', 'account name or canonical id')
      .description('Delete an account and its access keys (not the root account, not one that owns buckets)'),
  )
    .addHelpText('after', '\n--json prints { "account": "<account>", "deleted": true }.')
    .action(
      handle(async (account: string, flags: TargetFlags) => {
        const backend = openBackend(flags, { write: true });
        try {
          await backend.deleteAccount(account);
          if (flags.json) printJson({ account, deleted: true });
          else out(`deleted account ${account}\n`);
        } finally {
          backend.close();
        }
      }),
    );
}
