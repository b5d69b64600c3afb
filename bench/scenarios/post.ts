// A 1 GiB browser form upload (PostObject) against a 1 GiB PUT: throughput, and cairn's peak RSS
// (the form's file must stream through the same bounded chunk writer as a PUT's body, so the
// peak should be the same). Both sent by the system curl: `-T` with --aws-sigv4 for the PUT,
// `-F` fields with a signed SigV4 policy for the POST. Each transfer gets a fresh server, so its
// VmHWM is that transfer's peak.
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { GiB, MiB, fmtRatio, fmtStat, procMemory, sampleRss, startTarget, stat, type Scenario, type ScenarioContext, type Target } from '../harness.js';
import { randomFile } from '../lib.js';
import { signingKey } from '../../src/auth/sigv4.js';

type Op = 'PUT' | 'POST';
const BUCKET = 'bench';
const MARK = '@@cairn-bench@@';

function curl(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl failed (exit ${code}): ${err.trim()}`))));
  });
}

/** The signed fields of a form allowing exactly `key`, up to `size` bytes (what an app's server hands out). */
function formFields(t: Target, key: string, size: number): Record<string, string> {
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = date.slice(0, 8);
  const own = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': `${t.credentials.accessKeyId}/${day}/us-east-1/s3/aws4_request`, 'x-amz-date': date };
  const conditions = [{ bucket: BUCKET }, { key }, ['content-length-range', 1, size], ...Object.entries(own).map(([k, v]) => ({ [k]: v }))];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 3_600_000).toISOString(), conditions })).toString('base64');
  const signature = createHmac('sha256', signingKey(t.credentials.secretAccessKey, day, 'us-east-1', 's3')).update(policy).digest('hex');
  return { key, ...own, policy, 'x-amz-signature': signature };
}

/** One transfer on a fresh server: seconds, cairn's RSS before it and its peak. */
async function transfer(op: Op, file: string, size: number, md5: string): Promise<{ seconds: number; idle: number; peak: number }> {
  const t = await startTarget('cairn');
  try {
    const idle = procMemory(t.pid)?.rss ?? NaN;
    const key = `${op.toLowerCase()}-${size}`;
    const report = ['-D', '-', '-o', '/dev/null', '-w', `\n${MARK} %{http_code} %{size_upload}\n`];
    const args =
      op === 'PUT'
        ? ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${t.credentials.accessKeyId}:${t.credentials.secretAccessKey}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-T', file, ...report, `${t.url}/${BUCKET}/${key}`]
        : [...Object.entries(formFields(t, key, size)).flatMap(([k, v]) => ['--form-string', `${k}=${v}`]), '-F', `file=@${file}`, ...report, `${t.url}/${BUCKET}`];
    const rss = sampleRss(t.pid, 100);
    const t0 = performance.now();
    const out = await curl(args, 60_000 + (size / (8 * MiB)) * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const { peak } = rss.stop();
    const [status] = out.slice(out.lastIndexOf(MARK) + MARK.length).trim().split(/\s+/).map(Number);
    const etag = [...out.matchAll(/^etag:\s*"?([0-9a-f]+)"?\s*$/gim)].at(-1)?.[1];
    if (status !== (op === 'PUT' ? 200 : 204) || etag !== md5) throw new Error(`${op} ${key}: status ${status}, ETag ${etag}, expected ${md5}`);
    return { seconds, idle, peak };
  } finally {
    await t.stop();
  }
}

async function run(ctx: ScenarioContext) {
  const size = ctx.smoke ? 8 * MiB : GiB;
  const rounds = ctx.smoke ? 1 : 3;
  const file = randomFile(size);
  const h = createHash('md5');
  for await (const piece of fs.createReadStream(file, { highWaterMark: MiB })) h.update(piece as Buffer);
  const md5 = h.digest('hex');
  const results: Record<Op, Array<{ mibps: number; idle: number; peak: number }>> = { PUT: [], POST: [] };
  const loadBefore = os.loadavg()[0]!;
  for (let round = 0; round < rounds; round++) {
    // Alternating which goes first, so a drift of the shared machine's load weighs on both.
    for (const op of (round % 2 === 0 ? ['PUT', 'POST'] : ['POST', 'PUT']) as Op[]) {
      const r = await transfer(op, file, size, md5);
      results[op].push({ mibps: size / MiB / r.seconds, idle: r.idle, peak: r.peak });
      ctx.log(`${op} round ${round + 1}: ${(size / MiB / r.seconds).toFixed(0)} MiB/s, peak RSS ${(r.peak / MiB).toFixed(0)} MiB`);
    }
  }
  const mib = (xs: number[]) => xs.map((x) => x / MiB);
  const row = (op: Op) => {
    const rs = results[op];
    return `| ${op} (curl ${op === 'PUT' ? '-T, --aws-sigv4' : '-F, SigV4 policy'}) | ${fmtStat(stat(rs.map((r) => r.mibps)))} | ${fmtStat(stat(mib(rs.map((r) => r.peak))))} | ${fmtStat(stat(mib(rs.map((r) => r.idle))))} |`;
  };
  const median = (op: Op, f: (r: { mibps: number; peak: number }) => number) => stat(results[op].map(f)).median;
  const speed = median('POST', (r) => r.mibps) / median('PUT', (r) => r.mibps);
  const peak = median('POST', (r) => r.peak) / median('PUT', (r) => r.peak);
  const markdown = [
    `One ${ctx.smoke ? '8 MiB' : '1 GiB'} file of random bytes, ${rounds} round(s), each transfer on a fresh cairn (default settings: fsync durability, 8 MiB chunks, a pool of 16 buffers, 4 per request). Figures: median (min-max).`,
    '',
    '| upload | MiB/s | peak RSS (MiB) | idle RSS (MiB) |',
    '|---|---|---|---|',
    row('PUT'),
    row('POST'),
    '',
    `POST/PUT: throughput ${fmtRatio(speed)}, peak RSS ${fmtRatio(peak)}. Load average (1 min) ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after, on ${os.cpus().length} cores: throughput is only as steady as that.`,
    '',
    'The form\'s file streams through the same chunk writer as a PUT body (busboy hands its part over unread): the peak RSS stays the pool\'s, whatever the size.',
  ].join('\n');
  return { markdown, targets: [{ what: 'POST peak RSS / PUT peak RSS', ratio: peak, goal: 1.2, atMost: true }] };
}

const scenario: Scenario = { name: 'post', title: 'POST Object: a 1 GiB form upload against a 1 GiB PUT', run };
export default scenario;
