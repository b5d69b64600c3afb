import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { MAX_HEADERS_COUNT } from '../app.js';
import { errorXml } from '../s3/xml.js';
import { S3_ERRORS, type S3ErrorCode } from '../s3/errors.js';
import type { Config } from '../config.js';
import type { TlsPem } from './tls.js';

// The S3 listener's socket-level rules: timeouts, header limits, the slow-upload guard, and S3
// XML for requests node's parser refuses before the app sees them.

/**
 * No total request timeout (a 5 GiB PUT may take minutes), but an idle socket is closed: a
 * client that stops sending mid-upload must not hold pool buffers forever. Headers must arrive
 * within headersTimeout (slowloris), idle keep-alive sockets go after keepAliveTimeout, and a
 * socket serves at most MAX_REQUESTS_PER_SOCKET requests before it is told to close. With `pem`
 * it is an https.Server: the same options and rules, over TLS.
 */
export function createS3Server(handler: http.RequestListener, config: Config, pem?: TlsPem): HttpServer {
  const options: http.ServerOptions = {
    requestTimeout: 0,
    headersTimeout: config.headersTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    // How often node checks headersTimeout: often enough that a short timeout is honoured.
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(config.headersTimeout / 4))),
    maxHeaderSize: MAX_HEADER_BYTES,
    // app.ts answers a missing Host itself: node's bare 400 would also hide a Host that
    // maxHeadersCount dropped, where the real problem is the header count.
    requireHostHeader: false,
  };
  const listener = watchingUploadRate(handler, config);
  // headersTimeout only starts once TLS is up: a handshake gets the same time, not node's 120 s.
  const server: HttpServer = pem
    ? https.createServer({ ...options, ...pem, handshakeTimeout: config.headersTimeout }, listener)
    : http.createServer(options, listener);
  // Headers beyond this count are dropped by node without notice: app.ts refuses such requests.
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  server.setTimeout(config.idleTimeout, (socket) => {
    // Quiet because cairn is not reading (the upload waits for a write buffer) is not idle.
    if (!waitingOnUs(socket)) socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
  // Expect: 100-continue: node would write 100 Continue at once; it goes out when the handler
  // first reads the body instead, so a refused upload is answered before its body is sent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    owe100Continue(req, res);
    listener(req, res);
  });
  // Any other expectation is ignored, as S3 does (node would answer 417).
  server.on('checkExpectation', listener);
  if (pem) trackHandshakes(server);
  return server;
}

/** A TLS listener's TCP sockets: closeAllConnections sees none still in its handshake. */
const tcpSockets = new WeakMap<HttpServer, Set<Duplex>>();

/** Lets closeServer end connections that have not finished their TLS handshake too. */
export function trackHandshakes(server: HttpServer): void {
  const open = new Set<Duplex>();
  tcpSockets.set(server, open);
  server.on('connection', (socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
}

/** The S3 or admin listener, plain or over TLS. */
export type HttpServer = http.Server | https.Server;

/** An https listener answers on an https URL. */
export function schemeOf(server: HttpServer): 'http' | 'https' {
  return server instanceof tls.Server ? 'https' : 'http';
}

/** Listens; the URL names a loopback address when the server binds every address. */
export async function listen(server: HttpServer, port: number, host: string): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return { port: bound, url: `${schemeOf(server)}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}` };
}

/** Stops listening and ends every connection, idle or not. */
export function closeServer(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of tcpSockets.get(server) ?? []) socket.destroy();
  });
}

/** Node's default; S3 allows 8 KiB, but a signed request with 2 KiB of metadata must fit. */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_REQUESTS_PER_SOCKET = 1000;

