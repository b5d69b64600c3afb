// The crash campaign (bench/crash.ts, `npm run crash` runs 200 cycles), short: kill -9 at random
// moments of concurrent PUTs, multipart uploads, copies, deletes and GC runs on the built server,
// restart, and hold it to every acknowledged write; verify, GC and the orphan/tmp checks each cycle.
import { describe, expect, it } from 'vitest';
import { campaignClean, formatReport, runCampaign } from '../../bench/crash.js';

describe('crash campaign (short)', () => {
  it('loses and corrupts nothing acknowledged across kill -9 cycles; no orphan chunk or tmp file survives', async () => {
    const report = await runCampaign({ cycles: 15, budgetMs: 35_000, killAfterMs: [30, 700], workers: 6 });
    console.log(formatReport(report));
    expect(report.failures).toEqual([]);
    expect(campaignClean(report)).toBe(true);
    expect(report.cycles).toBeGreaterThanOrEqual(5);
    expect(report.acknowledged.total).toBeGreaterThan(0);
    expect(report.acknowledgedObjectsVerified).toBeGreaterThan(0);
  }, 90_000);
});
