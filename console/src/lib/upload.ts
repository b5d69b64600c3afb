// Upload planning and the multipart flow, independent of the browser: the transport (presigned
// XHRs in the console, fakes in the unit tests) is passed in.

export const MiB = 1024 * 1024;
/** Below this a file goes up in one PUT; from here on, multipart. */
export const MULTIPART_THRESHOLD = 8 * MiB;
export const PART_SIZE = 8 * MiB;
export const PART_CONCURRENCY = 4;
const MAX_PARTS = 10_000;

export interface PartPlan {
  partNumber: number;
  start: number;
  end: number;
}

/** Parts of PART_SIZE (grown for huge files so there are at most 10,000), the last one shorter. */
export function planParts(size: number, partSize = PART_SIZE): PartPlan[] {
  const step = Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  const parts: PartPlan[] = [];
  for (let start = 0, n = 1; start < size || (size === 0 && n === 1); start += step, n++) {
    parts.push({ partNumber: n, start, end: Math.min(size, start + step) });
    if (size === 0) break;
  }
  return parts;
}

/** Object key for a file dropped or picked under the current folder ('a/' + 'dir/x.txt'). */
export function keyFor(prefix: string, relativePath: string): string {
  const clean = relativePath.replace(/\\/g, '/').replace(/^\/+/, '');
  return prefix + clean;
}

function xmlEscape(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function completeMultipartXml(parts: Array<{ partNumber: number; etag: string }>): string {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  return (
    '<CompleteMultipartUpload>' +
    sorted.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${xmlEscape(p.etag)}</ETag></Part>`).join('') +
    '</CompleteMultipartUpload>'
  );
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : undefined;
}

export function parseUploadId(xml: string): string {
  const id = xmlText(xml, 'UploadId');
  if (!id) throw new Error('the S3 listener did not return an upload id');
  return id;
}

/** An S3 XML error body -> code and message (undefined when it is not one). */
export function parseS3Error(xml: string): { code: string; message: string } | undefined {
  const code = xmlText(xml, 'Code');
  if (!code) return undefined;
  return { code, message: xmlText(xml, 'Message') ?? code };
}

export interface Slice {
  readonly size: number;
}

/** What the multipart flow needs from the outside world. Each call may reject; `signal` cancels. */
export interface MultipartTransport<B> {
  create(): Promise<string>;
  uploadPart(uploadId: string, part: PartPlan, body: B, onProgress: (sentBytes: number) => void, signal: AbortSignal): Promise<string>;
  complete(uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<void>;
  abort(uploadId: string): Promise<void>;
}

export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelled';
  }
}

/**
 * CreateMultipartUpload, then the parts `concurrency` at a time (progress: bytes sent over all
 * parts), then Complete. On failure or cancel the other parts stop and the upload is aborted, so
 * no half upload is left behind.
 */
export async function runMultipart<B>(
  file: { size: number; slice(start: number, end: number): B },
  t: MultipartTransport<B>,
  opts: { signal: AbortSignal; onProgress?: (sent: number, total: number) => void; partSize?: number; concurrency?: number },
): Promise<{ uploadId: string; parts: number }> {
  if (opts.signal.aborted) throw new UploadCancelled();
  const uploadId = await t.create();
  const parts = planParts(file.size, opts.partSize);
  const sent = new Map<number, number>();
  const report = () => opts.onProgress?.([...sent.values()].reduce((a, b) => a + b, 0), file.size);
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort();
  opts.signal.addEventListener('abort', onOuterAbort);
  const etags: Array<{ partNumber: number; etag: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < parts.length && !inner.signal.aborted) {
      const part = parts[next++]!;
      const etag = await t.uploadPart(uploadId, part, file.slice(part.start, part.end), (n) => {
        sent.set(part.partNumber, n);
        report();
      }, inner.signal);
      sent.set(part.partNumber, part.end - part.start);
      report();
      etags.push({ partNumber: part.partNumber, etag });
    }
  };
  try {
    // The first failure stops the other parts (they then fail as cancelled): it is the one reported.
    let failure: { error: unknown } | undefined;
    const workers = Array.from({ length: Math.min(opts.concurrency ?? PART_CONCURRENCY, parts.length) }, worker);
    await Promise.allSettled(
      workers.map((w) =>
        w.catch((error: unknown) => {
          failure ??= { error };
          inner.abort();
        }),
      ),
    );
    if (opts.signal.aborted) throw new UploadCancelled();
    if (failure) throw failure.error;
    await t.complete(uploadId, etags);
    return { uploadId, parts: parts.length };
  } catch (err) {
    await t.abort(uploadId).catch(() => undefined);
    throw opts.signal.aborted ? new UploadCancelled() : err;
  } finally {
    opts.signal.removeEventListener('abort', onOuterAbort);
  }
}