/**
 * Requests node's parser refuses before the app sees them (headers too large or too slow,
 * malformed framing): an S3 XML error instead of node's bare status line, then close.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A TLS error (a handshake that failed or timed out, plain HTTP on the https port): there is
  // no secure channel to answer in, and a write would wait for a handshake that never comes.
  if (err.code === 'ECONNRESET' || !socket.writable || isTlsError(err)) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    // The body of the request being answered is cut short (EOF, bad chunked framing): as node
    // does, end the connection, so the handler sees the request aborted and cleans up.
    if (!inFlight.req.complete) {
      socket.destroy();
      return;
    }
    // Bytes after a whole request still being answered (a Content-Length shorter than the body,
    // a bad pipelined request): that answer goes out first, then this one.
    inFlight.once('finish', () => answerClientError(err, socket));
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy();
    });
    return;
  }
  const code: S3ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'RequestHeaderSectionTooLarge' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : 'InvalidRequest';
  const [status, message] = S3_ERRORS[code];
  const id = randomBytes(8).toString('hex').toUpperCase();
  const details = code === 'RequestHeaderSectionTooLarge' ? { MaxSizeAllowed: MAX_HEADER_BYTES } : {};
  const body = errorXml({ code, message: code === 'InvalidRequest' ? 'The request could not be parsed as HTTP/1.1.' : message, requestId: id, details });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function isTlsError(err: NodeJS.ErrnoException): boolean {
  return /^ERR_(TLS|SSL)_/.test(err.code ?? '') || (err as { library?: string }).library !== undefined;
}

/** The request on this socket has bytes cairn has not read yet: backpressure, not a slow client. */
function waitingOnUs(socket: Duplex): boolean {
  const res = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  return res?.req !== undefined && !res.req.complete && (res.req.readableLength > 0 || continueOwed.has(res.req));
}

/** Requests whose client waits for 100 Continue: its silence is cairn's doing, not a slow client. */
const continueOwed = new WeakSet<http.IncomingMessage>();

/**
 * Writes 100 Continue when the body is first read (IncomingMessage._read: the first read(), 'data'
 * listener or pipe), so authentication, authorization, the refusal table and the handler's own
 * checks (the bucket, the upload) all answer before the client sends its body. A request answered
 * without it is closed after the answer (node's rule: the client may still send the body), so no
 * body is ever parsed as the next request. Node drains a request after its answer (_dump), which
 * reads too: no 100 once the answer's headers are out.
 */
function owe100Continue(req: http.IncomingMessage, res: http.ServerResponse): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) {
    // Nothing to hold back: answering without 100 would only cost the connection.
    res.writeContinue();
    return;
  }
  continueOwed.add(req);
  const self = req as unknown as { _read(n: number): void };
  self._read = (n: number) => {
    delete (self as Partial<typeof self>)._read;
    if (continueOwed.delete(req) && !res.headersSent && !res.writableEnded) res.writeContinue();
    self._read(n);
  };
}

/**
 * Slow-POST guard: an upload trickling its body (a few bytes now and then, never quiet long
 * enough for the idle timeout) would hold a write buffer forever, and a handful of them the
 * whole pool. A body that delivers less than config.minUploadRate bytes/s over a window of
 * min(idle timeout, 30 s), while cairn was waiting for it (not the other way round), is cut.
 */
function watchingUploadRate(handler: http.RequestListener, config: Config): http.RequestListener {
  const windowMs = Math.min(config.idleTimeout || 30_000, 30_000);
  const minBytes = (config.minUploadRate * windowMs) / 1000;
  const TICKS = 4;
  return (req, res) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (minBytes > 0 && hasBody) {
      const socket = req.socket;
      let last = socket.bytesRead;
      let tick = 0;
      let waitedOnUs = false;
      const timer = setInterval(() => {
        if (req.complete || socket.destroyed) return stop();
        if (req.readableLength > 0 || continueOwed.has(req)) waitedOnUs = true;
        if (++tick < TICKS) return;
        const got = socket.bytesRead - last;
        if (!waitedOnUs && got < minBytes) socket.destroy();
        tick = 0;
        last = socket.bytesRead;
        waitedOnUs = false;
      }, windowMs / TICKS);
      timer.unref();
      // A keep-alive socket carries many requests: nothing of this one may stay on it.
      const stop = () => {
        clearInterval(timer);
        socket.off('close', stop);
        req.off('end', stop);
      };
      req.once('end', stop);
      socket.once('close', stop);
    }
    handler(req, res);
  };
}
