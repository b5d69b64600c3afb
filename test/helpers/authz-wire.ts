import http from 'node:http';
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { signRequest } from '../../src/auth/sigv4.js';
import type { TestServer } from './server.js';
import { signedV4Fields } from './post-form.js';

// Two accounts with imported, fixed key pairs, and raw HTTP requests made as any of them (or
// as nobody), so the authorization tests can read the status and the XML error code exactly as
// they left the server. Signing uses cairn's own SigV4 signer (bad-input.test.ts does too):
// these tests are about who may do what, not about signatures.

/** Fixed pairs, imported as `cairn keys create --access-key-id/--secret-access-key` would. */
export const KEYS = {
  /** Account A's working key: every bucket, bypass included. */
  owner: { id: 'AKIAOWNER0000000001', secret: 'ownerSecret/0000000000000000000000000001' },
  /** Account A's limited key: may only read, on every bucket. */
  limited: { id: 'AKIALIMITED000000001', secret: 'limitedSecret/000000000000000000000001' },
  /** Account B's key: may write on every bucket (what its account may do is up to A's rules). */
  other: { id: 'AKIAOTHER0000000001', secret: 'otherSecret/0000000000000000000000000001' },
} as const;

export interface KeyPair {
  id: string;
  secret: string;
}

export interface Accounts {
  /** Account A (owns the buckets under test) and account B: canonical ids. */
  a: string;
  b: string;
}

/** Creates accounts A and B and imports the fixed keys (once per server). */
export async function createAccounts(srv: TestServer): Promise<Accounts> {
  const a = await srv.meta.accounts.create({ name: 'team-a', email: 'a@example.com' });
  const b = await srv.meta.accounts.create({ name: 'team-b', email: 'b@example.com' });
  const key = (accountId: string, k: KeyPair, description: string, grants: Array<{ bucket: string; permission: 'read' | 'write' | 'bypass' }>) =>
    srv.meta.keys.create({ accountId, description, grants, accessKeyId: k.id, secretAccessKey: k.secret });
  await key(a.id, KEYS.owner, 'A: everything', [{ bucket: '*', permission: 'bypass' }]);
  await key(a.id, KEYS.limited, 'A: read only', [{ bucket: '*', permission: 'read' }]);
  await key(b.id, KEYS.other, 'B: write', [{ bucket: '*', permission: 'write' }]);
  return { a: a.id, b: b.id };
}

export interface WireRequest {
  method: string;
  bucket?: string;
  /** Plain key (letters, digits, '.', '-', '/'): sent as is. */
  key?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * PostObject: the form's fields (the file follows them, `body` its bytes). The caller signs the
   * form (a SigV4 policy covering every field), not the request.
   */
  form?: Record<string, string>;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The XML error's <Code>, when the body is an <Error>. */
  code?: string;
}

export const md5 = (s: string) => createHash('md5').update(s).digest('base64');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Raw HTTP to one test server; `as` undefined sends the request unsigned (anonymous). */
export class Wire {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly host: string;

  constructor(private readonly port: number) {
    this.host = `127.0.0.1:${port}`;
  }

  async send(as: KeyPair | undefined, r: WireRequest): Promise<WireResponse> {
    const rawPath = `/${r.bucket ?? ''}${r.key !== undefined ? `/${r.key}` : ''}`;
    if (r.form) return this.sendForm(as, rawPath, r, r.form);
    const body = r.body ?? '';
    let headers: Record<string, string> = { host: this.host, ...r.headers };
    if (r.body !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(body));
      // Every S3 body cairn takes may carry Content-MD5; some operations require it.
      headers['content-md5'] ??= md5(body);
    }
    if (as) {
      headers['x-amz-content-sha256'] = sha256(body);
      const signed = signRequest(
        { method: r.method, rawPath, rawQuery: r.query ?? '', headers },
        { accessKeyId: as.id, secretAccessKey: as.secret, region: 'us-east-1', date: new Date() },
      );
      headers = signed.request.headers as Record<string, string>;
    }
    return this.raw(r.method, rawPath + (r.query ? `?${r.query}` : ''), headers, Buffer.from(body));
  }

  /** A browser form upload: signed in its fields (by `as`), or anonymous. */
  private async sendForm(as: KeyPair | undefined, rawPath: string, r: WireRequest, form: Record<string, string>): Promise<WireResponse> {
    const own = Object.entries(form).map(([k, v]) => ({ [k]: v }));
    const fields = as ? { ...form, ...signedV4Fields({ accessKeyId: as.id, secretAccessKey: as.secret }, [{ bucket: r.bucket ?? '' }, ...own]) } : form;
    const data = new FormData();
    for (const [k, v] of Object.entries(fields)) data.append(k, v);
    data.append('file', new Blob([r.body ?? '']), 'file.txt');
    // A Response serializes the form with its boundary, as a browser sends it.
    const encoded = new Response(data);
    const body = Buffer.from(await encoded.arrayBuffer());
    const headers = { host: this.host, 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) };
    return this.raw(r.method, rawPath + (r.query ? `?${r.query}` : ''), headers, body);
  }

  private raw(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const code = /^<\?xml[^>]*>\s*<Error>[\s\S]*?<Code>([^<]*)<\/Code>/.exec(text)?.[1];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, code });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Like send(), but throws unless the answer is 2xx: for setting up fixtures. */
  async ok(as: KeyPair | undefined, r: WireRequest): Promise<WireResponse> {
    const res = await this.send(as, r);
    if (res.status >= 300) throw new Error(`${r.method} /${r.bucket ?? ''}/${r.key ?? ''}?${r.query ?? ''}: ${res.status}\n${res.text}`);
    return res;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Everything the store holds about one bucket (its row, every version, uploads and their parts,
 * CORS), read from SQLite: equal before and after a refused request means it changed nothing.
 */
export function bucketState(db: Database.Database, name: string): string {
  const b = db.prepare('SELECT * FROM buckets WHERE name = ?').get(name) as { id: number } | undefined;
  if (!b) return 'no such bucket';
  const all = (sql: string) => db.prepare(sql).all(b.id);
  return JSON.stringify({
    bucket: b,
    objects: all('SELECT * FROM objects WHERE bucket_id = ? ORDER BY id'),
    uploads: all('SELECT * FROM multipart_uploads WHERE bucket_id = ? ORDER BY id'),
    parts: all('SELECT p.* FROM upload_parts p JOIN multipart_uploads u ON u.id = p.upload_id WHERE u.bucket_id = ? ORDER BY p.upload_id, p.part_number'),
    cors: all('SELECT rules FROM bucket_cors WHERE bucket_id = ?'),
  });
}
