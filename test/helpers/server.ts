import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export const TEST_ACCESS_KEY = 'CAIRNTESTKEY0000001';
export const TEST_SECRET = 'cairn-test-secret-key-0123456789abcdef';

export interface TestServer extends RunningServer {
  /** Removes the server and its temp data dir. */
  stop(): Promise<void>;
  client(extra?: Partial<ConstructorParameters<typeof S3Client>[0]>): S3Client;
  /** Environment for real CLI clients (aws, rclone) pointed at this server. */
  env: NodeJS.ProcessEnv;
  /** With tlsCert: the certificate's PEM file, the CA clients must trust (url is https). */
  caFile?: string;
}

/**
 * Starts the real server on 127.0.0.1, port 0, with a fresh temp data dir and the test root pair.
 * With `existingDataDir` (a data dir the caller made, e.g. a copy of a fixture; stop() removes
 * it too) it starts on that one instead, with the root pair of its credentials.json.
 */
export async function startTestServer(
  overrides: Partial<Record<keyof ConfigInput, unknown>> = {},
  opts: { existingDataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = opts.existingDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-test-'));
  let config: Config;
  let running: RunningServer;
  try {
    config = loadConfig(
      {
        port: 0,
        host: '127.0.0.1',
        // Many servers run at once in one test process: never the fixed default admin port.
        adminPort: 0,
        dataDir,
        ...(opts.existingDataDir === undefined ? { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } : {}),
        durability: 'relaxed',
        logLevel: process.env.CAIRN_TEST_LOG ?? 'silent',
        ...overrides,
      },
      {},
    );
    running = await startServer(config, { log: pino({ level: config.logLevel }) });
  } catch (err) {
    // A start-up error (a bad setting under test) leaves no temp dir behind.
    if (opts.existingDataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { accessKeyId, secretAccessKey } = running.credentials;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  // rclone 1.60 rejects every remote when AWS_CA_BUNDLE is set, even over plain HTTP.
  delete env.AWS_CA_BUNDLE;
  // Over TLS the SDK trusts the test certificate (its own CA) through an agent of its own.
  const caFile = config.tlsCert;
  const tlsHandler = () =>
    caFile === undefined ? {} : { requestHandler: { httpsAgent: new https.Agent({ ca: fs.readFileSync(caFile), keepAlive: true }) } };
  return {
    ...running,
    env,
    caFile,
    client: (extra = {}) =>
      new S3Client({
        endpoint: running.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        ...tlsHandler(),
        ...extra,
      }),
    stop: async () => {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Files under the data dir's tmp/ (every gateway's temp folder): a leak check after failed uploads. */
export function tmpFiles(server: { dataDir: string }): string[] {
  const dir = path.join(server.dataDir, 'tmp');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

/** Every chunk file under chunks/ (relative paths). */
export function chunkFiles(server: RunningServer): string[] {
  const root = path.join(server.dataDir, 'chunks');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)));
}
