import fs from 'node:fs';
import path from 'node:path';
import { loadSettings } from '../config.js';
import { usage, type TargetFlags } from './common.js';

// Which data a command works on: a data dir (read directly) or a running server's admin API.

export type Target = { kind: 'local'; dataDir: string; /** postgres:// URL of the metadata engine. */ metadata?: string } | { kind: 'remote'; url: string; token: string };

/**
 * --url (+ --token or CAIRN_ADMIN_TOKEN) talks to a server; otherwise --data-dir, CAIRN_DATA_DIR
 * or ./data (read through src/config.ts, as the server reads them). Configuration problems are
 * usage errors (exit 2) with a message saying what to pass.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  if (flags.url !== undefined && flags.dataDir !== undefined) throw usage('use either --data-dir or --url, not both');
  if (flags.url !== undefined && flags.metadata !== undefined) throw usage('use either --metadata or --url, not both');
  if (flags.url !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      throw usage(`--url: not an http(s) URL: "${flags.url}" (the admin API, e.g. http://127.0.0.1:9001)`);
    }
    const { adminToken: token } = loadSettings(['adminToken'], { adminToken: flags.token }, env, { adminToken: '--token' });
    if (!token) throw usage('--url needs an admin token: --token or CAIRN_ADMIN_TOKEN (the server keeps it in <data-dir>/admin-token)');
    return { kind: 'remote', url: url.toString().replace(/\/+$/, ''), token };
  }
  const { dataDir: dir, metadata } = loadSettings(['dataDir', 'metadata'], { dataDir: flags.dataDir, metadata: flags.metadata }, env);
  // On PostgreSQL the data dir holds chunk files only (and may not exist yet on this host).
  if (metadata !== undefined) return { kind: 'local', dataDir: path.resolve(dir), metadata };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw usage(`no cairn data dir at ${dir} (use --data-dir or --url)`);
  }
  if (!fs.existsSync(path.join(dir, 'cairn.db'))) {
    throw usage(`${dir} has no cairn.db: not a cairn data dir (start \`cairn serve --data-dir ${dir}\` once, or use --url)`);
  }
  return { kind: 'local', dataDir: path.resolve(dir) };
}
