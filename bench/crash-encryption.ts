// The crash campaign on encrypted data (bench/crash.ts --encryption sse-s3|sse-c, issue 20):
//   sse-s3: the server starts with a key file and encryptAll, so every write of every bucket is
//           SSE-S3 (the same workload as the plain campaign, sealed);
//   sse-c:  the same, over https (SSE-C needs TLS), and every write of the plain bucket carries a
//           client key (SSE-C): PUTs, multipart uploads and parts, copies (source and destination
//           keys), and every read brings it back.
// After each kill, server stopped: every chunk file and every inline chunk row starts with the
// sealed-chunk header (nothing stored in clear). Restarted: every acknowledged object reads back
// byte-exact, which means it decrypted (GCM's tag checked every chunk). At the end, the data dir
// (chunk files, cairn.db and its WAL) holds none of the workload's known plaintexts.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import Database from 'better-sqlite3';

export type CrashEncryption = 'sse-s3' | 'sse-c';
export const CRASH_ENCRYPTIONS: readonly CrashEncryption[] = ['sse-s3', 'sse-c'];

/** The sealed-chunk header's magic (src/storage/chunk-cipher.ts). */
const MAGIC = Buffer.from('CRNE', 'latin1');

export interface EncryptionSetup {
  mode: CrashEncryption;
  /** CAIRN_* settings for the server. */
  env: Record<string, string>;
  /** With TLS: the certificate the clients trust. */
  ca?: Buffer;
  /** SSE-C request parameters of the plain bucket's writes and reads (undefined for sse-s3). */
  customer?: { SSECustomerAlgorithm: 'AES256'; SSECustomerKey: string; SSECustomerKeyMD5: string };
  /** The same key as the copy source's parameters. */
  copySource?: { CopySourceSSECustomerAlgorithm: 'AES256'; CopySourceSSECustomerKey: string; CopySourceSSECustomerKeyMD5: string };
}

/** The key file, certificate and client parameters, in `dir` (outside the data dir: keys never sit beside the data). */
export function encryptionSetup(mode: CrashEncryption, dir: string): EncryptionSetup {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'keys');
  // Two keys: the first one's id is still readable, the last one seals (a rotated key file).
  fs.writeFileSync(keyFile, `old ${randomBytes(32).toString('base64')}\ncrash-2026 ${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const env: Record<string, string> = { CAIRN_ENCRYPTION_KEY_FILE: keyFile, CAIRN_ENCRYPT_ALL: 'true' };
  if (mode === 'sse-s3') return { mode, env };
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=cairn-crash', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const k = randomBytes(32);
  const b64 = k.toString('base64');
  const md5 = createHash('md5').update(k).digest('base64');
  return {
    mode,
    env: { ...env, CAIRN_TLS_CERT: cert, CAIRN_TLS_KEY: key },
    ca: fs.readFileSync(cert),
    customer: { SSECustomerAlgorithm: 'AES256', SSECustomerKey: b64, SSECustomerKeyMD5: md5 },
    copySource: { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: b64, CopySourceSSECustomerKeyMD5: md5 },
  };
}

/** POST to the admin API over https trusting `ca` (fetch cannot be given a CA). */
export function postTls(url: string, token: string, ca: Buffer): Promise<{ ok: boolean; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ ok: res.statusCode! >= 200 && res.statusCode! < 300, status: res.statusCode!, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function* chunkFiles(dataDir: string): Generator<string> {
  for (const e of fs.readdirSync(path.join(dataDir, 'chunks'), { recursive: true, withFileTypes: true })) {
    if (e.isFile() && /^[0-9a-f]{64}$/.test(e.name)) yield path.join(e.parentPath, e.name);
  }
}

/** Chunk files and inline chunk rows that do not start with the sealed header: each one is data stored in clear. */
export function unsealedChunks(dataDir: string): { clear: string[]; checked: number } {
  const out: string[] = [];
  let checked = 0;
  const head = Buffer.alloc(4);
  for (const file of chunkFiles(dataDir)) {
    checked++;
    const fd = fs.openSync(file, 'r');
    try {
      const n = fs.readSync(fd, head, 0, 4, 0);
      if (n < 4 || !head.equals(MAGIC)) out.push(path.basename(file));
    } finally {
      fs.closeSync(fd);
    }
  }
  const db = new Database(path.join(dataDir, 'cairn.db'), { readonly: true });
  try {
    const rows = db.prepare("SELECT hash FROM chunks WHERE data IS NOT NULL AND (length(data) < 4 OR substr(data, 1, 4) != CAST('CRNE' AS BLOB))").pluck().all() as string[];
    out.push(...rows.map((h) => `inline ${h}`));
  } finally {
    db.close();
  }
  return { clear: out, checked };
}

/**
 * Where any of `needles` (slices of bytes the workload wrote) appears in the data dir: chunk
 * files, cairn.db and its WAL. Empty when nothing is there in clear.
 */
export function plaintextFound(dataDir: string, needles: Buffer[]): string[] {
  const found: string[] = [];
  const files = [...chunkFiles(dataDir), ...['cairn.db', 'cairn.db-wal'].map((f) => path.join(dataDir, f)).filter((f) => fs.existsSync(f))];
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    for (const [i, n] of needles.entries()) if (bytes.includes(n)) found.push(`${path.relative(dataDir, file)} holds needle ${i}`);
  }
  return found;
}

/** 48-byte slices of each buffer, one per `every` bytes (chunk-aligned and not). */
export function needlesOf(buffers: Buffer[], every: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) for (let at = 0; at + 48 <= b.length; at += every) out.push(b.subarray(at + (at % 7), at + (at % 7) + 48));
  return out.filter((n) => n.length === 48);
}
