import fs from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { ConfigError, ENV_NAMES, type Config } from '../config.js';

// The listeners' certificates: read from PEM files, checked before use (at start-up a bad file
// stops the server naming the setting; on SIGHUP it keeps the certificate in use).

/** One listener's pair of PEM files and the settings that named them (for messages). */
export interface TlsFiles {
  cert: string;
  key: string;
  certSetting: 'tlsCert' | 'adminTlsCert';
  keySetting: 'tlsKey' | 'adminTlsKey';
}

/** The PEM contents, ready for https.createServer and server.setSecureContext. */
export interface TlsPem {
  cert: Buffer;
  key: Buffer;
}

/** The S3 listener's files, undefined for plain HTTP. */
export function s3TlsFiles(config: Config): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  return { cert: config.tlsCert, key: config.tlsKey, certSetting: 'tlsCert', keySetting: 'tlsKey' };
}

/** The admin listener's files: its own pair, else the S3 listener's, else plain HTTP. */
export function adminTlsFiles(config: Config): TlsFiles | undefined {
  if (config.adminTlsCert !== undefined && config.adminTlsKey !== undefined) {
    return { cert: config.adminTlsCert, key: config.adminTlsKey, certSetting: 'adminTlsCert', keySetting: 'adminTlsKey' };
  }
  return s3TlsFiles(config);
}

const named = (setting: keyof typeof ENV_NAMES) => `${ENV_NAMES[setting]} (--${setting.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())})`;

/**
 * Reads and checks a pair: each file readable, the certificate a PEM certificate, the key a PEM
 * private key (unencrypted), and the key the certificate's. Throws ConfigError naming the setting.
 */
export function readTlsFiles(files: TlsFiles): TlsPem {
  const read = (file: string, setting: keyof typeof ENV_NAMES): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new ConfigError(`${named(setting)}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const cert = read(files.cert, files.certSetting);
  const key = read(files.key, files.keySetting);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new ConfigError(`${named(files.certSetting)}: ${files.cert} is not a PEM certificate (${(e as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new ConfigError(`${named(files.keySetting)}: ${files.key} is not an unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${named(files.keySetting)}: ${files.key} is not the private key of the certificate in ${files.cert} (${named(files.certSetting)})`);
  }
  try {
    // What the listener will do with them: catches what the checks above do not (a bad chain).
    tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new ConfigError(`${named(files.certSetting)}: ${files.cert} with ${files.key} cannot be used: ${(e as Error).message}`);
  }
  return { cert, key };
}

/** A listener that can take a new certificate without dropping its connections. */
export interface Reloadable {
  name: string;
  files: TlsFiles;
  server: tls.Server;
}

export interface TlsReloadResult {
  /** Listener names whose certificates were replaced. */
  reloaded: string[];
  /** Listener names that keep their certificate, with why. */
  failed: Array<{ listener: string; error: string }>;
}

/**
 * Re-reads every listener's PEM files and swaps them in: connections already open keep the
 * certificate they shook hands with, new ones get the new one. A file that does not pass
 * readTlsFiles leaves that listener's certificate as it was, and is logged, never thrown.
 */
export function reloadTls(listeners: Reloadable[], log: Logger): TlsReloadResult {
  const result: TlsReloadResult = { reloaded: [], failed: [] };
  if (listeners.length === 0) log.info('SIGHUP: no TLS listener, nothing to reload');
  for (const l of listeners) {
    try {
      l.server.setSecureContext(readTlsFiles(l.files));
      result.reloaded.push(l.name);
    } catch (e) {
      const error = (e as Error).message;
      result.failed.push({ listener: l.name, error });
      log.error({ listener: l.name, cert: l.files.cert, key: l.files.key, error }, 'TLS reload failed: the certificate in use is kept');
    }
  }
  if (result.reloaded.length > 0) log.info({ listeners: result.reloaded }, 'TLS certificates reloaded');
  return result;
}
