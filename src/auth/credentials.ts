import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** True when this start generated them (the caller prints them, once). */
  generated: boolean;
}

const FILE = 'credentials.json';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Root credentials: from the configuration when given, else the pair kept in the data dir,
 * else a new pair written there (mode 0600) so restarts keep working with the same keys.
 */
export function loadRootCredentials(dataDir: string, fromConfig?: { accessKeyId?: string; secretAccessKey?: string }): RootCredentials {
  if (fromConfig?.accessKeyId && fromConfig.secretAccessKey) {
    return { accessKeyId: fromConfig.accessKeyId, secretAccessKey: fromConfig.secretAccessKey, generated: false };
  }
  const file = path.join(dataDir, FILE);
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { accessKeyId?: unknown; secretAccessKey?: unknown };
    if (typeof saved.accessKeyId !== 'string' || typeof saved.secretAccessKey !== 'string') {
      throw new Error(`${FILE} in the data dir is damaged: remove it to generate new credentials`);
    }
    return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey, generated: false };
  }
  const bytes = randomBytes(18);
  // 20 characters, like an AWS access key id, so clients that check the shape accept it.
  const accessKeyId = 'CA' + Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('');
  const secretAccessKey = randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'y'));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ accessKeyId, secretAccessKey }, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { accessKeyId, secretAccessKey, generated: true };
}
