// The web console over https in a real browser (Debian's chromium via playwright-core): both
// listeners on a self-signed certificate (the browser told to accept it). Sign in, create a
// bucket, upload from the file picker straight to the https S3 listener (cross-origin, CORS),
// see it listed, and download it through the presigned Download button.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { bodyOf } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}
const OUT = path.resolve('test-output/console-tls');

describe.skipIf(!haveChromium)('web console over https in chromium', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let work: string;
  const pageErrors: string[] = [];
  const note = Buffer.from('uploaded from an https page to an https S3 listener\n');

  beforeAll(async () => {
    if (!fs.existsSync(path.resolve('dist/console/index.html'))) throw new Error('dist/console is not built: run `npm run build` first (npm test does)');
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-console-tls-'));
    const { cert, key } = makeSelfSignedCert(path.join(work, 'tls'));
    server = await startTestServer({ tlsCert: cert, tlsKey: key });
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
      // The certificate is self-signed: the browser accepts it as a user would after a warning.
      ignoreHTTPSErrors: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('loads over https in a secure context and signs in with the admin token', async () => {
    expect(server.adminUrl).toMatch(/^https:/);
    const res = await page.goto(server.adminUrl + '/');
    expect(res?.status()).toBe(200);
    // The CSP lets the page reach the https S3 listener.
    expect(res?.headers()['content-security-policy']).toContain(`connect-src 'self' ${new URL(server.url).origin}`);
    expect(await page.evaluate(() => window.isSecureContext && location.protocol)).toBe('https:');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('textbox', { name: /^Admin token/ }).fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.screenshot({ path: path.join(OUT, '01-dashboard.png'), fullPage: true });
  });

  it('creates a bucket, uploads to the https S3 listener and downloads it back', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
    await page.getByLabel('New bucket').fill('secure');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByText('Bucket secure created.').waitFor();
    await page.getByRole('link', { name: 'secure' }).click();
    await page.getByText('This folder is empty.').waitFor();
    await page.getByTestId('file-input').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: note });
    await page.locator('li.upload.done[data-key="note.txt"]').waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'note.txt' }).waitFor();
    const stored = await bodyOf(await server.client().send(new GetObjectCommand({ Bucket: 'secure', Key: 'note.txt' })));
    expect(stored.equals(note)).toBe(true);
    await page.getByRole('link', { name: 'note.txt' }).click();
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download', exact: true }).click()]);
    expect(download.url().startsWith(server.url + '/secure/note.txt?')).toBe(true);
    const saved = fs.readFileSync(await download.path());
    expect(createHash('sha256').update(saved).digest('hex')).toBe(createHash('sha256').update(note).digest('hex'));
    await page.screenshot({ path: path.join(OUT, '02-object.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
