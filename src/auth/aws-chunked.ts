// Decoder for S3's aws-chunked content encoding (signed and unsigned, with or without
// trailers). A byte-level state machine: clients split size lines, CRLFs and trailers
// across HTTP chunks arbitrarily, so no boundary may be assumed to arrive whole.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../s3/errors.js';
import { EMPTY_SHA256, HEX64, hmacSha256, safeEqual, sha256Hex } from './crypto.js';
import type { ChunkSigningContext } from './types.js';

export interface AwsChunkedOptions {
  /** When present, every chunk signature is verified as a chain starting at seedSignature. */
  signing?: ChunkSigningContext;
  /** *-TRAILER modes: trailer lines follow the 0-size chunk. */
  expectTrailer: boolean;
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: x-amz-trailer-signature is required and verified. */
  signedTrailer?: boolean;
  /** x-amz-decoded-content-length. */
  decodedLength?: number;
  /** Largest chunk accepted; default 5 GiB (a whole PUT). Chunks are streamed, never held whole. */
  maxChunkSize?: number;
}

const enum State {
  Size,
  Data,
  DataCR,
  DataLF,
  Trailer,
  Done,
}

const CR = 0x0d;
const LF = 0x0a;
const MAX_SIZE_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
// The SDK frames each piece its body stream yields as one chunk: Readable.from([buffer]) of a
// 100 MiB buffer is one 100 MiB chunk, which S3 takes.
const DEFAULT_MAX_CHUNK = 5 * 1024 * 1024 * 1024;

function invalid(message: string): S3Error {
  return new S3Error('InvalidRequest', {}, message);
}

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case name -> value), complete once the stream has ended. */
  readonly trailers: Record<string, string> = {};

  private readonly opts: AwsChunkedOptions;
  private readonly maxChunk: number;
  private state = State.Size;
  private line = '';
  private remaining = 0;
  private decoded = 0;
  private trailerBytes = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private trailerSignature: string | undefined;

  constructor(opts: AwsChunkedOptions) {
    super();
    if (opts.signedTrailer && !opts.signing) throw new Error('signedTrailer needs a signing context');
    this.opts = opts;
    this.maxChunk = opts.maxChunkSize ?? DEFAULT_MAX_CHUNK;
    this.previousSignature = opts.signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.state === State.Trailer && this.line === '') {
        // Some clients end after the last trailer line (or after '0\r\n') without the
        // final empty line; every byte of data has arrived, so accept it.
        this.finish();
      }
      if (this.state !== State.Done) {
        throw new S3Error('IncompleteBody', {}, 'The aws-chunked body ended before its final chunk.');
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case State.Size:
        case State.Trailer: {
          const nl = buf.indexOf(LF, i);
          const end = nl < 0 ? buf.length : nl;
          this.line += buf.toString('latin1', i, end);
          const limit = this.state === State.Size ? MAX_SIZE_LINE : MAX_TRAILER_BYTES - this.trailerBytes;
          if (this.line.length > limit) throw invalid('aws-chunked line too long.');
          if (nl < 0) return;
          i = nl + 1;
          if (!this.line.endsWith('\r')) throw invalid('aws-chunked line not terminated by CRLF.');
          const text = this.line.slice(0, -1);
          this.line = '';
          if (this.state === State.Size) this.onSizeLine(text);
          else this.onTrailerLine(text);
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, buf.length - i);
          const slice = buf.subarray(i, i + n);
          this.chunkHash?.update(slice);
          // Emitted before the chunk's signature is checked: a bad signature still fails
          // the stream before it ends, so the object is never committed.
          this.push(slice);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) {
            if (this.chunkHash) this.verifyChunk(this.chunkHash.digest('hex'));
            this.chunkHash = undefined;
            this.state = State.DataCR;
          }
          break;
        }
        case State.DataCR:
          if (buf[i++] !== CR) throw invalid('aws-chunked data not followed by CRLF.');
          this.state = State.DataLF;
          break;
        case State.DataLF:
          if (buf[i++] !== LF) throw invalid('aws-chunked data not followed by CRLF.');
          this.state = State.Size;
          break;
        case State.Done:
          throw invalid('Data after the end of the aws-chunked body.');
      }
    }
  }

  private onSizeLine(text: string): void {
    const parts = text.split(';');
    const sizeText = parts[0].trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw invalid('Invalid aws-chunked chunk size.');
    const size = parseInt(sizeText, 16);
    if (size > this.maxChunk) throw invalid(`aws-chunked chunk of ${size} bytes exceeds the ${this.maxChunk} byte limit.`);
    if (this.opts.signing) {
      const ext = parts.slice(1).map((p) => p.trim()).find((p) => p.startsWith('chunk-signature='));
      const sig = ext?.slice('chunk-signature='.length) ?? '';
      if (!HEX64.test(sig)) throw new S3Error('SignatureDoesNotMatch', {}, 'Missing or malformed chunk-signature.');
      this.chunkSignature = sig.toLowerCase();
    }
    const { decodedLength } = this.opts;
    if (decodedLength !== undefined && this.decoded + size > decodedLength) {
      // S3 answers IncompleteBody for a mismatch in either direction, not InvalidRequest.
      throw new S3Error('IncompleteBody', {}, 'The aws-chunked body is longer than x-amz-decoded-content-length.');
    }
    this.decoded += size;
    if (size === 0) {
      if (this.opts.signing) this.verifyChunk(EMPTY_SHA256);
      if (decodedLength !== undefined && this.decoded !== decodedLength) {
        throw new S3Error('IncompleteBody', {}, 'The aws-chunked body is shorter than x-amz-decoded-content-length.');
      }
      this.state = State.Trailer;
      return;
    }
    this.remaining = size;
    this.chunkHash = this.opts.signing ? createHash('sha256') : undefined;
    this.state = State.Data;
  }

  private verifyChunk(dataHashHex: string): void {
    const s = this.opts.signing!;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${EMPTY_SHA256}\n${dataHashHex}`;
    const expected = hmacSha256(s.signingKey, toSign).toString('hex');
    if (!safeEqual(expected, this.chunkSignature)) throw new S3Error('SignatureDoesNotMatch', {}, 'The chunk signature does not match.');
    this.previousSignature = expected;
  }

  private onTrailerLine(text: string): void {
    if (text === '') {
      this.finish();
      return;
    }
    if (!this.opts.expectTrailer) throw invalid('Unexpected trailer in aws-chunked body.');
    this.trailerBytes += text.length + 2;
    const colon = text.indexOf(':');
    if (colon <= 0) throw invalid('Malformed aws-chunked trailer.');
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') this.trailerSignature = value.toLowerCase();
    else this.trailers[name] = value;
  }

  private finish(): void {
    if (this.opts.signedTrailer) {
      const s = this.opts.signing!;
      if (this.trailerSignature === undefined) throw new S3Error('SignatureDoesNotMatch', {}, 'Missing x-amz-trailer-signature.');
      const canonical = Object.keys(this.trailers)
        .sort()
        .map((n) => `${n}:${this.trailers[n]}\n`)
        .join('');
      const toSign = `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${this.previousSignature}\n${sha256Hex(canonical)}`;
      const expected = hmacSha256(s.signingKey, toSign).toString('hex');
      if (!safeEqual(expected, this.trailerSignature)) throw new S3Error('SignatureDoesNotMatch', {}, 'The trailer signature does not match.');
    }
    this.state = State.Done;
  }
}
