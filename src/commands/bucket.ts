import type { Command } from 'commander';
import type { BucketSummary } from '../db/records/index.js';
import { openBackend } from './backend.js';
import { handle, usageExits, withTarget, type TargetFlags } from './common.js';
import { note, out, printJson } from './output.js';
import { bucketTable } from './ls.js';

function printBucket(b: BucketSummary, json: boolean | undefined, verb: string): void {
  if (json) printJson(b);
  else out(`${verb} ${b.name} (owner ${b.owner.name ?? b.owner.id}; ${b.public ? 'public: anonymous reads and listings allowed' : 'private'})\n`);
}

/** The `bucket` commands: long because each is a commander declaration with its help text. */
export function register(program: Command): void {
  const bucket = usageExits(
    program
      .command('bucket')
      .description('Create, delete and list buckets (each owned by an account); make them public (anonymous read) or private'),
  );

  withTarget(
    bucket
      .command('list')
      .option('--owner <account>', "only this account's buckets (its name or canonical id)")
      .description('List buckets with their owners, object counts and sizes (same as `cairn ls`)'),
  )
    .addHelpText('after', '\n--json prints { "buckets": [BucketSummary...] } (owner, ownership, hasPolicy, public).')
    .action(
      handle(async (flags: TargetFlags & { owner?: string }) => {
        const backend = openBackend(flags, { write: false });
        try {
          const buckets = await backend.buckets(flags.owner === undefined ? {} : { owner: flags.owner });
          if (flags.json) printJson({ buckets });
          else if (buckets.length === 0) note(flags.owner === undefined ? 'no buckets' : `no buckets owned by ${flags.owner}`);
          else out(bucketTable(buckets));
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(
    bucket
      .command('create')
      .argument('<name>', 'bucket name (3-63 characters: a-z, 0-9, ".", "-")')
      .option('--public', 'allow anonymous reads and listings')
      .option('--owner <account>', 'the account that owns it: its name or canonical id (default: root)')
      .description('Create a bucket (region from CAIRN_REGION with --data-dir)'),
  )
    .addHelpText('after', '\nExample:\n  cairn bucket create photos --owner alice\n--json prints the new BucketSummary.')
    .action(
      handle(async (name: string, flags: TargetFlags & { public?: boolean; owner?: string }) => {
        const backend = openBackend(flags, { write: true });
        try {
          printBucket(await backend.createBucket(name, flags.public === true, flags.owner), flags.json, 'created bucket');
        } finally {
          backend.close();
        }
      }),
    );

  withTarget(bucket.command('delete').argument('<name>', 'bucket name').description('Delete a bucket without objects; uploads in progress are aborted with it, as in S3'))
    .addHelpText('after', '\n--json prints { "bucket": "<name>", "deleted": true }.')
    .action(
      handle(async (name: string, flags: TargetFlags) => {
        const backend = openBackend(flags, { write: true });
        try {
          await backend.deleteBucket(name);
          if (flags.json) printJson({ bucket: name, deleted: true });
          else out(`deleted bucket ${name}\n`);
        } finally {
          backend.close();
        }
      }),
    );

  for (const [verb, isPublic] of [
    ['public', true],
    ['private', false],
  ] as const) {
    withTarget(
      bucket
        .command(verb)
        .argument('<name>', 'bucket name')
        .description(isPublic ? 'Allow anonymous reads and listings of a bucket' : 'Require signed requests for a bucket again'),
    )
      .addHelpText('after', '\n--json prints the updated BucketSummary.')
      .action(
        handle(async (name: string, flags: TargetFlags) => {
          const backend = openBackend(flags, { write: true });
          try {
            printBucket(await backend.setBucketPublic(name, isPublic), flags.json, 'bucket');
          } finally {
            backend.close();
          }
        }),
      );
  }
}
