// The web console's logic outside the DOM: routes and breadcrumbs, sizes and dates, the search
// form -> /v1/objects parameters, Prometheus parsing and rates, upload planning and the multipart
// flow (parallel parts, progress, failure and cancel abort the upload), errors in words.
import { describe, expect, it } from 'vitest';
import { breadcrumbs, browseHref, leafName, objectHref, parentPrefix, parseRoute, searchHref } from '../../console/src/lib/paths.js';
import { chunkSharing, formatAgo, formatBytes, formatDate, formatRatio, lockText, savedPercent, versionNote } from '../../console/src/lib/format.js';
import { EMPTY_SEARCH, formFromQuery, hasFilter, queryFromForm, searchParams, SearchFormError } from '../../console/src/lib/search.js';
import { byOperation, gauge, parsePrometheus, rates, requestTotals } from '../../console/src/lib/metrics.js';
import { completeMultipartXml, keyFor, MiB, parseS3Error, parseUploadId, planParts, runMultipart, UploadCancelled, type MultipartTransport } from '../../console/src/lib/upload.js';
import { ApiError, describeError } from '../../console/src/lib/errors.js';
import { granteeText, grantsText, parseGrants } from '../../console/src/lib/grants.js';
import { parseObjectQuery } from '../../src/db/records/index.js';
import { Metrics } from '../../src/admin/metrics.js';

