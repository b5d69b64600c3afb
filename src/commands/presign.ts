import type { Command } from 'commander';
import { loadSettings, parseDuration } from '../config.js';
import { MAX_PRESIGN_SECONDS } from '../services/presign.js';
import { LocalBackend, RemoteBackend, localPresign, resolveTarget } from './backend.js';
import { handle, requireObjectTarget, usage, withTarget, type TargetFlags } from './common.js';
import { note, out, printJson } from './output.js';

interface PresignFlags extends TargetFlags {
  expires: string;
  endpoint?: string;
  region?: string;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('presign')
      .argument('<bucket/key>', 'the object (bucket/key or s3://bucket/key)')
      .description('Print a presigned (SigV4) GET URL for an object: for curl, wget or a browser, no credentials needed')
      .option('-e, --expires <duration>', 'how long the URL works: seconds or 15m, 12h, 7d (at most 7d)', '1h')
      .option('--endpoint <url>', 'the S3 endpoint clients reach, with --data-dir [default http://127.0.0.1:9000]')
      .option('--region <region>', 'region to sign for, with --data-dir [env CAIRN_REGION, default us-east-1]'),
  )
    .addHelpText(
      'after',
      '\nSigned with the root credentials: CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY, else\n' +
        '<data-dir>/credentials.json. With --url the server signs (POST /v1/presign) for its own endpoint.\n\n' +
        'Example:\n  curl -o photo.jpg "$(cairn presign photos/2024/photo.jpg --expires 15m)"',
    )
    .action(
      handle(async (arg: string, flags: PresignFlags) => {
        const { bucket, key } = requireObjectTarget(arg);
        let ms: number;
        try {
          ms = parseDuration(flags.expires);
        } catch (e) {
          throw usage(`--expires: ${(e as Error).message}`);
        }
        const expiresSeconds = Math.floor(ms / 1000);
        if (expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) throw usage(`--expires: between 1s and 7d (got ${flags.expires})`);
        let url: string;
        if (flags.url !== undefined) {
          if (flags.endpoint || flags.region) throw usage('--endpoint and --region apply with --data-dir; with --url the server signs for its own endpoint');
          const t = resolveTarget(flags);
          if (t.kind !== 'remote') throw new Error('unreachable');
          url = (await new RemoteBackend(t.url, t.token).presign(bucket, key, { expiresSeconds })).url;
        } else {
          // Credentials from the environment need no data dir at all.
          const fromEnv = loadSettings(['accessKeyId', 'secretAccessKey']).accessKeyId !== undefined;
          const t = fromEnv && flags.dataDir === undefined && flags.metadata === undefined ? undefined : resolveTarget(flags);
          if (t?.kind === 'local' && t.metadata !== undefined) {
            // PostgreSQL gateways keep the root pair in their database (LocalBackend reads it there).
            const backend = new LocalBackend(t.dataDir, { write: false, metadata: t.metadata });
            try {
              url = (await backend.presign(bucket, key, { expiresSeconds, endpoint: flags.endpoint, region: flags.region })).url;
            } finally {
              backend.close();
            }
          } else url = localPresign(t?.kind === 'local' ? t.dataDir : undefined, { bucket, key, expiresSeconds, endpoint: flags.endpoint, region: flags.region });
        }
        if (flags.json) printJson({ url });
        else {
          out(url + '\n');
          if (process.stderr.isTTY) note(`(valid until ${new Date(Date.now() + expiresSeconds * 1000).toISOString()})`);
        }
      }),
    );
}
