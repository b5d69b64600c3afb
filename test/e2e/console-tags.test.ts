// The console's object page shows a version's tags and edits them (issue 21), in a real browser
// (Debian's chromium via playwright-core): the tags an SDK PUT gave, an edit saved through the
// admin API (read back over S3), and a refused set (11 tags) showing S3's reason and changing nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}

describe.skipIf(!haveChromium)('web console: object tags, in chromium', () => {
  let server: TestServer;
  let s3: S3Client;
  let context: BrowserContext;
  let page: Page;
  let work: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.resolve('dist/console/index.html'))) throw new Error('dist/console is not built: run `npm run build` first (npm test does)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-console-tags-'));
    server = await startTestServer();
    s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'tagged' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tagged', Key: 'doc.txt', Body: 'hello', Tagging: 'project=cairn&env=prod' }));
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.adminUrl + '/');
    await page.getByRole('textbox', { name: /^Admin token/ }).fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await context?.close();
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const tagsOverS3 = async () => (await s3.send(new GetObjectTaggingCommand({ Bucket: 'tagged', Key: 'doc.txt' }))).TagSet?.map((t) => `${t.Key}=${t.Value}`);

  it('shows the tags, saves an edit, and shows S3\'s reason for a refused set without changing anything', async () => {
    await page.goto(`${server.adminUrl}/o/tagged/doc.txt`);
    const tags = page.getByTestId('tags');
    await expect.poll(() => tags.innerText()).toBe('env = prod\nproject = cairn');
    await page.getByRole('button', { name: 'Edit tags' }).click();
    const box = page.getByRole('textbox', { name: /key=value per line/ });
    expect(await box.inputValue()).toBe('env=prod\nproject=cairn');
    await box.fill('env=staging\nowner=ann');
    await page.getByRole('button', { name: 'Save tags' }).click();
    await expect.poll(() => tags.innerText()).toBe('env = staging\nowner = ann');
    expect(await tagsOverS3()).toEqual(['env=staging', 'owner=ann']);
    await page.getByRole('button', { name: 'Edit tags' }).click();
    await box.fill(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('\n'));
    await page.getByRole('button', { name: 'Save tags' }).click();
    await page.getByText(/Object tags cannot be greater than 10/).waitFor();
    expect(await tagsOverS3()).toEqual(['env=staging', 'owner=ann']);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
