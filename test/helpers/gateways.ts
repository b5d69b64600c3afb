import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freshPgDatabase } from './pg.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './proxy.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

// Several gateways on one PostgreSQL database and one shared data dir (chunk files), each on its
// own ports, with the root pair and admin token of the environment, behind a round-robin proxy:
// the multi-gateway setup of docs/postgresql.md, in one test process.

export const GATEWAY_ADMIN_TOKEN = 'cairn-test-gateways-admin-token';

export interface Gateways {
  /** The gateways, in start order (stopped ones stay in place). */
  servers: RunningServer[];
  /** Each gateway's S3 URL (direct, not through the proxy). */
  urls: string[];
  /** The round-robin proxy's URL. */
  proxyUrl: string;
  proxy: RoundRobinProxy;
  dbUrl: string;
  dataDir: string;
  /** An SDK client of the proxy, or of one endpoint. */
  client(endpoint?: string): S3Client;
  /** A GET on a gateway's admin API with the admin token. */
  admin<T = unknown>(i: number, pathAndQuery: string): Promise<{ status: number; body: T; text: string }>;
  /** Stops gateway i cleanly (its registry row goes). */
  stop(i: number): Promise<void>;
  /** Stops the proxy and every gateway, drops the database and removes the data dir. */
  close(): Promise<void>;
}

export async function startGateways(
  count = 3,
  overrides: Partial<Record<keyof ConfigInput, unknown>> = {},
  opts: { dbUrl?: string } = {},
): Promise<Gateways> {
  const db = opts.dbUrl ? undefined : await freshPgDatabase('gw', { migrated: true });
  const dbUrl = opts.dbUrl ?? db!.url;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gw-'));
  const servers: RunningServer[] = [];
  const stopped = new Set<number>();
  let proxy: RoundRobinProxy | undefined;
  const close = async () => {
    await proxy?.close();
    await Promise.all(servers.map((s, i) => (stopped.has(i) ? undefined : s.close())));
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const config = loadConfig(
        {
          port: 0, host: '127.0.0.1', adminPort: 0, dataDir, metadata: dbUrl, metadataPool: 4, gatewayId: `gw-${i}`,
          accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET, adminToken: GATEWAY_ADMIN_TOKEN,
          durability: 'relaxed', hashThreads: 0, logLevel: process.env.CAIRN_TEST_LOG ?? 'silent',
          ...overrides,
        },
        {},
      );
      servers.push(await startServer(config, { log: pino({ level: config.logLevel }) }));
    }
    proxy = await startRoundRobinProxy(servers.map((s) => s.url));
  } catch (err) {
    await close();
    throw err;
  }
  const client = (endpoint = proxy.url) =>
    new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
  return {
    servers,
    urls: servers.map((s) => s.url),
    proxyUrl: proxy.url,
    proxy,
    dbUrl,
    dataDir,
    client,
    admin: async <T>(i: number, pathAndQuery: string) => {
      const res = await fetch(servers[i]!.adminUrl + pathAndQuery, { headers: { authorization: `Bearer ${GATEWAY_ADMIN_TOKEN}` } });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, body: body as T, text };
    },
    stop: async (i) => {
      if (stopped.has(i)) return;
      stopped.add(i);
      await servers[i]!.close();
    },
    close,
  };
}
