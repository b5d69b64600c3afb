import net from 'node:net';
import tls from 'node:tls';
import { signRequest } from '../../src/auth/sigv4.js';

// Raw HTTP/1.1 exchanges on one socket, byte for byte: what a client that sends
// `Expect: 100-continue` sees (a 100 or not, then the final answer), and header bytes beyond
// ASCII exactly as they travel. Signing uses cairn's own SigV4 signer.

export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. '/bucket/key?uploads'. */
  target: string;
  /** Header values are written as Latin-1 (one byte per character). */
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Signs the request (UNSIGNED-PAYLOAD) with this pair; anonymous without. */
  as?: { id: string; secret: string };
  /** Over TLS, trusting this CA (PEM text). */
  ca?: string;
}

export interface RawExchange {
  /** The server wrote `100 Continue` before its final answer. */
  continued: boolean;
  /** The body was sent (after 100 Continue, or at once without Expect). */
  bodySent: boolean;
  status: number;
  /** The final answer's header block, as Latin-1 text. */
  head: string;
  body: Buffer;
  /** The server closed the connection after its answer. */
  closed: boolean;
}

/** The request's header block (signed when `as` is given), ending with the empty line. */
export function rawHead(req: RawRequest, host: string): string {
  let headers: Record<string, string> = { host, ...req.headers };
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  if (body !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
  if (req.as) {
    const q = req.target.indexOf('?');
    const signed = signRequest(
      {
        method: req.method,
        rawPath: q < 0 ? req.target : req.target.slice(0, q),
        rawQuery: q < 0 ? '' : req.target.slice(q + 1),
        headers: { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { accessKeyId: req.as.id, secretAccessKey: req.as.secret, region: 'us-east-1', date: new Date() },
    );
    headers = signed.request.headers as Record<string, string>;
  }
  return `${req.method} ${req.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/**
 * Sends the header block, then the body only once `100 Continue` arrives (with `Expect:
 * 100-continue` in the headers) or at once (without). Resolves when the final answer is complete
 * and, when the server says `Connection: close`, once the socket has closed.
 */
export function exchange(port: number, req: RawRequest): Promise<RawExchange> {
  const waits = /100-continue/i.test(req.headers?.expect ?? '');
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  return new Promise((resolve, reject) => {
    const socket = req.ca === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', ca: req.ca });
    let buf = Buffer.alloc(0);
    const r: RawExchange = { continued: false, bodySent: false, status: 0, head: '', body: Buffer.alloc(0), closed: false };
    let complete = false;
    const sendBody = () => {
      r.bodySent = true;
      socket.write(body);
    };
    const finish = () => {
      socket.destroy();
      resolve(r);
    };
    socket.on('error', reject);
    socket.on('close', () => {
      r.closed = true;
      if (complete) resolve(r);
      else reject(new Error(`connection closed before a complete answer: ${buf.toString('latin1')}`));
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0 || complete) break;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        if (status === 100) {
          r.continued = true;
          buf = buf.subarray(end + 4);
          if (waits && !r.bodySent) sendBody();
          continue;
        }
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        const noBody = req.method === 'HEAD' || status === 204 || status === 304;
        if (!noBody && buf.length < end + 4 + length) break;
        Object.assign(r, { status, head, body: buf.subarray(end + 4, end + 4 + (noBody ? 0 : length)) });
        complete = true;
        // Wait for the close the server announced; otherwise the exchange is over.
        if (!/\r\nconnection: close/i.test(head)) finish();
        break;
      }
    });
    socket.write(Buffer.from(rawHead(req, `127.0.0.1:${port}`), 'latin1'));
    if (!waits && body.length > 0) sendBody();
  });
}
