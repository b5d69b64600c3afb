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
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Target } from '../harness.js';
import type { Op } from './large-clients.js';

export const ENCRYPTION_ARMS = ['plain', 'sse-s3', 'https', 'sse-c'] as const;
export type EncryptionArm = (typeof ENCRYPTION_ARMS)[number];

export interface ArmSetup {
  /** CAIRN_* settings of the server. */
  env: Record<string, string>;
  /** PutObject parameters of the seeded objects (SDK). */
  sdkParams: Record<string, string>;
  /** Headers of every wrk request (signed). */
  headers: Record<string, string>;
  /** For curl: the same headers, the CA of the https listener, whether the ETag is the MD5, and whether it sends presigned URLs. */
  curl: { headers: Record<string, string>; cacert?: string; anyEtag: boolean; presigned?: boolean };
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
    // Both https arms send presigned URLs (see curlMover): SSE-C against https compares like with like.
    https: { env: tls, ...none, curl: { headers: {}, cacert: cert, anyEtag: false, presigned: true } },
    'sse-c': {
      env: tls,
      sdkParams: { SSECustomerAlgorithm: c.algorithm, SSECustomerKey: c.key, SSECustomerKeyMD5: c.md5 },
      headers,
      // An SSE-C object's ETag is not the MD5 of its bytes.
      curl: { headers, cacert: cert, anyEtag: true, presigned: true },
    },
  };
}

/** URLs for curl, presigned with the arm's SSE-C parameters as signed headers (not hoisted into the query). */
export function presigner(target: Target, sdkParams: Record<string, string>): (op: Op, key: string) => Promise<string> {
  const s3 = new S3Client({ endpoint: target.url, region: 'us-east-1', forcePathStyle: true, credentials: target.credentials });
  const unhoistableHeaders = new Set(Object.keys(sdkParams).length ? ['x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-customer-key', 'x-amz-server-side-encryption-customer-key-md5'] : []);
  return (op, key) => {
    const input = { Bucket: 'bench', Key: key, ...sdkParams };
    return getSignedUrl(s3, op === 'PUT' ? new PutObjectCommand(input) : new GetObjectCommand(input), { expiresIn: 3600, unhoistableHeaders });
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
