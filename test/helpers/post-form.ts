import { createHmac } from 'node:crypto';
import http from 'node:http';
import { signingKey } from '../../src/auth/sigv4.js';

// Browser form uploads (PostObject) for tests: policies signed by hand (SigV4 and SigV2), as a
// web app's server would sign them, and the form posted with Node's fetch and FormData.

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type Condition = Record<string, string> | [string, string | number, string | number];

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export function encodePolicy(conditions: Condition[], expiresInMs = 3_600_000): string {
  const expiration = new Date(Date.now() + expiresInMs).toISOString();
  return Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');
}

/**
 * The SigV4 fields of a form: the credential fields (covered by conditions added here), the
 * policy and its signature. `conditions` are the caller's own (bucket, key, ...).
 */
export function signedV4Fields(creds: Credentials, conditions: Condition[], opts: { expiresInMs?: number; region?: string; now?: Date } = {}): Record<string, string> {
  const now = opts.now ?? new Date();
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const region = opts.region ?? 'us-east-1';
  const credential = `${creds.accessKeyId}/${day}/${region}/s3/aws4_request`;
  const own = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': date };
  const policy = encodePolicy([...conditions, ...Object.entries(own).map(([k, v]) => ({ [k]: v }))], opts.expiresInMs);
  const signature = createHmac('sha256', signingKey(creds.secretAccessKey, day, region, 's3')).update(policy).digest('hex');
  return { ...own, policy, 'x-amz-signature': signature };
}

/** The SigV2 fields: AWSAccessKeyId, policy, signature (base64 HMAC-SHA1 of the policy). */
export function signedV2Fields(creds: Credentials, conditions: Condition[], expiresInMs?: number): Record<string, string> {
  const policy = encodePolicy(conditions, expiresInMs);
  return { AWSAccessKeyId: creds.accessKeyId, policy, signature: createHmac('sha1', creds.secretAccessKey).update(policy).digest('base64') };
}

export interface PostResult {
  status: number;
  headers: Headers;
  body: string;
}

/** Posts fields then the file (then `after`, fields S3 ignores), as a browser would. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  file: { data: Buffer | string; name?: string; type?: string } | undefined,
  opts: { after?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<PostResult> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([typeof file.data === 'string' ? file.data : new Uint8Array(file.data)], { type: file.type ?? 'application/octet-stream' }), file.name ?? 'upload.bin');
  for (const [k, v] of Object.entries(opts.after ?? {})) form.append(k, v);
  const res = await fetch(url, { method: 'POST', body: form, redirect: 'manual', headers: opts.headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The same form sent with a Host header of the caller's (fetch cannot set Host): virtual-host style. */
export async function postFormAs(url: string, host: string, fields: Record<string, string>, file: { data: string; name?: string }): Promise<PostResult> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file.data]), file.name ?? 'upload.bin');
  // A Response serializes the form with its boundary, as fetch would send it.
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const headers = { Host: host, 'Content-Type': encoded.headers.get('content-type')!, 'Content-Length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const errorCode = (r: { body: string }) => /<Code>([^<]*)<\/Code>/.exec(r.body)?.[1];
export const errorMessage = (r: { body: string }) => /<Message>([^<]*)<\/Message>/.exec(r.body)?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, "'");
