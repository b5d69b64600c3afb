import busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../s3/errors.js';

// Reads a browser form upload (PostObject) as it streams: the fields before the file are
// collected, bounded as S3 bounds them; the file part is handed over unread, so its bytes go
// straight into the chunk writer; fields after the file are read and dropped, as S3 ignores them.

/** S3's cap on the fields that precede the file (names and values together). */
export const MAX_PRE_FILE_BYTES = 20 * 1024;
/** At most this many fields before the file (each costs at least its name). */
const MAX_FIELDS = 1000;

export interface FormUpload {
  /** The fields before the file, names lower case. */
  fields: Map<string, string>;
  file: { stream: Readable; filename: string };
  /**
   * The file's bytes and then the end of the form: it ends only once the whole form was read and
   * found well formed, so the object is stored only from a complete form.
   */
  body: AsyncIterable<Buffer>;
}

const malformed = (why?: string) => new S3Error('MalformedPOSTRequest', {}, why ? `The body of your POST request is not well-formed multipart/form-data: ${why}.` : undefined);

/** Whether a request's Content-Type is multipart/form-data (S3 answers 412 to any other). */
export function isFormData(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'multipart/form-data';
}

/**
 * Parses the request up to its file part. Rejects with S3's error when the form is malformed,
 * its fields before the file are too large, it has no file, or the request ends or is aborted
 * (`signal`) first.
 */
export function readFormUntilFile(req: IncomingMessage, signal: AbortSignal): Promise<FormUpload> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send a file's name as raw UTF-8 (busboy's default reads it as latin1).
      defParamCharset: 'utf8',
      // One more byte than allowed: a value cut at the limit tells it went over.
      limits: { fieldNameSize: MAX_PRE_FILE_BYTES + 1, fieldSize: MAX_PRE_FILE_BYTES + 1, fields: MAX_FIELDS, files: 1, parts: MAX_FIELDS + 1 },
    });
  } catch {
    throw malformed('no boundary');
  }
  return new Promise<FormUpload>((resolve, reject) => {
    const fields = new Map<string, string>();
    let preBytes = 0;
    let haveFile = false;
    let fileStream: Readable | undefined;
    let failed: Error | undefined;
    let settleEnd: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const ended = new Promise<void>((res, rej) => (settleEnd = { resolve: res, reject: rej }));
    ended.catch(() => undefined);
    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      req.unpipe(parser);
      if (!haveFile) reject(err);
      settleEnd!.reject(err);
      // The writer reading the file sees the same error and undoes what it wrote.
      fileStream?.destroy(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new S3Error('IncompleteBody'));
    signal.addEventListener('abort', onAbort, { once: true });
    parser.on('field', (name, value, info) => {
      if (haveFile) return;
      // Only a part with a filename is a file to busboy; S3 takes nothing else as the object.
      if (name.toLowerCase() === 'file') return fail(new S3Error('InvalidArgument', { ArgumentName: 'file', ArgumentValue: 0 }, 'POST requires exactly one file upload per request.'));
      preBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (preBytes > MAX_PRE_FILE_BYTES || info.valueTruncated || info.nameTruncated) return fail(new S3Error('MaxPostPreDataLengthExceededError'));
      const lower = name.toLowerCase();
      if (fields.has(lower)) return fail(new S3Error('InvalidArgument', { ArgumentName: name }, `The form field ${name} was given more than once.`));
      fields.set(lower, value);
    });
    parser.on('fieldsLimit', () => {
      if (!haveFile) fail(new S3Error('MaxPostPreDataLengthExceededError'));
    });
    parser.on('file', (name, stream, info) => {
      // A second file part (or one of another name after the first) is read and dropped.
      if (haveFile) return void stream.resume();
      if (name.toLowerCase() !== 'file') {
        stream.resume();
        return fail(new S3Error('InvalidArgument', { ArgumentName: name }, `The form has a file in field '${name}'; the file must be in the field named 'file'.`));
      }
      haveFile = true;
      fileStream = stream;
      stream.on('error', (err) => fail(mapError(err)));
      resolve({ fields, file: { stream, filename: info.filename ?? '' }, body: fileThenEnd(stream, ended, () => failed) });
    });
    parser.on('error', (err: Error) => fail(mapError(err)));
    parser.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (failed) return;
      if (!haveFile) return fail(new S3Error('InvalidArgument', { ArgumentName: 'file', ArgumentValue: 0 }, 'POST requires exactly one file upload per request.'));
      settleEnd!.resolve();
    });
    req.pipe(parser);
  });
}

/** busboy's own errors are about the form's framing; an S3Error (the client went away) passes. */
function mapError(err: Error): Error {
  if (err instanceof S3Error) return err;
  return malformed(err.message.replace(/\.$/, '').toLowerCase());
}

async function* fileThenEnd(stream: Readable, ended: Promise<void>, failure: () => Error | undefined): AsyncGenerator<Buffer> {
  try {
    for await (const piece of stream) yield piece as Buffer;
  } catch (err) {
    throw failure() ?? mapError(err as Error);
  }
  await ended;
}
