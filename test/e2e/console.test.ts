// The web console end to end in a real browser: Debian's chromium driven by playwright-core.
// Sign in, create a bucket, upload a 20 MiB file by drag and drop (and a small one through the
// file input), see it listed, check the chunk table against /v1/objects, download through the
// presigned link and compare bytes, search by size, run verify, list an object's versions and
// restore one, delete; manage accounts and keys (create, import, revoke) and see owners, ACLs and
// policies on the bucket and object pages. Screenshots of every page (desktop and phone width) go to test-output/console/.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}
const OUT = path.resolve('test-output/console');
const MiB = 1024 * 1024;

/**
 * The test's bytes, made the same way in Node and in the page (xorshift32 from a seed): the page
 * builds its File from them without the test intercepting requests (interception turns off the
 * browser cache, which makes Chromium add Cache-Control: no-cache to every upload).
 */
function fill(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 255;
    out[i + 1] = (x >>> 8) & 255;
    out[i + 2] = (x >>> 16) & 255;
    out[i + 3] = x >>> 24;
  }
  return out;
}

describe.skipIf(!haveChromium)('web console in chromium', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  // 20 MiB: 8 MiB of pseudo-random bytes twice (the second chunk dedups onto the first), then 4 MiB more.
  const seeds = [randomBytes(4).readUInt32LE(), randomBytes(4).readUInt32LE()];
  const head = Buffer.from(fill(8 * MiB, seeds[0]!));
  const big = Buffer.concat([head, head, Buffer.from(fill(4 * MiB, seeds[1]!))]);
  const small = Buffer.from('a small note, uploaded through the file input\n');

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  };
  const admin = async (p: string) => {
    const res = await fetch(server.adminUrl + p, { headers: { authorization: `Bearer ${server.adminToken}` } });
    return { status: res.status, body: res.status === 200 ? await res.json() : undefined };
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.resolve('dist/console/index.html'))) throw new Error('dist/console is not built: run `npm run build` first (npm test does)');
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    server = await startTestServer();
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => void d.accept());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await server?.stop();
  });

  it('signs in with the admin token', async () => {
    await page.goto(server.adminUrl + '/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot('01-sign-in');
    // A wrong token is explained in words.
    await page.getByRole('textbox', { name: /^Admin token/ }).fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Sign-in was not accepted' }).waitFor();
    await page.getByRole('textbox', { name: /^Admin token/ }).fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await shot('02-dashboard-empty');
  });

  it('creates a bucket (and a CORS rule for this page)', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
    await page.getByLabel('New bucket').fill('photos');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByText('Bucket photos created.').waitFor();
    await page.getByRole('link', { name: 'photos' }).waitFor();
    // An invalid name is refused in words before any request.
    await page.getByLabel('New bucket').fill('x');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a valid bucket name' }).waitFor();
    await shot('03-buckets');
    expect((await admin('/v1/buckets')).body.buckets.map((b: { name: string }) => b.name)).toEqual(['photos']);
  });

  it('uploads a 20 MiB file by drag and drop (multipart) and a small one from the file picker', async () => {
    await page.getByRole('link', { name: 'photos' }).click();
    await page.getByText('This folder is empty.').waitFor();
    const zone = page.getByTestId('dropzone');
    await zone.evaluate((el, { fillSource, seeds, MiB }) => {
      const fillIn = new Function(`return (${fillSource})`)() as typeof fill;
      const head = fillIn(8 * MiB, seeds[0]!);
      const dt = new DataTransfer();
      dt.items.add(new File([head, head, fillIn(4 * MiB, seeds[1]!)], 'big.bin', { type: 'application/octet-stream' }));
      el.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
      el.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
      el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, { fillSource: fill.toString(), seeds, MiB });
    await page.locator('li.upload.uploading[data-key="big.bin"]').waitFor();
    await shot('04a-uploading');
    await page.getByTestId('file-input').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: small });
    await page.locator('li.upload.done[data-key="big.bin"]').waitFor({ timeout: 60_000 });
    await page.locator('li.upload.done[data-key="note.txt"]').waitFor();
    await page.getByRole('link', { name: 'big.bin' }).waitFor();
    await page.getByRole('link', { name: 'note.txt' }).waitFor();
    await shot('04b-browse-after-upload');
    const rec = (await admin('/v1/objects/photos/big.bin')).body;
    expect(rec.size).toBe(big.length);
    expect(rec.partCount).toBe(3);
    expect((await admin('/v1/objects/photos/note.txt')).body).toMatchObject({ size: small.length, contentType: 'text/plain', partCount: null });
  });

  it('shows the object page with a chunk table matching /v1/objects', async () => {
    await page.getByRole('link', { name: 'big.bin' }).click();
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    const rec = (await admin('/v1/objects/photos/big.bin')).body as { etag: string; cacheControl: string | null; chunks: Array<{ seq: number; offset: number; size: number; sha256: string; shared: boolean; refcount: number }> };
    const rows = await page.locator('table.chunks tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ sha256: tr.getAttribute('data-sha256'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })),
    );
    expect(rows).toHaveLength(rec.chunks.length);
    rec.chunks.forEach((c, i) => {
      const r = rows[i]!;
      expect(r.sha256).toBe(c.sha256);
      expect(r.cells[0]).toBe(String(c.seq));
      expect(r.cells[1]!.replace(/,/g, '')).toBe(String(c.offset));
      expect(r.cells[2]!.replace(/,/g, '')).toBe(String(c.size));
      expect(r.cells[3]).toContain(c.sha256.slice(0, 16));
      const here = rec.chunks.filter((x) => x.sha256 === c.sha256).length;
      expect(r.cells[4]).toBe(c.shared ? `yes (${c.refcount} refs)` : here > 1 ? `repeated ${here}× in this object` : 'no');
    });
    // The repeated 8 MiB is stored once.
    expect(rec.chunks[0]!.sha256).toBe(rec.chunks[1]!.sha256);
    expect(rec.cacheControl).toBeNull();
    await expect(page.getByText(rec.etag)).toBeTruthy();
    await page.getByText(rec.etag).waitFor();
    await shot('05-object');
  });

  it('downloads through a presigned link with a chosen expiry, bytes equal', async () => {
    await page.getByLabel('Valid for').selectOption('86400');
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.locator('#presigned').inputValue();
    expect(url).toContain('X-Amz-Expires=86400');
    expect(url.startsWith(server.url + '/photos/big.bin?')).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const got = Buffer.from(await res.arrayBuffer());
    expect(got.length).toBe(big.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Link copied.').waitFor();
    // The Download button too: a real browser download of the same bytes.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download', exact: true }).click()]);
    expect(download.suggestedFilename()).toBe('big.bin');
    const saved = await download.path();
    expect(createHash('sha256').update(fs.readFileSync(saved)).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    await shot('06-object-presigned');
  });

  it('searches by size', async () => {
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'photos' }).click();
    await page.getByRole('link', { name: 'Search', exact: true }).click();
    await page.getByLabel('Min size').fill('10MiB');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/minSize=10MiB/);
    await page.locator('table.results').getByRole('link', { name: 'big.bin' }).waitFor();
    // The search page first lists every object (big.bin among them) until the filtered answer
    // arrives: wait for it rather than count the first rows that hold big.bin.
    await expect.poll(() => page.locator('table.results tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await shot('07-search-by-size');
    await page.getByLabel('Min size').fill('');
    await page.getByLabel('Max size').fill('1KiB');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('table.results').getByRole('link', { name: 'note.txt' }).waitFor();
    await expect.poll(() => page.locator('table.results tbody tr').count(), { timeout: 10_000 }).toBe(1);
    // A bad filter is explained.
    await page.getByLabel('Max size').fill('lots');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'A search filter is not valid' }).waitFor();
  });

  it('shows the dashboard with dedup, usage chart, request rate and a verify run', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByText('Dedup ratio').waitFor();
    await page.locator('svg[role="img"] rect.bar-logical').first().waitFor();
    await page.getByRole('button', { name: 'Verify all chunks now' }).click();
    await page.getByTestId('verify-result').filter({ hasText: 'no problems found' }).waitFor({ timeout: 30_000 });
    // Two metric scrapes (5 s apart) give a rate.
    await page.getByText(/\d+\.\d\/s/).first().waitFor({ timeout: 15_000 });
    await shot('08-dashboard');
  });

  it('works at phone width (390 px)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByText('Last scrub').waitFor();
    await shot('09-phone-dashboard');
    await page.getByRole('link', { name: 'Buckets' }).click();
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    await page.getByRole('link', { name: 'photos' }).waitFor();
    await shot('10-phone-buckets');
    await page.getByRole('link', { name: 'photos' }).click();
    await page.getByRole('link', { name: 'big.bin' }).waitFor();
    await shot('11-phone-browse');
    await page.getByRole('link', { name: 'big.bin' }).click();
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    await shot('12-phone-object');
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('is keyboard reachable: Tab reaches the navigation and the page actions', async () => {
    await page.goto(server.adminUrl + '/buckets');
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => (document.activeElement?.textContent || (document.activeElement as HTMLInputElement | null)?.name || '').trim()));
    }
    expect(focused).toContain('Skip to content');
    expect(focused).toContain('Dashboard');
    expect(focused).toContain('Create bucket');
  });

  it('creates an account and keys for it (the secret shown once), imports a pair, revokes a key', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts and keys' }).waitFor();
    await page.getByRole('region', { name: /^root/ }).waitFor();
    await page.getByLabel('New account').fill('alice');
    await page.getByLabel('Email (optional)').fill('alice@example.com');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Account alice created.').waitFor();
    const alice = page.getByRole('region', { name: 'alice' });
    await alice.getByText('alice@example.com').waitFor();
    // A key with grants: its secret is on the page once.
    const newKey = alice.getByRole('form', { name: 'New key for alice' });
    await newKey.getByLabel('Grants').fill('*:write');
    await newKey.getByLabel('Description').fill('from the console');
    await newKey.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByTestId('new-key');
    await shown.getByText('shown only now').waitFor();
    const id = (await shown.locator('code').textContent())!;
    const secret = await page.locator('#new-secret').inputValue();
    expect(id).toMatch(/^CK[A-Z0-9]{18}$/);
    await alice.locator(`tr[data-key-id="${id}"]`).getByText('*:write').waitFor();
    await shot('17-accounts-new-key');
    const s3 = server.client({ credentials: { accessKeyId: id, secretAccessKey: secret } });
    await s3.send(new CreateBucketCommand({ Bucket: 'alice-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'hello.txt', Body: 'hello from alice', ContentType: 'text/plain' }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual(['alice-bucket']);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('new-key').count()).toBe(0);
    // An imported pair.
    await newKey.getByLabel('Grants').fill('alice-bucket:read');
    await newKey.getByLabel('Import an existing key pair').check();
    await newKey.getByLabel('Access key ID').fill('AKIAE2EIMPORTED01');
    await newKey.getByLabel('Secret access key').fill('imported/secret+0123');
    await newKey.getByRole('button', { name: 'Import key' }).click();
    await page.getByTestId('new-key').getByText('Its secret is the one you gave.').waitFor();
    const imported = server.client({ credentials: { accessKeyId: 'AKIAE2EIMPORTED01', secretAccessKey: 'imported/secret+0123' } });
    expect((await imported.send(new ListObjectsV2Command({ Bucket: 'alice-bucket' }))).Contents!.map((o) => o.Key)).toEqual(['hello.txt']);
    const keys = (await admin('/v1/keys?account=alice')).body.keys as Array<{ id: string; grants: unknown }>;
    expect(keys.map((k) => k.id)).toEqual([id, 'AKIAE2EIMPORTED01']);
    // A taken id is refused in words.
    await newKey.getByLabel('Grants').fill('alice-bucket:read');
    await newKey.getByLabel('Access key ID').fill('AKIAE2EIMPORTED01');
    await newKey.getByLabel('Secret access key').fill('another-secret-1');
    await newKey.getByRole('button', { name: 'Import key' }).click();
    await page.getByRole('alert').filter({ hasText: 'access key AKIAE2EIMPORTED01 exists' }).waitFor();
    await page.getByRole('button', { name: 'Dismiss the error' }).click();
    // Revoke: the key stops working.
    await page.getByRole('button', { name: 'Revoke access key AKIAE2EIMPORTED01' }).click();
    await expect.poll(() => alice.locator('tr[data-key-id="AKIAE2EIMPORTED01"]').count(), { timeout: 10_000 }).toBe(0);
    expect((await s3Error(imported.send(new ListObjectsV2Command({ Bucket: 'alice-bucket' })))).name).toBe('InvalidAccessKeyId');
    // alice owns a bucket: she stays. An account without buckets goes, with its keys.
    await alice.getByText('It cannot be deleted: it owns 1 bucket.').waitFor();
    expect(await page.getByRole('button', { name: 'Delete account alice' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Delete account root' }).isDisabled()).toBe(true);
    await page.getByLabel('New account').fill('temp');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('region', { name: 'temp' }).waitFor();
    await page.getByRole('button', { name: 'Delete account temp' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'temp' }).count(), { timeout: 10_000 }).toBe(0);
    expect((await admin('/v1/accounts')).body.accounts.map((a: { name: string }) => a.name)).toEqual(['root', 'alice']);
    await shot('18-accounts');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('18b-phone-accounts');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("shows a bucket's owner, ownership, ACL and policy, and an object's owner and ACL", async () => {
    const [key] = (await admin('/v1/keys?account=alice')).body.keys as Array<{ id: string }>;
    const alice = server.client({ credentials: { accessKeyId: key!.id, secretAccessKey: server.keys.secretFor(key!.id)! } });
    await alice.send(new PutBucketAclCommand({ Bucket: 'alice-bucket', ACL: 'public-read' }));
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'ReadHello', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-bucket/hello.txt' }] };
    await alice.send(new PutBucketPolicyCommand({ Bucket: 'alice-bucket', Policy: JSON.stringify(policy) }));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
    const row = page.locator('table.buckets tr').filter({ has: page.getByRole('link', { name: 'alice-bucket' }) });
    await row.locator('td[data-label="Owner"]').filter({ hasText: 'alice' }).waitFor();
    expect(await page.locator('table.buckets tr').filter({ has: page.getByRole('link', { name: 'photos' }) }).locator('td[data-label="Owner"]').textContent()).toBe('root');
    await page.getByRole('link', { name: 'alice-bucket' }).click();
    const access = page.getByTestId('bucket-access');
    await access.getByText('alice').first().waitFor();
    await access.getByText(/^ObjectWriter/).waitFor();
    await access.getByText('public', { exact: true }).waitFor();
    const grants = () => page.getByRole('table', { name: 'ACL of bucket alice-bucket' }).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(await grants()).toEqual([
      ['alice', 'FULL_CONTROL'],
      ['Everyone (anonymous requests too)', 'READ'],
    ]);
    expect(JSON.parse((await page.getByTestId('bucket-policy').textContent())!)).toEqual(policy);
    await page.getByText('It lets everyone in (public).').waitFor();
    await shot('19-bucket-access');
    await page.getByRole('link', { name: 'hello.txt' }).click();
    await page.getByTestId('object-owner').filter({ hasText: 'alice' }).waitFor();
    const objectGrants = page.getByRole('table', { name: 'ACL of hello.txt' }).locator('tbody tr');
    await objectGrants.first().waitFor();
    expect(await objectGrants.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))).toEqual([['alice', 'FULL_CONTROL']]);
    await shot('20-object-access');
    // A bucket of the root account: the root is its owner, and it has no policy.
    await page.goto(server.adminUrl + '/b/photos/');
    await page.getByTestId('bucket-access').getByText('root').first().waitFor();
    await page.getByText('No bucket policy.').waitFor();
  });

  it('signs in with an access key pair: sees only its buckets, uploads with URLs it signs itself', async () => {
    await server.repo.createBucket({ name: 'hidden', region: 'us-east-1', ownerId: (await server.meta.accounts.root()).id });
    const key = server.keys.create({ description: 'e2e', grants: [{ bucket: 'photos', permission: 'write' }] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('radio', { name: 'Access key' }).check();
    await page.getByRole('textbox', { name: 'Access key ID' }).fill(key.id);
    await page.getByRole('textbox', { name: 'Secret access key' }).fill(key.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByText(`key ${key.id}`).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Buckets' }).click();
    await page.getByRole('link', { name: 'photos' }).waitFor();
    expect(await page.getByRole('link', { name: 'hidden' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create bucket' }).count()).toBe(0);
    await shot('14-key-buckets');
    await page.getByRole('link', { name: 'photos' }).click();
    await page.getByTestId('file-input').setInputFiles({ name: 'from-key.txt', mimeType: 'text/plain', buffer: Buffer.from('signed in the browser\n') });
    await page.locator('li.upload.done[data-key="from-key.txt"]').waitFor();
    expect((await admin('/v1/objects/photos/from-key.txt')).body.size).toBe(22);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('textbox', { name: /^Admin token/ }).fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('lists an object\'s versions, downloads an older one and restores it', async () => {
    const s3 = server.client();
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'photos', VersioningConfiguration: { Status: 'Enabled' } }));
    const edited = Buffer.from('the note, edited after versioning was turned on\n');
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'note.txt', Body: edited, ContentType: 'text/plain' }))).VersionId!;
    await page.goto(server.adminUrl + '/o/photos/note.txt');
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    const versions = () => page.locator('table.versions tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-version-id')));
    expect(await versions()).toEqual([v2, 'null']);
    await page.getByTestId('lock-state').filter({ hasText: 'none' }).waitFor();
    // The older version downloads as itself.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download version null' }).click()]);
    expect(fs.readFileSync(await download.path())).toEqual(small);
    await shot('15-object-versions');
    // Restore: a copy of it over the current one, as a new version.
    await page.getByRole('button', { name: 'Restore version null' }).click();
    await page.getByText('Version restored').waitFor();
    await expect.poll(async () => (await versions()).length, { timeout: 10_000 }).toBe(3);
    const rec = (await admin('/v1/objects/photos/note.txt')).body as { size: number; versionId: string; versions: Array<{ versionId: string }> };
    expect(rec.size).toBe(small.length);
    expect(rec.versions.map((v) => v.versionId)).toEqual([rec.versionId, v2, 'null']);
    expect(await versions()).toEqual([rec.versionId, v2, 'null']);
    expect(await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'note.txt' })))).toEqual(small);
    await shot('16-object-restored');
  });

  it('deletes the object', async () => {
    await page.goto(server.adminUrl + '/o/photos/big.bin');
    await page.getByRole('heading', { name: 'Chunks' }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/\/b\/photos\//);
    await page.getByRole('link', { name: 'note.txt' }).waitFor();
    expect(await page.getByRole('link', { name: 'big.bin' }).count()).toBe(0);
    await shot('13-browse-after-delete');
    expect((await admin('/v1/objects/photos/big.bin')).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });
});
