// The crash campaign (bench/crash.ts, `npm run crash` runs 200 cycles), short: kill -9 at random
// moments of concurrent PUTs, multipart uploads, copies, deletes and GC runs on the built server,
// restart, and hold it to every acknowledged write; verify, GC and the orphan/tmp checks each cycle.
// The same run drives a versioned bucket and an object-lock bucket (bench/crash-versions.ts):
// acknowledged versions and delete markers survive, locked versions stay undeletable.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { campaignClean, formatReport, runCampaign } from '../../bench/crash.js';
import { runGc } from '../../src/storage/gc.js';
import { chunkHashes, openStorageEnv } from '../helpers/storage-env.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

describe('crash campaign (short)', () => {
  it('loses and corrupts nothing acknowledged across kill -9 cycles; no orphan chunk or tmp file survives', async () => {
    // The budget allows for Node 22 and 24, whose module loading makes each restart several
    // seconds slower than on 20 (nodejs/node#60397); at 15 cycles the campaign stops sooner.
    const report = await runCampaign({ cycles: 15, budgetMs: 70_000, killAfterMs: [30, 700], workers: 6 });
    console.log(formatReport(report));
    expect(report.failures).toEqual([]);
    expect(campaignClean(report)).toBe(true);
    expect(report.cycles).toBeGreaterThanOrEqual(5);
    expect(report.acknowledged.total).toBeGreaterThan(0);
    expect(report.acknowledgedObjectsVerified).toBeGreaterThan(0);
    // Versioned and object-lock buckets: versions read back by id, markers found, locks held.
    const v = report.versions;
    expect(v.lockViolations).toBe(0);
    expect(v.acknowledged.versions).toBeGreaterThan(0);
    expect(v.versionsVerified).toBeGreaterThan(0);
    expect(v.markersChecked).toBeGreaterThan(0);
    expect(v.lockedDeletesRefusedAfterRestart).toBeGreaterThan(0);
  }, 150_000);
});

describePg('crash campaign on PostgreSQL, two gateways (short)', () => {
  // Two gateways on one database and one chunk folder; each cycle kills one (sometimes between
  // the parts of an upload on it). From the survivor, before the restart: every acknowledged
  // write reads back and the cut upload completes there; on the restart the killed gateway's
  // temp folder is swept and the live one's temp files stay; then GC, verify and the SQL audit
  // of refcounts, references and chunk files (bench/crash-gateways.ts).
  it('loses nothing acknowledged when one gateway dies, completes its uploads elsewhere, leaves no orphan or missing chunk', async () => {
    const db = await freshPgDatabase('crash', { migrated: true });
    try {
      const report = await runCampaign({ cycles: 8, budgetMs: 60_000, killAfterMs: [30, 700], workers: 6, metadata: 'postgres', gateways: 2, metadataUrl: db.url });
      console.log(formatReport(report));
      expect(report.failures).toEqual([]);
      expect(campaignClean(report)).toBe(true);
      expect(report.cycles).toBeGreaterThanOrEqual(2);
      expect(report.acknowledgedObjectsVerified).toBeGreaterThan(0);
      const g = report.gateways!;
      expect(g.kills.reduce((a, b) => a + b, 0)).toBe(report.cycles);
      expect(g.resumeFailures + g.liveTmpRemoved + g.missingChunks + g.gcFailures).toBe(0);
      // The first kill waits for an upload between its parts and takes its gateway down.
      expect(g.uploadsResumed + g.completesRetried.completed).toBeGreaterThanOrEqual(1);
      expect(report.versions.versionsVerified).toBeGreaterThan(0);
    } finally {
      await db.drop();
    }
  }, 180_000);
});

describe('crash campaign on encrypted data (short)', () => {
  // SSE-C over https on the plain bucket, SSE-S3 (encryptAll) on the versioned ones: after every
  // kill no chunk is stored in clear, every acknowledged object decrypts byte-exact, and at the
  // end no known plaintext is in the data dir (bench/crash-encryption.ts).
  it('loses nothing acknowledged and stores nothing in clear across kill -9 cycles', async () => {
    const report = await runCampaign({ cycles: 6, budgetMs: 50_000, killAfterMs: [30, 700], workers: 6, encryption: 'sse-c' });
    console.log(formatReport(report));
    expect(report.failures).toEqual([]);
    expect(campaignClean(report)).toBe(true);
    expect(report.cycles).toBeGreaterThanOrEqual(3);
    expect(report.acknowledgedObjectsVerified).toBeGreaterThan(0);
    expect(report.encryption).toMatchObject({ mode: 'sse-c', unsealedChunks: 0, plaintextFound: 0 });
    expect(report.encryption!.chunksChecked).toBeGreaterThan(0);
    expect(report.encryption!.needles).toBeGreaterThan(0);
  }, 150_000);
});

describe('a GC killed halfway through a decision', () => {
  // It leaves `<sha256>.gc-<ms>-<rand>` files; a run with the default grace waits 10 min before it
  // puts one back (another live GC may be mid-decision); `gc --grace 0` on a stopped server must
  // leave none behind, and collects in the same pass what turns out to be an orphan.
  it('gc --grace 0 puts back what a killed GC moved aside and collects the orphans in one pass', async () => {
    const env = await openStorageEnv();
    try {
      const kept = randomBytes(1000);
      await env.put('obj', kept);
      const orphan = await env.store.put(randomBytes(2000));
      env.store.unpin(orphan.hash);
      const hashes = [createHash('sha256').update(kept).digest('hex'), orphan.hash];
      for (const h of hashes) await fs.rename(env.store.chunkPath(h), `${env.store.chunkPath(h)}.gc-${Date.now()}-0badf00d`);
      const deps = { dataDir: env.dataDir, meta: env.meta, store: env.store };
      // The default grace: fresh asides may belong to a GC still deciding; left alone.
      await runGc(deps, { graceMs: 3_600_000, multipartExpiryMs: 86_400_000 });
      expect((await chunkHashes(env.dataDir)).filter((n) => n.includes('.gc-'))).toHaveLength(2);
      const r = await runGc(deps, { graceMs: 0, multipartExpiryMs: 86_400_000 });
      expect(r.orphanChunks).toBe(1);
      expect(await chunkHashes(env.dataDir)).toEqual([hashes[0]]);
      expect((await env.get('obj')).equals(kept)).toBe(true);
    } finally {
      await env.close();
    }
  });
});
