// A browser form upload (PostObject) from a real page in Chromium (Debian's chromium driven by
// playwright-core): an app's page on its own origin with a form whose action is the bucket and
// whose fields are a signed policy, as an app's server would hand them out. Both ways a page
// uploads: a plain form submit (303 back to the app with bucket, key and etag), and fetch() of
// FormData reading the 201 XML and the ETag across origins (the bucket's CORS rule).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedV4Fields } from '../helpers/post-form.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}
const BUCKET = 'browser-uploads';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

describe.skipIf(!haveChromium)('PostObject from a page in chromium', () => {
  let server: TestServer;
  let app: http.Server;
  let appOrigin = '';
  let context: BrowserContext;
  let page: Page;
  let work: string;
  const pageErrors: string[] = [];

  /** The app's upload page: a form to the bucket, signed for keys under uploads/. */
  function uploadPage(): string {
    const redirect = `${appOrigin}/done`;
    const fields = {
      key: 'uploads/${filename}',
      'Content-Type': 'text/plain',
      success_action_redirect: redirect,
      ...signedV4Fields(server.credentials, [
        { bucket: BUCKET },
        ['starts-with', '$key', 'uploads/'],
        ['starts-with', '$Content-Type', 'text/'],
        ['starts-with', '$success_action_redirect', appOrigin],
        ['content-length-range', 1, 1024 * 1024],
      ]),
    };
    const fetchFields = {
      key: 'uploads/${filename}',
      'Content-Type': 'text/plain',
      success_action_status: '201',
      ...signedV4Fields(server.credentials, [{ bucket: BUCKET }, ['starts-with', '$key', 'uploads/'], { 'Content-Type': 'text/plain' }, { success_action_status: '201' }]),
    };
    const hidden = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('\n');
    return `<!doctype html><html><head><meta charset="utf-8"><title>upload</title></head><body>
<form id="upload" action="${server.url}/${BUCKET}" method="post" enctype="multipart/form-data">
${hidden}
<input id="file" type="file" name="file">
<button id="send" type="submit">Upload</button>
</form>
<script>
// Fields signed for fetch() (201, no redirect): the answer (XML, ETag) is readable through CORS.
const FETCH_FIELDS = ${JSON.stringify(fetchFields)};
window.uploadWithFetch = async (text, name) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(FETCH_FIELDS)) form.append(k, v);
  form.append('file', new File([text], name, { type: 'text/plain' }));
  const res = await fetch(document.getElementById('upload').action, { method: 'POST', body: form });
  return { status: res.status, etag: res.headers.get('ETag'), body: await res.text() };
};
</script></body></html>`;
  }

  beforeAll(async () => {
    server = await startTestServer();
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    app = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', appOrigin);
      if (u.pathname === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(uploadPage());
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<p id="done">${escape(JSON.stringify(Object.fromEntries(u.searchParams)))}</p>`);
      }
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    // localhost, not 127.0.0.1: another origin than the S3 listener's.
    appOrigin = `http://localhost:${(app.address() as AddressInfo).port}`;
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [appOrigin], AllowedMethods: ['POST'], ExposeHeaders: ['ETag'] }] } }));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-post-e2e-'));
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => app?.close(r));
    if (work) fs.rmSync(work, { recursive: true, force: true });
    await server?.stop();
  });

  it('a plain form submit with a chosen file lands in the bucket and comes back to the app (303)', async () => {
    const file = path.join(work, 'hello.txt');
    fs.writeFileSync(file, 'uploaded by a form in chromium\n');
    await page.goto(`${appOrigin}/`);
    await page.setInputFiles('#file', file);
    await Promise.all([page.waitForURL(`${appOrigin}/done?**`), page.click('#send')]);
    const back = JSON.parse((await page.textContent('#done'))!) as Record<string, string>;
    const s3 = server.client();
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/hello.txt' }));
    expect(back).toEqual({ bucket: BUCKET, key: 'uploads/hello.txt', etag: head.ETag });
    expect(head.ContentType).toBe('text/plain');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('uploaded by a form in chromium\n');
  });

  it('fetch() of FormData reads the 201 PostResponse XML and the ETag across origins', async () => {
    await page.goto(`${appOrigin}/`);
    const r = await page.evaluate(() => (window as unknown as { uploadWithFetch: (t: string, n: string) => Promise<{ status: number; etag: string | null; body: string }> }).uploadWithFetch('sent with fetch', 'fetched.txt'));
    expect(r.status).toBe(201);
    expect(r.body).toContain(`<Bucket>${BUCKET}</Bucket><Key>uploads/fetched.txt</Key>`);
    const head = await server.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/fetched.txt' }));
    expect(r.etag).toBe(head.ETag);
    expect(r.body).toContain(`<ETag>${head.ETag!.replace(/"/g, '&quot;')}</ETag>`);
    expect(pageErrors).toEqual([]);
  });
});
