import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// The admin API's bearer token: CAIRN_ADMIN_TOKEN when set, else the one kept in the data dir,
// else a new one written there (mode 0600) on first start and printed once by the CLI.

export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminToken {
  token: string;
  /** True when this start generated it (the caller prints it, once). */
  generated: boolean;
}

export function loadAdminToken(dataDir: string, configured?: string): AdminToken {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new Error(`${ADMIN_TOKEN_FILE} in the data dir is damaged: remove it to generate a new token`);
    return { token, generated: false };
  }
  const token = randomBytes(24).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, token + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { token, generated: true };
}

/** The admin token as the PostgreSQL engine keeps it (settings): its SHA-256, hex. */
export const tokenSha256 = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The token a gateway checks bearers against: the token itself, or only its SHA-256 (hex) when
 * another gateway generated it and kept its hash in the metadata database.
 */
export type TokenCheck = string | { sha256: string };

/**
 * Constant-time check of an Authorization header against the token. Both sides are hashed
 * first, so the comparison takes the same time whatever the length of the guess.
 */
export function bearerMatches(header: string | undefined, token: TokenCheck): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const expected = Buffer.from(typeof token === 'string' ? tokenSha256(token) : token.sha256, 'hex');
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const ok = expected.length === given.length && timingSafeEqual(given, expected);
  return ok && m !== null;
}
