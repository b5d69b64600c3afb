// The console shows encryption at rest (issue 20), in a real browser (Debian's chromium via
// playwright-core): a server with a server key over https (SSE-C needs TLS), objects written by
// the SDK in clear, with SSE-S3 (asked, and by the bucket's default) and with SSE-C. The buckets
// table shows each default, the object page and its versions each version's mode (SSE-C with the
// key's MD5, never the key), the search page filters by it; an SSE-C version offers no link or
// download (they would need the client's key).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}
const OUT = path.resolve('test-output/console-encryption');

describe.skipIf(!haveChromium)('web console shows encryption, in chromium', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let work: string;
  const pageErrors: string[] = [];
  const customerKey = randomBytes(32);
  const keyMd5 = createHash('md5').update(customerKey).digest('base64');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    if (!fs.existsSync(path.resolve('dist/console/index.html'))) throw new Error('dist/console is not built: run `npm run build` first (npm test does)');
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-console-enc-'));
    const { cert, key } = makeSelfSignedCert(path.join(work, 'tls'));
    server = await startTestServer({ tlsCert: cert, tlsKey: key, encryptionKey: randomBytes(32).toString('base64') });
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'vault' }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'vault', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: 'vault', Key: 'auto.txt', Body: 'sealed by default' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'mixed' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'mixed', VersioningConfiguration: { Status: 'Enabled' } }));
    ids.plain = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'in clear' }))).VersionId!;
    ids.s3 = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'server key', ServerSideEncryption: 'AES256' }))).VersionId!;
    const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64'), SSECustomerKeyMD5: keyMd5 };
    ids.c = (await s3.send(new PutObjectCommand({ Bucket: 'mixed', Key: 'doc.txt', Body: 'customer key', ...sseC }))).VersionId!;
    s3.destroy();
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
      // The certificate is self-signed: the browser accepts it as a user would after a warning.
      ignoreHTTPSErrors: true,
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
    await context?.close();
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("shows each bucket's default encryption in the buckets table", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
    await page.getByRole('columnheader', { name: 'Default encryption' }).waitFor();
    const row = (name: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
    expect(await row('vault').locator('td[data-label="Default encryption"]').innerText()).toBe('SSE-S3');
    expect(await row('mixed').locator('td[data-label="Default encryption"]').innerText()).toBe('none');
    await page.screenshot({ path: path.join(OUT, '01-buckets.png'), fullPage: true });
  });

  it('shows an SSE-C version with its key MD5 and no link or download; its versions say their modes', async () => {
    await page.goto(`${server.adminUrl}/o/mixed/doc.txt`);
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    expect(await page.getByTestId('encryption').innerText()).toBe(`SSE-C (AES256, customer key MD5 ${keyMd5})`);
    await page.getByText('Encrypted with the client\'s own key (SSE-C)').waitFor();
    expect(await page.getByRole('button', { name: 'Create link' }).count()).toBe(0);
    const version = (id: string) => page.locator(`tr[data-version-id="${id}"]`);
    expect(await version(ids.c!).innerText()).toContain('latest, SSE-C');
    expect(await version(ids.c!).getByRole('button', { name: `Download version ${ids.c}` }).count()).toBe(0);
    expect(await version(ids.s3!).innerText()).toContain('SSE-S3');
    expect(await version(ids.s3!).getByRole('button', { name: `Download version ${ids.s3}` }).count()).toBe(1);
    expect(await version(ids.plain!).innerText()).not.toContain('SSE');
    expect(await page.content()).not.toContain(customerKey.toString('base64'));
    await page.screenshot({ path: path.join(OUT, '02-object-sse-c.png'), fullPage: true });
  });

  it('shows an SSE-S3 version and one in clear, each with its link', async () => {
    await page.goto(`${server.adminUrl}/o/mixed/doc.txt?versionId=${encodeURIComponent(ids.s3!)}`);
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    expect(await page.getByTestId('encryption').innerText()).toBe('SSE-S3 (AES256, server key)');
    await page.getByRole('button', { name: 'Create link' }).waitFor();
    await page.goto(`${server.adminUrl}/o/mixed/doc.txt?versionId=${encodeURIComponent(ids.plain!)}`);
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    expect(await page.getByTestId('encryption').innerText()).toBe('none');
  });

  it('searches by encryption and shows it in the results', async () => {
    await page.goto(`${server.adminUrl}/search/vault`);
    await page.getByLabel('Encryption').fill('SSE-S3');
    await page.getByRole('button', { name: /^Search/ }).click();
    await page.getByRole('link', { name: 'auto.txt' }).waitFor();
    expect(page.url()).toContain('encryption=SSE-S3');
    expect(await page.locator('table.results tbody tr').first().innerText()).toContain('SSE-S3');
    await page.getByLabel('Encryption').fill('SSE-C');
    await page.getByRole('button', { name: /^Search/ }).click();
    await page.locator('p.muted', { hasText: 'No object matches.' }).waitFor();
    await page.screenshot({ path: path.join(OUT, '03-search.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