describe('grants', () => {
  it('parses key grants typed as text and says which one is wrong', () => {
    expect(parseGrants('photos:read, *:WRITE\nlogs:bypass')).toEqual([
      { bucket: 'photos', permission: 'read' },
      { bucket: '*', permission: 'write' },
      { bucket: 'logs', permission: 'bypass' },
    ]);
    expect(grantsText(parseGrants(' a.b:read  c:write '))).toBe('a.b:read, c:write');
    expect(() => parseGrants('  ')).toThrow('at least one grant');
    expect(() => parseGrants('photos:read, photos')).toThrow('"photos" is not a grant');
    expect(() => parseGrants(':read')).toThrow('":read" is not a grant');
    expect(() => parseGrants('photos:admin')).toThrow('"photos:admin" is not a grant');
  });

  it('names ACL grantees: accounts by name, groups in words', () => {
    expect(granteeText({ type: 'CanonicalUser', id: 'a'.repeat(64), name: 'alice' })).toBe('alice');
    expect(granteeText({ type: 'CanonicalUser', id: 'b'.repeat(64), name: null })).toBe(`unknown account ${'b'.repeat(12)}…`);
    expect(granteeText({ type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' })).toBe('Everyone (anonymous requests too)');
    expect(granteeText({ type: 'Group', uri: 'http://example.com/other' })).toBe('http://example.com/other');
  });
});

describe('routes', () => {
  it('round-trips bucket, prefix and key through hrefs, odd characters included', () => {
    for (const key of ['a.txt', 'photos/2026/cat.jpg', 'a b/%2F/ü?#&.txt', 'dir/']) {
      expect(parseRoute(objectHref('b-1', key).split('?')[0]!)).toEqual({ page: 'object', bucket: 'b-1', key });
      expect(parseRoute(browseHref('b-1', key))).toEqual({ page: 'browse', bucket: 'b-1', prefix: key });
    }
    expect(parseRoute('/')).toEqual({ page: 'dashboard' });
    expect(parseRoute('/buckets')).toEqual({ page: 'buckets' });
    expect(parseRoute('/accounts')).toEqual({ page: 'accounts' });
    expect(parseRoute('/b/photos/')).toEqual({ page: 'browse', bucket: 'photos', prefix: '' });
    const s = parseRoute('/search/photos', '?minSize=10MiB');
    expect(s.page === 'search' && s.query.get('minSize')).toBe('10MiB');
    expect(searchHref('photos', { minSize: '10MiB' })).toBe('/search/photos?minSize=10MiB');
    expect(parseRoute('/o/photos/')).toMatchObject({ page: 'notFound' });
    expect(parseRoute('/o/%E0%A4%A/x')).toMatchObject({ page: 'notFound' });
    expect(parseRoute('/nope')).toMatchObject({ page: 'notFound' });
  });

  it('an object page names a version with ?versionId=', () => {
    const href = objectHref('photos', 'a b/c.txt', 'Ab_-9');
    expect(href).toBe('/o/photos/a%20b%2Fc.txt?versionId=Ab_-9');
    const [path, search] = href.split('?');
    expect(parseRoute(path!, `?${search}`)).toEqual({ page: 'object', bucket: 'photos', key: 'a b/c.txt', versionId: 'Ab_-9' });
    expect(parseRoute(path!, '')).toEqual({ page: 'object', bucket: 'photos', key: 'a b/c.txt' });
  });

  it('breadcrumbs, leaf names and parents', () => {
    expect(breadcrumbs('')).toEqual([]);
    expect(breadcrumbs('photos/2026/')).toEqual([
      { label: 'photos', prefix: 'photos/' },
      { label: '2026', prefix: 'photos/2026/' },
    ]);
    expect(breadcrumbs('a//b/')).toEqual([
      { label: 'a', prefix: 'a/' },
      { label: '/', prefix: 'a//' },
      { label: 'b', prefix: 'a//b/' },
    ]);
    expect(leafName('photos/2026/cat.jpg', 'photos/2026/')).toBe('cat.jpg');
    expect(leafName('photos/2026/', 'photos/')).toBe('2026/');
    expect(parentPrefix('a/b/c.txt')).toBe('a/b/');
    expect(parentPrefix('a/b/')).toBe('a/');
    expect(parentPrefix('top.txt')).toBe('');
  });
});

describe('formatting', () => {
  it('sizes both ways', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(20 * MiB)).toBe('20.0 MiB');
    expect(formatBytes(300 * 1024 ** 3)).toBe('300 GiB');
  });

  it('ratios, savings, times, chunk sharing', () => {
    expect(formatRatio(1.6667)).toBe('1.67x');
    expect(savedPercent(20, 12)).toBe('40.0%');
    expect(savedPercent(0, 0)).toBe('0%');
    expect(formatAgo(1000, 61_000)).toBe('1 min ago');
    expect(formatAgo(10_000, 5_000)).toBe('in 5 s');
    const all = [{ sha256: 'a' }, { sha256: 'a' }, { sha256: 'b' }];
    expect(chunkSharing({ sha256: 'a', shared: false, refcount: 2 }, all)).toBe('repeated 2× in this object');
    expect(chunkSharing({ sha256: 'b', shared: false, refcount: 1 }, all)).toBe('no');
    expect(chunkSharing({ sha256: 'b', shared: true, refcount: 3 }, all)).toBe('yes (3 refs)');
  });

  it('lock state and version notes', () => {
    const until = '2027-01-01T00:00:00.000Z';
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(lockText({ mode: 'GOVERNANCE', retainUntil: until, legalHold: false }, now)).toBe(`GOVERNANCE until ${formatDate(until)}`);
    expect(lockText({ mode: 'COMPLIANCE', retainUntil: until, legalHold: true }, Date.parse(until) + 1)).toBe(`COMPLIANCE until ${formatDate(until)} (expired), legal hold`);
    expect(lockText({ mode: null, retainUntil: null, legalHold: true }, now)).toBe('legal hold');
    expect(lockText({ mode: null, retainUntil: null, legalHold: false }, now)).toBe('');
    expect(versionNote({ isLatest: true, deleteMarker: true })).toBe('latest, delete marker');
    expect(versionNote({ isLatest: false, deleteMarker: false })).toBe('');
  });
});

describe('search form', () => {
  it('builds /v1/objects parameters the API accepts', () => {
    const form = { ...EMPTY_SEARCH, contains: 'cat', minSize: '10 MiB', modifiedAfter: '2026-01-01', contentType: 'image/*', metadata: 'Camera=x100; album = trip', sort: 'size' as const, order: 'desc' as const };
    const params = searchParams('photos', form, 50, 'CUR');
    expect(params).toEqual({
      bucket: 'photos', contains: 'cat', minSize: '10MiB', modifiedAfter: '2026-01-01', contentType: 'image/*',
      'meta.camera': 'x100', 'meta.album': 'trip', sort: 'size', order: 'desc', limit: '50', cursor: 'CUR',
    });
    // The server's parser takes them as they are.
    const q = parseObjectQuery({ ...params, cursor: undefined });
    expect(q).toMatchObject({ bucket: 'photos', minSize: 10 * MiB, meta: { camera: 'x100', album: 'trip' }, sort: 'size', order: 'desc', limit: 50 });
    expect(searchParams('photos', EMPTY_SEARCH)).toEqual({ bucket: 'photos', limit: '100' });
    expect(() => searchParams('photos', { ...EMPTY_SEARCH, metadata: 'oops' })).toThrow(SearchFormError);
  });

  it('switches (versions, locked) are checkboxes: true in the URL and the parameters, absent when off', () => {
    const form = { ...EMPTY_SEARCH, versions: 'true', locked: 'true' };
    const params = searchParams('photos', form);
    expect(params).toEqual({ bucket: 'photos', versions: 'true', locked: 'true', limit: '100' });
    expect(parseObjectQuery(params)).toMatchObject({ versions: true, locked: true });
    expect(formFromQuery(new URLSearchParams(queryFromForm(form)))).toEqual(form);
    expect(hasFilter({ ...EMPTY_SEARCH, versions: 'true' })).toBe(true);
    expect(parseObjectQuery(searchParams('photos', EMPTY_SEARCH)).versions).toBe(false);
  });

  it('lives in the page URL', () => {
    const form = { ...EMPTY_SEARCH, maxSize: '1KiB', sort: 'modified' as const };
    const back = formFromQuery(new URLSearchParams(queryFromForm(form)));
    expect(back).toEqual(form);
    expect(queryFromForm(EMPTY_SEARCH)).toEqual({});
    expect(hasFilter(EMPTY_SEARCH)).toBe(false);
    expect(hasFilter(form)).toBe(true);
  });
});

describe('metrics', () => {
  it('parses the server /metrics output and computes rates', async () => {
    const m = new Metrics();
    m.observeRequest({ operation: 'GetObject', status: 200, seconds: 0.01, bytesIn: 0, bytesOut: 10 });
    m.observeRequest({ operation: 'GetObject', status: 404, seconds: 0.01, bytesIn: 0, bytesOut: 10 });
    m.observeRequest({ operation: 'PutObject', status: 500, seconds: 0.01, bytesIn: 5, bytesOut: 0 });
    m.recordScrub({ checked: 3, bytes: 30, broken: [], durationMs: 45 });
    const s = parsePrometheus(await m.text());
    const t0 = requestTotals(s, 0);
    expect(t0).toEqual({ at: 0, requests: 3, clientErrors: 1, serverErrors: 1 });
    expect(byOperation(s)).toEqual([
      { operation: 'GetObject', requests: 2, errors: 1 },
      { operation: 'PutObject', requests: 1, errors: 1 },
    ]);
    expect(gauge(s, 'cairn_scrub_last_broken_chunks')).toBe(0);
    expect(gauge(s, 'cairn_scrub_last_duration_seconds')).toBeCloseTo(0.045);
    expect(gauge(s, 'cairn_gc_last_run_timestamp_seconds')).toBe(0);
    for (let i = 0; i < 10; i++) m.observeRequest({ operation: 'HeadObject', status: i < 2 ? 403 : 200, seconds: 0.001, bytesIn: 0, bytesOut: 0 });
    const t1 = requestTotals(parsePrometheus(await m.text()), 5000);
    expect(rates(t0, t1)).toEqual({ requestsPerSecond: 2, errorsPerSecond: 0.4, errorShare: 0.2 });
    // A restart (counters went down) counts from zero instead of going negative.
    expect(rates(t1, { at: 6000, requests: 1, clientErrors: 0, serverErrors: 0 }).requestsPerSecond).toBe(1);
  });

  it('label values with escapes and special numbers', () => {
    const s = parsePrometheus('# HELP x y\nx{a="q\\"uote",b="back\\\\slash"} 1.5\ny +Inf\nz{} 3 1700000000\n');
    expect(s).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: 'back\\slash' }, value: 1.5 },
      { name: 'y', labels: {}, value: Infinity },
      { name: 'z', labels: {}, value: 3 },
    ]);
  });
});

