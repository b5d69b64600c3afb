// The arms of `bench/ab.ts --encryption` (issue 20): this build against itself, the same load
//   plain   http, nothing encrypted
//   sse-s3  http, the server started with a key and encryptAll: every write sealed, every read opened
//   https   TLS, nothing encrypted (what SSE-C is compared with: SSE-C needs TLS)
//   sse-c   TLS, every PUT and GET with a client key (SSE-C headers, signed)
// and each server's peak RSS (VmHWM) over the arm.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ENCRYPTION_ARMS = ['plain', 'sse-s3', 'https', 'sse-c'] as const;
export type EncryptionArm = (typeof ENCRYPTION_ARMS)[number];

export interface ArmSetup {
  /** CAIRN_* settings of the server. */
  env: Record<string, string>;
  /** PutObject parameters of the seeded objects (SDK). */
  sdkParams: Record<string, string>;
  /** Headers of every wrk request (signed). */
  headers: Record<string, string>;
  /** For curl: the same headers, the CA of the https listener, and whether the ETag is the MD5. */
  curl: { headers: Record<string, string>; cacert?: string; anyEtag: boolean };
}

/** The key, certificate and client key, made once in `dir`. */
export function encryptionArms(dir: string): Record<EncryptionArm, ArmSetup> {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=cairn-bench', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const tls = { CAIRN_TLS_CERT: cert, CAIRN_TLS_KEY: key };
  const customer = randomBytes(32);
  const c = { algorithm: 'AES256', key: customer.toString('base64'), md5: createHash('md5').update(customer).digest('base64') };
  const headers = {
    'x-amz-server-side-encryption-customer-algorithm': c.algorithm,
    'x-amz-server-side-encryption-customer-key': c.key,
    'x-amz-server-side-encryption-customer-key-md5': c.md5,
  };
  const none = { sdkParams: {}, headers: {} };
  return {
    plain: { env: {}, ...none, curl: { headers: {}, anyEtag: false } },
    'sse-s3': { env: { CAIRN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), CAIRN_ENCRYPT_ALL: 'true' }, ...none, curl: { headers: {}, anyEtag: false } },
    https: { env: tls, ...none, curl: { headers: {}, cacert: cert, anyEtag: false } },
    'sse-c': {
      env: tls,
      sdkParams: { SSECustomerAlgorithm: c.algorithm, SSECustomerKey: c.key, SSECustomerKeyMD5: c.md5 },
      headers,
      // An SSE-C object's ETag is not the MD5 of its bytes.
      curl: { headers, cacert: cert, anyEtag: true },
    },
  };
}

/** A process's peak resident set (VmHWM), MiB; NaN when it cannot be read. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
