// The server keys of SSE-S3, kept outside the metadata: a key file (`encryptionKeyFile`, lines
// `<key-id> <base64 of 32 bytes>`, the last line the active key for new data, earlier ones still
// read: that is rotation) or one key in the environment (`encryptionKey`, key id "env").
// docs/encryption.md.
import fs from 'node:fs';
import { ConfigError } from '../config.js';
import { MAX_KEY_ID, serverKeys, type SealSpec } from './chunk-cipher.js';

type ServerSeal = Extract<SealSpec, { mode: 1 }>;

export class ServerKeyring {
  private readonly keys: ReadonlyMap<string, ServerSeal>;
  /** What new SSE-S3 chunks are sealed with. */
  readonly active: ServerSeal;

  constructor(entries: Array<{ id: string; key: Buffer }>) {
    if (entries.length === 0) throw new Error('a key ring needs a key');
    const keys = new Map<string, ServerSeal>();
    for (const e of entries) keys.set(e.id, serverKeys(e.id, e.key));
    this.keys = keys;
    this.active = keys.get(entries[entries.length - 1]!.id)!;
  }

  /** The data key of a stored chunk's key id; a clear error when this server lacks it. */
  dataKey(keyId: string): Uint8Array {
    const k = this.keys.get(keyId);
    if (!k) throw new Error(`encryption key "${keyId}" is not in the server's keys (encryptionKeyFile): the chunk cannot be decrypted`);
    return k.dataKey;
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }
}

const LINE = /^(\S+)\s+([A-Za-z0-9+/]{43}=)$/;

/** Parses a key file's text; throws ConfigError naming the setting and the line. */
export function parseKeyFile(text: string, where: string): ServerKeyring {
  const entries: Array<{ id: string; key: Buffer }> = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    const bad = (why: string) => new ConfigError(`encryptionKeyFile (--encryption-key-file, CAIRN_ENCRYPTION_KEY_FILE): ${where} line ${i + 1}: ${why}`);
    if (!m) throw bad('expected "<key-id> <base64 of 32 bytes>"');
    if (Buffer.byteLength(m[1]!) > MAX_KEY_ID) throw bad(`key id longer than ${MAX_KEY_ID} bytes`);
    if (seen.has(m[1]!)) throw bad(`key id "${m[1]}" appears twice`);
    seen.add(m[1]!);
    entries.push({ id: m[1]!, key: Buffer.from(m[2]!, 'base64') });
  }
  if (entries.length === 0) throw new ConfigError(`encryptionKeyFile (--encryption-key-file, CAIRN_ENCRYPTION_KEY_FILE): ${where} holds no key`);
  return new ServerKeyring(entries);
}

/** The configured server keys, or undefined when none is configured (SSE-S3 is then refused). */
export function loadServerKeys(c: { encryptionKeyFile?: string; encryptionKey?: string; encryptAll?: boolean }): ServerKeyring | undefined {
  if (c.encryptionKeyFile !== undefined && c.encryptionKey !== undefined) {
    throw new ConfigError('encryptionKeyFile (CAIRN_ENCRYPTION_KEY_FILE) and encryptionKey (CAIRN_ENCRYPTION_KEY): set one of them, not both');
  }
  let ring: ServerKeyring | undefined;
  if (c.encryptionKeyFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(c.encryptionKeyFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`encryptionKeyFile (--encryption-key-file, CAIRN_ENCRYPTION_KEY_FILE): cannot read ${c.encryptionKeyFile}: ${(err as Error).message}`);
    }
    ring = parseKeyFile(text, c.encryptionKeyFile);
  } else if (c.encryptionKey !== undefined) {
    ring = new ServerKeyring([{ id: 'env', key: Buffer.from(c.encryptionKey, 'base64') }]);
  }
  if (c.encryptAll && !ring) throw new ConfigError('encryptAll (--encrypt-all, CAIRN_ENCRYPT_ALL) needs a server key: set encryptionKeyFile or encryptionKey');
  return ring;
}
