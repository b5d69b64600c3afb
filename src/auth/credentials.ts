import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** True when this start generated them (the caller prints them, once). */
  generated: boolean;
}

export type CredentialPair = Omit<RootCredentials, 'generated'>;

export const CREDENTIALS_FILE = 'credentials.json';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A credentials.json that exists but cannot be used (not JSON, or without the pair). */
export class CredentialsFileError extends Error {
  constructor(readonly file: string) {
    super(`${CREDENTIALS_FILE} in the data dir is damaged: remove it to generate new credentials`);
    this.name = 'CredentialsFileError';
  }
}

/**
 * The root pair without ever writing: from the configuration when given, else the pair kept in
 * the data dir; undefined when neither exists. The server generates a pair on first start; the
 * CLI reads with this, so a command run against the wrong folder cannot create credentials.
 */
export function readRootCredentials(
  dataDir: string | undefined,
  fromConfig?: { accessKeyId?: string; secretAccessKey?: string },
): CredentialPair | undefined {
  if (fromConfig?.accessKeyId && fromConfig.secretAccessKey) {
    return { accessKeyId: fromConfig.accessKeyId, secretAccessKey: fromConfig.secretAccessKey };
  }
  if (dataDir === undefined) return undefined;
  const file = path.join(dataDir, CREDENTIALS_FILE);
  if (!fs.existsSync(file)) return undefined;
  let saved: { accessKeyId?: unknown; secretAccessKey?: unknown } | null;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err;
    throw new CredentialsFileError(file);
  }
  if (typeof saved?.accessKeyId !== 'string' || typeof saved.secretAccessKey !== 'string') throw new CredentialsFileError(file);
  return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey };
}

/** A new random root pair. */
export function newRootPair(): CredentialPair {
  const bytes = randomBytes(18);
  // 20 characters, like an AWS access key id, so clients that check the shape accept it.
  const accessKeyId = 'CA' + Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('');
  const secretAccessKey = randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'y'));
  return { accessKeyId, secretAccessKey };
}

/**
 * Root credentials for the server: as readRootCredentials, else a new pair written to the data
 * dir (mode 0600) so restarts keep working with the same keys.
 */
export function loadRootCredentials(dataDir: string, fromConfig?: { accessKeyId?: string; secretAccessKey?: string }): RootCredentials {
  const found = readRootCredentials(dataDir, fromConfig);
  if (found) return { ...found, generated: false };
  const file = path.join(dataDir, CREDENTIALS_FILE);
  const { accessKeyId, secretAccessKey } = newRootPair();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ accessKeyId, secretAccessKey }, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { accessKeyId, secretAccessKey, generated: true };
}
