#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type ConfigInput } from './config.js';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('cairn')
  .description('cairn: an S3-compatible object gateway that keeps checksummed chunk files on disk and their records in SQLite')
  .version('0.1.0');

program
  .command('serve')
  .description('Start the S3 gateway (SQLite + a data folder by default, no other service needed; PostgreSQL with --metadata)')
  .addOption(new Option('-p, --port <port>', 'port to listen on [env CAIRN_PORT, default 9000]'))
  .addOption(new Option('--host <host>', 'address to bind [env CAIRN_HOST, default 0.0.0.0]'))
  .addOption(new Option('-d, --data-dir <dir>', 'where cairn.db and chunk files live [env CAIRN_DATA_DIR, default ./data]'))
  .addOption(new Option('--region <region>', 'region reported to clients [env CAIRN_REGION, default us-east-1]'))
  .addOption(new Option('--domain <domain>', 'enables virtual-host style: <bucket>.<domain> [env CAIRN_DOMAIN]'))
  .addOption(new Option('--chunk-size <size>', 'chunk and write-buffer size, e.g. 8MiB [env CAIRN_CHUNK_SIZE, default 8MiB]'))
  .addOption(new Option('--inline-max <size>', 'objects up to this size are stored in their SQLite row, not a chunk file; 0 = never [env CAIRN_INLINE_MAX, default 32KiB]'))
  .addOption(new Option('--commit-thread <on|off>', 'run the commits of PUTs and DELETEs on a thread of their own, off the event loop [env CAIRN_COMMIT_THREAD, default on]').choices(['on', 'off']))
  .addOption(new Option('--hash-threads <n>', 'worker threads that hash uploads off the event loop; 0 = hash on it [env CAIRN_HASH_THREADS, default: cores, at most 4]'))
  .addOption(new Option('--write-buffers <n>', 'global write-buffer pool size; data-path memory = n x chunk size [env CAIRN_WRITE_BUFFERS, default 16]'))
  .addOption(new Option('--max-buffers-per-request <n>', 'buffers one upload may hold at once [env CAIRN_MAX_BUFFERS_PER_REQUEST, default 4]'))
  .addOption(new Option('--durability <mode>', 'fsync: acknowledged data survives a crash; relaxed: skip fsyncs [env CAIRN_DURABILITY, default fsync]').choices(['fsync', 'relaxed']))
  .addOption(new Option('--multipart-expiry <duration>', 'remove multipart uploads never completed after this long, e.g. 7d, 12h [env CAIRN_MULTIPART_EXPIRY, default 7d]'))
  .addOption(new Option('--admin-port <port>', 'admin API port: records, stats, /metrics, /health [env CAIRN_ADMIN_PORT, default 9001]'))
  .addOption(new Option('--admin-host <host>', 'admin API address [env CAIRN_ADMIN_HOST, default 127.0.0.1]'))
  .addOption(new Option('--gc-interval <duration>', 'background GC period, 0 = off [env CAIRN_GC_INTERVAL, default 1h]'))
  .addOption(new Option('--gc-grace <duration>', 'orphan chunk/temp files younger than this are kept [env CAIRN_GC_GRACE, default 1h]'))
  .addOption(new Option('--gc-claim-ttl <duration>', "several gateways: how long a dead gateway's chunk claims and GC lease outlive it [env CAIRN_GC_CLAIM_TTL, default 10m]"))
  .addOption(new Option('--lifecycle-interval <duration>', 'lifecycle worker period (bucket expiry rules), 0 = off [env CAIRN_LIFECYCLE_INTERVAL, default 1h]'))
  .addOption(new Option('--lifecycle-day-seconds <n>', 'testing aid: seconds in a lifecycle rule\'s "day" [env CAIRN_LIFECYCLE_DAY_SECONDS, default 86400]'))
  .addOption(new Option('--scrub-interval <duration>', 'background scrub period, 0 = off [env CAIRN_SCRUB_INTERVAL, default 24h]'))
  .addOption(new Option('--encryption-key-file <file>', 'server keys for SSE-S3: lines "<key-id> <base64 32 bytes>", the last active (docs/encryption.md) [env CAIRN_ENCRYPTION_KEY_FILE; or one key in CAIRN_ENCRYPTION_KEY]'))
  .addOption(new Option('--encrypt-all', 'encrypt every new write without SSE-C with the server key (SSE-S3) [env CAIRN_ENCRYPT_ALL]'))
  .addOption(new Option('--tls-cert <file>', 'PEM certificate (chain): the S3 listener speaks https; SIGHUP reloads it [env CAIRN_TLS_CERT]'))
  .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert [env CAIRN_TLS_KEY]'))
  .addOption(new Option('--admin-tls-cert <file>', 'PEM certificate of the admin API and console [env CAIRN_ADMIN_TLS_CERT, default --tls-cert]'))
  .addOption(new Option('--admin-tls-key <file>', 'PEM private key of --admin-tls-cert [env CAIRN_ADMIN_TLS_KEY, default --tls-key]'))
  .addOption(new Option('--chunks <where>', 'where chunk files live: s3://bucket/prefix (another S3-compatible store) or a folder every gateway mounts [env CAIRN_CHUNKS, default <data-dir>]'))
  .addOption(new Option('--chunks-endpoint <url>', 'the s3:// chunk store\'s endpoint, e.g. http://minio:9000 [env CAIRN_CHUNKS_ENDPOINT, default AWS]'))
  .addOption(new Option('--chunks-region <region>', 'the s3:// chunk store\'s region [env CAIRN_CHUNKS_REGION, default us-east-1]'))
  .addOption(new Option('--chunks-access-key-id <id>', 'the s3:// chunk store\'s access key id [env CAIRN_CHUNKS_ACCESS_KEY_ID]'))
  .addOption(new Option('--chunks-secret-access-key <secret>', 'its secret; prefer the environment [env CAIRN_CHUNKS_SECRET_ACCESS_KEY]'))
  .addOption(new Option('--metadata <url>', 'metadata engine: a postgres:// URL (several gateways on one database); default the SQLite file in the data dir [env CAIRN_METADATA_URL]'))
  .addOption(new Option('--metadata-pool <n>', 'PostgreSQL connections of this gateway [env CAIRN_METADATA_POOL, default 10]'))
  .addOption(new Option('--gateway-id <id>', "this gateway's name in the registry (/v1/stats, console) [env CAIRN_GATEWAY_ID, default: random per start]"))
  .addOption(new Option('--gateway-timeout <duration>', 'a gateway whose heartbeat is older is shown dead [env CAIRN_GATEWAY_TIMEOUT, default 30s]'))
  .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent [env CAIRN_LOG_LEVEL, default info]'))
  .addHelpText(
    'after',
    '\nRoot credentials come from CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY; when unset, a pair is\n' +
      'generated on first start, kept in <data-dir>/credentials.json and printed once. The admin API token\n' +
      'comes from CAIRN_ADMIN_TOKEN, or is generated the same way (kept in <data-dir>/admin-token).\n' +
      'With --metadata postgres://..., both are kept in the database instead (the token as its hash), so every\n' +
      'gateway on it shares them; the data dir then holds chunk files only (docs/postgresql.md).',
  )
  .action(async (flags: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig(flags as Partial<Record<keyof ConfigInput, unknown>>);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`cairn: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    // Loaded here, not at the top: the record commands should not pay for the server's imports.
    const [{ default: pino }, { startServer }] = await Promise.all([import('pino'), import('./server.js')]);
    const log = pino({
      level: config.logLevel,
      ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
    });
    try {
      const running = await startServer(config, { log });
      const keptIn = (file: string) => (running.engine === 'sqlite' ? `${running.dataDir}/${file}` : 'the metadata database');
      if (running.credentials.generated) {
        process.stdout.write(
          `\nGenerated root credentials (kept in ${keptIn('credentials.json')}; shown once):\n` +
            `  AWS_ACCESS_KEY_ID=${running.credentials.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${running.credentials.secretAccessKey}\n\n`,
        );
      }
      if (running.adminTokenGenerated) {
        process.stdout.write(
          `Generated admin API token (${running.engine === 'sqlite' ? `kept in ${keptIn('admin-token')}` : 'its hash kept in the metadata database'}; shown once):\n` +
            `  CAIRN_ADMIN_TOKEN=${running.adminToken}\n  admin API: ${running.adminUrl}\n\n`,
        );
      }
      log.info({ endpoint: running.url, admin: running.adminUrl, dataDir: running.dataDir, region: config.region, durability: config.durability, engine: running.engine, gateway: running.gatewayId }, `cairn ready on ${running.url}, data in ${running.dataDir}`);
      const stop = (signal: string) => {
        log.info({ signal }, 'shutting down');
        running.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      // Renewed certificates without a restart; the outcome is logged by reloadTls.
      process.on('SIGHUP', () => running.reloadTls());
    } catch (err) {
      if (err instanceof ConfigError) {
        // A certificate or key that cannot be used: the message names the setting.
        process.stderr.write(`cairn: ${err.message}\n`);
        process.exit(2);
      }
      const e = err as NodeJS.ErrnoException;
      const hint = e.code === 'EADDRINUSE' ? ((e as { port?: number }).port === config.adminPort && config.adminPort !== config.port ? `admin port ${config.adminPort} is already in use (set --admin-port or CAIRN_ADMIN_PORT)` : `port ${config.port} is already in use (set --port or CAIRN_PORT)`) : e.code === 'EACCES' ? `permission denied: ${e.message}` : e.message;
      process.stderr.write(`cairn: cannot start: ${hint}\n`);
      process.exit(1);
    }
  });

registerCommands(program);

program.parseAsync(process.argv);
