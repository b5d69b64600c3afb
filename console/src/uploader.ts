// Browser side of uploads: XHRs (fetch has no upload progress) to presigned S3 URLs, multipart
// for large files, and turning a drop (files and folders) into a list of files with paths.
import { s3Error, type Api } from './api.js';
import { MULTIPART_THRESHOLD, UploadCancelled, completeMultipartXml, parseUploadId, runMultipart } from './lib/upload.js';

function xhr(method: string, url: string, body: Blob | string | null, headers: Record<string, string>, onProgress: ((sent: number) => void) | undefined, signal: AbortSignal): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UploadCancelled());
    const x = new XMLHttpRequest();
    x.open(method, url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    if (onProgress) x.upload.onprogress = (e) => onProgress(e.loaded);
    const onAbort = () => x.abort();
    signal.addEventListener('abort', onAbort);
    x.onload = () => {
      signal.removeEventListener('abort', onAbort);
      if (x.status >= 200 && x.status < 300) resolve(x);
      else reject(s3Error(x.status, x.responseText));
    };
    x.onerror = () => {
      signal.removeEventListener('abort', onAbort);
      reject(Object.assign(new TypeError('network error (is the S3 port reachable, and does the bucket allow this page? see CORS)'), { name: 'TypeError' }));
    };
    x.onabort = () => {
      signal.removeEventListener('abort', onAbort);
      reject(new UploadCancelled());
    };
    x.send(body);
  });
}

/** Uploads one file to bucket/key: one PUT below 8 MiB, else multipart (4 parts at a time). */
export async function uploadFile(api: Api, bucket: string, key: string, file: File, onProgress: (sent: number, total: number) => void, signal: AbortSignal): Promise<void> {
  const type = file.type || 'application/octet-stream';
  if (file.size < MULTIPART_THRESHOLD) {
    const url = await api.presign(bucket, key, 'PUT');
    await xhr('PUT', url, file, { 'Content-Type': type }, (n) => onProgress(n, file.size), signal);
    onProgress(file.size, file.size);
    return;
  }
  await runMultipart<Blob>(
    file,
    {
      create: async () => parseUploadId(await api.s3(bucket, key, 'POST', { query: { uploads: '' }, headers: { 'Content-Type': type } })),
      uploadPart: async (uploadId, part, body, progress, sig) => {
        const url = await api.presign(bucket, key, 'PUT', { partNumber: String(part.partNumber), uploadId });
        const x = await xhr('PUT', url, body, {}, progress, sig);
        const etag = x.getResponseHeader('ETag');
        if (!etag) throw new Error('the S3 listener did not expose the part ETag (the bucket CORS rule must expose ETag)');
        return etag;
      },
      complete: async (uploadId, parts) => {
        await api.s3(bucket, key, 'POST', { query: { uploadId }, body: completeMultipartXml(parts), headers: { 'Content-Type': 'application/xml' } });
      },
      abort: async (uploadId) => {
        await api.s3(bucket, key, 'DELETE', { query: { uploadId } });
      },
    },
    { signal, onProgress },
  );
}

export interface PickedFile {
  file: File;
  /** Relative path inside a dropped or picked folder ('album/x.jpg'), else the file name. */
  path: string;
}

/** Files of an <input type=file> (webkitdirectory gives relative paths). */
export function filesFromInput(list: FileList): PickedFile[] {
  return [...list].map((file) => ({ file, path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name }));
}

type Entry = { isFile: boolean; isDirectory: boolean; name: string; fullPath: string; file?: (cb: (f: File) => void, err: (e: unknown) => void) => void; createReader?: () => { readEntries: (cb: (e: Entry[]) => void, err: (e: unknown) => void) => void } };

async function walk(entry: Entry, out: PickedFile[]): Promise<void> {
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((res, rej) => entry.file!(res, rej));
    out.push({ file, path: entry.fullPath.replace(/^\//, '') || file.name });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries returns at most 100 entries per call: read until it returns none.
    for (;;) {
      const batch = await new Promise<Entry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, out);
    }
  }
}

/** Files of a drop, folders walked recursively (entries API); plain files when there are no entries. */
export async function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const entries: Entry[] = [];
  const loose: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== 'file') continue;
    const entry = (item as DataTransferItem & { webkitGetAsEntry?: () => Entry | null }).webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  for (const e of entries) await walk(e, out);
  for (const f of loose) out.push({ file: f, path: f.name });
  if (out.length === 0) for (const f of [...dt.files]) out.push({ file: f, path: f.name });
  return out;
}
