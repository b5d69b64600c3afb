import { spawn, execSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_KEY = 'CAIRNBENCHKEY000001';
export const BENCH_SECRET = 'cairn-bench-secret-0123456789abcdefghij';

export interface CairnProcess {
  url: string;
  /** The admin listener (records API, /metrics) and its bearer token. */
  adminUrl: string;
  adminToken: string;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the built server (dist/, or the build at `cli`: an A/B against another checkout) as its
 * own process on a temp data dir, loopback only.
 */
export async function startCairn(env: Record<string, string> = {}, cli = path.join(ROOT, 'dist/cli.js')): Promise<CairnProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
  const port = await freePort();
  const adminPort = await freePort();
  const adminToken = `bench-admin-token-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      ...process.env,
      CAIRN_PORT: String(port),
      CAIRN_HOST: '127.0.0.1',
      CAIRN_DATA_DIR: dataDir,
      CAIRN_ACCESS_KEY_ID: BENCH_KEY,
      CAIRN_SECRET_ACCESS_KEY: BENCH_SECRET,
      CAIRN_LOG_LEVEL: 'warn',
      CAIRN_ADMIN_PORT: String(adminPort),
      CAIRN_ADMIN_TOKEN: adminToken,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // With a certificate (bench/ab.ts --encryption) both listeners speak https.
  const scheme = env.CAIRN_TLS_CERT ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  // Up to 60 s: Node 22 and 24 load ES modules several times slower than 20 (nodejs/node#60397),
  // and a loaded machine took over 10 s to start the server on them.
  for (let i = 0; ; i++) {
    try {
      await fetch(url + '/');
      break;
    } catch (err) {
      if (i >= 600 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`cairn at ${url} did not answer within 60 s`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    adminUrl: `${scheme}://127.0.0.1:${env.CAIRN_ADMIN_PORT ?? adminPort}`,
    adminToken: env.CAIRN_ADMIN_TOKEN ?? adminToken,
    dataDir,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function sdkClient(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET },
  });
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, commit ${commit}, ${new Date().toISOString()}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** A file of random bytes (random, so chunk dedup cannot flatter the figures). */
export function randomFile(bytes: number): string {
  const file = path.join(os.tmpdir(), `cairn-bench-${bytes}.bin`);
  if (fs.existsSync(file) && fs.statSync(file).size === bytes) return file;
  execSync(`head -c ${bytes} /dev/urandom > ${file}`);
  return file;
}
