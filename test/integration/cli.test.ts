import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, spawnServe } from '../helpers/process.js';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('cairn CLI', () => {
  it('documents every setting in serve --help', async () => {
    const { code, out } = await cli(['serve', '--help']);
    expect(code).toBe(0);
    for (const s of ['--port', 'CAIRN_PORT', '--host', '--data-dir', 'CAIRN_DATA_DIR', '--region', '--chunk-size', '--write-buffers', '--durability', 'CAIRN_ACCESS_KEY_ID', 'CAIRN_SECRET_ACCESS_KEY']) {
      expect(out).toContain(s);
    }
  });

  it('stops at start-up with a message naming each bad setting', async () => {
    const { code, out } = await cli(['serve', '--port', 'abc'], { CAIRN_CHUNK_SIZE: '3 bananas', CAIRN_DATA_DIR: tempDir() });
    expect(code).toBe(2);
    expect(out).toContain('CAIRN_PORT (--port)');
    expect(out).toContain('CAIRN_CHUNK_SIZE (--chunk-size)');
    const half = await cli(['serve'], { CAIRN_ACCESS_KEY_ID: 'onlythekey', CAIRN_DATA_DIR: tempDir() });
    expect(half.code).toBe(2);
    expect(half.out).toContain('must be set together');
    // The server key file is read at start-up: missing or malformed, the server does not start.
    const dir = tempDir();
    const missing = await cli(['serve', '--encryption-key-file', path.join(dir, 'nope'), '--port', '0', '--admin-port', '0'], { CAIRN_DATA_DIR: dir });
    expect(missing.code).not.toBe(0);
    expect(missing.out).toMatch(/encryptionKeyFile \(--encryption-key-file, CAIRN_ENCRYPTION_KEY_FILE\): cannot read/);
    fs.writeFileSync(path.join(dir, 'keys'), 'k1 not-a-key\n');
    const bad = await cli(['serve', '--port', '0', '--admin-port', '0'], { CAIRN_DATA_DIR: dir, CAIRN_ENCRYPTION_KEY_FILE: path.join(dir, 'keys') });
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/encryptionKeyFile .*line 1: expected "<key-id> <base64 of 32 bytes>"/);
    const short = await cli(['serve'], { CAIRN_DATA_DIR: dir, CAIRN_ENCRYPTION_KEY: 'dG9vIHNob3J0' });
    expect(short.code).toBe(2);
    expect(short.out).toContain('CAIRN_ENCRYPTION_KEY');
  });

  it('generates root credentials once, keeps them, and logs one ready line', async () => {
    const dataDir = tempDir();
    const env = { CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0', CAIRN_ACCESS_KEY_ID: '', CAIRN_SECRET_ACCESS_KEY: '' };
    const first = await spawnServe(env);
    try {
      expect(first.output()).toMatch(/AWS_ACCESS_KEY_ID=CA[A-Z0-9]{18}/);
      expect(first.output()).toContain(dataDir);
      const res = await fetch(first.url + '/');
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
    expect(fs.statSync(path.join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    const second = await spawnServe(env);
    try {
      expect(second.output()).not.toContain('AWS_SECRET_ACCESS_KEY=');
      expect(first.output()).toContain(saved.secretAccessKey);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('explains a port already in use', async () => {
    const dataDir = tempDir();
    const a = await spawnServe({ CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0' });
    try {
      const port = new URL(a.url).port;
      const b = await cli(['serve', '--host', '127.0.0.1', '--port', port], { CAIRN_DATA_DIR: tempDir() });
      expect(b.code).toBe(1);
      expect(b.out).toContain(`port ${port} is already in use`);
    } finally {
      a.child.kill('SIGTERM');
      await a.exited;
    }
  });
});