describe('uploads', () => {
  it('plans parts of 8 MiB, bigger for huge files (at most 10,000)', () => {
    expect(planParts(20 * MiB).map((p) => [p.partNumber, p.end - p.start])).toEqual([[1, 8 * MiB], [2, 8 * MiB], [3, 4 * MiB]]);
    expect(planParts(8 * MiB)).toHaveLength(1);
    const huge = planParts(200 * 1024 * MiB);
    expect(huge.length).toBeLessThanOrEqual(10_000);
    expect(huge.at(-1)!.end).toBe(200 * 1024 * MiB);
    expect(planParts(0)).toEqual([{ partNumber: 1, start: 0, end: 0 }]);
  });

  it('keys for dropped files and folders', () => {
    expect(keyFor('photos/', 'album/x.jpg')).toBe('photos/album/x.jpg');
    expect(keyFor('', '/a\\b.txt')).toBe('a/b.txt');
  });

  it('S3 XML bits', () => {
    expect(parseUploadId('<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>a&amp;b</UploadId></InitiateMultipartUploadResult>')).toBe('a&b');
    expect(() => parseUploadId('<x/>')).toThrow();
    expect(completeMultipartXml([{ partNumber: 2, etag: '"b"' }, { partNumber: 1, etag: '"a"' }])).toBe(
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part></CompleteMultipartUpload>',
    );
    expect(parseS3Error('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')).toEqual({ code: 'AccessDenied', message: 'Access Denied' });
    expect(parseS3Error('')).toBeUndefined();
  });

  const file = (size: number) => ({ size, slice: (a: number, b: number) => ({ a, b }) });
  function fakeTransport(opts: { failPart?: number; hold?: boolean } = {}) {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const t: MultipartTransport<{ a: number; b: number }> = {
      create: async () => (log.push('create'), 'U1'),
      uploadPart: (id, part, body, progress, signal) =>
        new Promise((resolve, reject) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          progress((body.b - body.a) / 2);
          const done = () => {
            inFlight--;
            if (part.partNumber === opts.failPart) reject(new Error(`part ${part.partNumber} failed`));
            else resolve(`"etag${part.partNumber}"`);
          };
          signal.addEventListener('abort', () => {
            inFlight--;
            reject(new UploadCancelled());
          });
          if (!opts.hold) setTimeout(done, 5);
        }),
      complete: async (id, parts) => void log.push(`complete ${parts.map((p) => p.partNumber).sort((a, b) => a - b).join(',')}`),
      abort: async () => void log.push('abort'),
    };
    return { t, log, max: () => maxInFlight };
  }

  it('uploads parts 4 at a time with progress over all parts, then completes', async () => {
    const f = fakeTransport();
    const progress: number[] = [];
    const r = await runMultipart(file(100 * MiB), f.t, { signal: new AbortController().signal, onProgress: (sent) => progress.push(sent) });
    expect(r).toEqual({ uploadId: 'U1', parts: 13 });
    expect(f.max()).toBe(4);
    expect(f.log).toEqual(['create', `complete ${Array.from({ length: 13 }, (_, i) => i + 1).join(',')}`]);
    expect(progress.at(-1)).toBe(100 * MiB);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
  });

  it('a failed part aborts the upload', async () => {
    const f = fakeTransport({ failPart: 3 });
    await expect(runMultipart(file(40 * MiB), f.t, { signal: new AbortController().signal })).rejects.toThrow('part 3 failed');
    expect(f.log).toEqual(['create', 'abort']);
  });

  it('cancel stops the parts in flight and aborts the upload', async () => {
    const f = fakeTransport({ hold: true });
    const ac = new AbortController();
    const run = runMultipart(file(40 * MiB), f.t, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(run).rejects.toBeInstanceOf(UploadCancelled);
    expect(f.log).toEqual(['create', 'abort']);
  });
});

describe('errors in words', () => {
  it('says what happened and keeps the code', () => {
    expect(describeError(new ApiError(401, 'Unauthorized', 'a valid bearer token is required'))).toBe(
      'Sign-in was not accepted: check the admin token or the access key pair. A valid bearer token is required. (Unauthorized)',
    );
    expect(describeError(new ApiError(409, 'Conflict', 'bucket photos is not empty (objects or multipart uploads remain)'))).toMatch(/^It conflicts.*Bucket photos is not empty.*\(Conflict\)$/);
    expect(describeError(new ApiError(418, 'Teapot', 'short and stout'))).toBe('Request failed (HTTP 418). Short and stout. (Teapot)');
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(/could not be reached.*CORS/);
    expect(describeError(new Error('boom'))).toBe('Boom');
  });
});
