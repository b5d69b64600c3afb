// The crash campaign's server processes (bench/crash.ts): `dist/cli.js serve` started with the
// campaign's credentials and settings, its ready line parsed, and the CLI's local commands.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist/cli.js');
export const KEY_ID = 'CAIRNCRASHKEY000001';
export const SECRET = 'cairn-crash-secret-0123456789abcdefghij';
export const ADMIN_TOKEN = 'cairn-crash-admin-token-0123456789';
export const CHUNK = 64 * 1024;
const MiB = 1024 * 1024;

export interface Server {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  exited: Promise<void>;
  output: () => string;
}

export async function startServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      CAIRN_DATA_DIR: dataDir,
      CAIRN_PORT: '0',
      CAIRN_ADMIN_PORT: '0',
      CAIRN_ADMIN_TOKEN: ADMIN_TOKEN,
      CAIRN_ACCESS_KEY_ID: KEY_ID,
      CAIRN_SECRET_ACCESS_KEY: SECRET,
      CAIRN_CHUNK_SIZE: String(CHUNK),
      CAIRN_DURABILITY: 'fsync',
      // GC runs when the workload asks (admin API); grace 0 is safe in-process (pins guard uploads).
      CAIRN_GC_INTERVAL: '0',
      CAIRN_GC_GRACE: '0',
      CAIRN_SCRUB_INTERVAL: '0',
      // info: the ready line names the ports (both 0, so chosen by the OS); request lines are dropped.
      CAIRN_LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    // Generous: several gateways start at once on two loaded cores.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cairn not ready within 120 s:\n${out}`));
    }, 120_000);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`cairn exited before it was ready (${code ?? signal}):\n${out}`));
    };
    const onData = () => {
      const line = out.split('\n').find((l) => l.includes('cairn ready on'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      const j = JSON.parse(line) as { endpoint: string; admin: string };
      resolve({ url: j.endpoint, adminUrl: j.admin });
    };
    child.once('exit', onExit);
    child.stdout!.on('data', onData);
  });
  return { child, ...ready, exited, output: () => out };
}

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 * MiB, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

