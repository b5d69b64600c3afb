import type { Command } from 'commander';
import type { BucketSummary } from '../db/records/index.js';
import { openBackend } from './backend.js';
import { handle, usageExits, withTarget, type TargetFlags } from './common.js';
import { note, out, printJson } from './output.js';
import { bucketTable } from './ls.js';

function printBucket(b: BucketSummary, json: boolean | undefined, verb: string): void {
  if (json) printJson(b);
  else out(`${verb} ${b.name} (${b.public ? 'public: anonymous reads and listings allowed' : 'private'})\n`);
}

export function register(program: Command): void {
  const bucket = usageExits(
    program
      .command('bucket')
      .description('Create, delete and list buckets; make them public (anonymous read) or private'),
  );

  withTarget(bucket.command('list').description('List buckets with object counts and sizes (same as `cairn ls`)'))
    .addHelpText('after', '\n--json prints { "buckets": [BucketSummary...] }.')
    .action(
      handle(async (flags: TargetFlags) => {
        const backend = openBackend(flags, { write: false });
        try {
          const buckets = await backend.buckets();
          if (flags.json) printJson({ buckets });
          else if (buckets.length === 0) note('no buckets');
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
      .description('Create a bucket (region from CAIRN_REGION with --data-dir)'),
  )
    .addHelpText('after', '\n--json prints the new BucketSummary.')
    .action(
      handle(async (name: string, flags: TargetFlags & { public?: boolean }) => {
        const backend = openBackend(flags, { write: true });
        try {
          printBucket(await backend.createBucket(name, flags.public === true), flags.json, 'created bucket');
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
