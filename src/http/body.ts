import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { S3Error } from '../s3/errors.js';
import { checksumFromHeaders, createHasher, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../s3/checksums.js';
import { AwsChunkedDecoder } from '../auth/aws-chunked.js';
import { header, type S3Context } from './context.js';

// Turns the raw request into the object's payload: decodes aws-chunked framing (detected from
// a STREAMING-* x-amz-content-sha256 as well as Content-Encoding, since restic sends no
// Content-Encoding), and gathers what must be verified once the payload has been read.

export interface Payload {
  stream: Readable;
  /** Decoded payload length when the client declared it. */
  size?: number;
  checksum?: { algorithm: ChecksumAlgorithm; expected: () => string | undefined };
  contentMd5?: Buffer;
  payloadSha256?: string;
  /** Content-Encoding to store, with aws-chunked removed. */
  contentEncoding?: string;
}

/**
 * `checksumHeaders: false` when x-amz-checksum-* headers describe something other than this
 * body (CompleteMultipartUpload: the whole object's checksum).
 */
export function requestPayload(ctx: S3Context, opts: { requireLength: boolean; checksumHeaders?: boolean }): Payload {
  const auth = ctx.state.auth;
  const mode = auth?.payload.kind ?? 'unsigned';
  const contentEncoding = header(ctx, 'content-encoding') ?? '';
  const encodings = contentEncoding.split(',').map((s) => s.trim()).filter(Boolean);
  const sha = header(ctx, 'x-amz-content-sha256') ?? '';
  const chunked = mode === 'streaming-signed' || mode === 'streaming-unsigned-trailer' || sha.startsWith('STREAMING-') || encodings.includes('aws-chunked');
  const storedEncoding = withoutAwsChunked(contentEncoding);

  const contentLength = parseLength(header(ctx, 'content-length'), 'Content-Length');
  const contentMd5 = parseContentMd5(header(ctx, 'content-md5'));

  let stream: Readable = ctx.req;
  let size: number | undefined;
  let trailerSource: AwsChunkedDecoder | undefined;
  if (chunked) {
    size = parseLength(header(ctx, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length');
    const signed = auth?.payload.kind === 'streaming-signed' ? auth.payload : undefined;
    const decoder = new AwsChunkedDecoder({
      signing: signed?.seed,
      expectTrailer: signed ? signed.trailer : mode === 'streaming-unsigned-trailer' || sha.includes('TRAILER') || header(ctx, 'x-amz-trailer') !== undefined,
      signedTrailer: signed?.trailer,
      decodedLength: size,
    });
    // Errors on the raw request (client gone) must reach the decoder's consumer too.
    ctx.req.on('error', (err) => decoder.destroy(err));
    ctx.req.on('aborted', () => decoder.destroy(new S3Error('IncompleteBody')));
    stream = ctx.req.pipe(decoder);
    trailerSource = decoder;
  } else {
    size = contentLength;
    if (size === undefined && opts.requireLength && header(ctx, 'transfer-encoding') === undefined) {
      throw new S3Error('MissingContentLength');
    }
  }

  let checksum: Payload['checksum'];
  const fromHeader = opts.checksumHeaders === false ? undefined : checksumFromHeaders(ctx.req.headers);
  const trailerName = header(ctx, 'x-amz-trailer')?.trim().toLowerCase();
  if (fromHeader) {
    // S3 refuses a value for one algorithm declared as another, and a value both as a header and a trailer.
    const sdkAlgorithm = header(ctx, 'x-amz-sdk-checksum-algorithm')?.trim().toUpperCase();
    if (sdkAlgorithm !== undefined && sdkAlgorithm !== fromHeader.algorithm) {
      throw new S3Error('InvalidRequest', {}, 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
    if (trailerName?.startsWith('x-amz-checksum-')) {
      throw new S3Error('InvalidRequest', {}, 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    }
    checksum = { algorithm: fromHeader.algorithm, expected: () => fromHeader.expected };
  } else if (trailerName?.startsWith('x-amz-checksum-')) {
    const algorithm = parseChecksumAlgorithm(trailerName.slice('x-amz-checksum-'.length))!;
    const src = trailerSource;
    checksum = { algorithm, expected: () => src?.trailers[trailerName] };
  } else if (opts.checksumHeaders !== false) {
    const declared = parseChecksumAlgorithm(header(ctx, 'x-amz-sdk-checksum-algorithm') ?? header(ctx, 'x-amz-checksum-algorithm'));
    if (declared) checksum = { algorithm: declared, expected: () => undefined };
  }

  const payloadSha256 = auth?.payload.kind === 'sha256' ? auth.payload.expectedHex : undefined;
  return { stream, size, checksum, contentMd5, payloadSha256, contentEncoding: storedEncoding };
}

/** Reads a small request body (XML) whole, capped, and verifies its digests. */
export async function readSmallBody(ctx: S3Context, limit = 1024 * 1024, opts: { checksumHeaders?: boolean } = {}): Promise<{ body: Buffer; payload: Payload }> {
  const payload = requestPayload(ctx, { requireLength: false, checksumHeaders: opts.checksumHeaders });
  if (payload.size !== undefined && payload.size > limit) throw new S3Error('MalformedXML', {}, 'The XML you provided was larger than the maximum allowed size.');
  const body = await readCapped(payload.stream, limit);
  if (payload.size !== undefined && body.length !== payload.size) throw new S3Error('IncompleteBody');
  // Decoding would quietly turn bad bytes into U+FFFD and parse a document nobody sent.
  if (!isUtf8(body)) throw new S3Error('MalformedXML');
  if (payload.payloadSha256 && createHash('sha256').update(body).digest('hex') !== payload.payloadSha256.toLowerCase()) {
    throw new S3Error('XAmzContentSHA256Mismatch');
  }
  if (payload.contentMd5 && !createHash('md5').update(body).digest().equals(payload.contentMd5)) throw new S3Error('BadDigest');
  if (payload.checksum) {
    const h = createHasher(payload.checksum.algorithm);
    h.update(body);
    const expected = payload.checksum.expected();
    if (expected !== undefined && expected !== h.digest().toString('base64')) throw new S3Error('BadDigest');
  }
  return { body, payload };
}

/**
 * Reads a stream whole, refusing more than `limit` bytes. Not with for-await: leaving that loop
 * early destroys the request, and with it the socket the answer should go out on.
 */
function readCapped(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    const finish = (err?: Error) => {
      stream.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      if (err) {
        stream.pause();
        reject(err);
      } else {
        resolve(Buffer.concat(parts));
      }
    };
    const onData = (piece: Buffer) => {
      total += piece.length;
      if (total > limit) finish(new S3Error('MalformedXML', {}, 'The XML you provided was larger than the maximum allowed size.'));
      else parts.push(piece);
    };
    const onEnd = () => finish();
    const onClose = () => finish(new S3Error('IncompleteBody'));
    stream.on('data', onData).once('end', onEnd).once('error', finish).once('close', onClose);
  });
}

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value.trim())) throw new S3Error('InvalidArgument', { ArgumentName: name, ArgumentValue: value });
  return Number(value.trim());
}

export function parseContentMd5(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const buf = Buffer.from(value.trim(), 'base64');
  if (buf.length !== 16 || buf.toString('base64') !== value.trim()) throw new S3Error('InvalidDigest', { 'Content-MD5': value });
  return buf;
}

/**
 * Content-Encoding to store: the client's value with the aws-chunked coding taken out and the rest
 * kept as sent ("aws-chunked, deflate, gzip" stores "deflate, gzip", spaces and all).
 */
export function withoutAwsChunked(value: string): string | undefined {
  const kept = value.split(',').filter((coding) => coding.trim() !== 'aws-chunked');
  return kept.join(',').trim() || undefined;
}
