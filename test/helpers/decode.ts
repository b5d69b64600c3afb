import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../src/auth/aws-chunked.js';

export interface DecodeOutcome {
  data: Buffer;
  trailers: Record<string, string>;
  error?: { code?: string; message: string };
}

/** Feeds raw aws-chunked pieces through the decoder; collects output, trailers and any error. */
export async function decodePieces(pieces: Buffer[], opts: AwsChunkedOptions): Promise<DecodeOutcome> {
  const decoder = new AwsChunkedDecoder(opts);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  try {
    await pipeline(Readable.from(pieces, { objectMode: false }), decoder, sink);
    return { data: Buffer.concat(out), trailers: { ...decoder.trailers } };
  } catch (err) {
    return { data: Buffer.concat(out), trailers: { ...decoder.trailers }, error: err as DecodeOutcome['error'] };
  }
}
