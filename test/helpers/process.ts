import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs the built `cairn serve` (npm test builds dist/ first) and waits for its ready line.
 * Used where the process itself matters: start-up messages, kill -9.
 */
export async function spawnServe(env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', ...args], {
    // Admin port 0: test files run in parallel and must not race for the default 9001.
    env: { ...process.env, CAIRN_LOG_LEVEL: 'info', CAIRN_ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: Node 22 and 24 load ES modules several times slower than 20 (nodejs/node#60397),
    // and a loaded CI machine took over 15 s to start the server on them.
    const timer = setTimeout(() => reject(new Error(`no ready line within 45 s:\n${out}`)), 45_000);
    const check = () => {
      const m = /cairn ready on (https?:\/\/[^,\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`cairn exited before it was ready:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}
