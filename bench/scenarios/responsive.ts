// Responsiveness during a large upload: the rate and tail latency of 4 KiB GETs on cairn when
// idle, and again while one client uploads a 1 GiB object with the AWS SDK.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fmtRatio, fmtStat, MiB, startTarget, stat, type Scenario, type Target } from '../harness.js';
import { randomFile, ROOT } from '../lib.js';
import { barChart } from '../svg.js';
import { requireWrk, rotatingGets, seedObjects, signedLoad, type LoadFigures } from './signed-load.js';

const SIZE = 4096;
const CONNECTIONS = 16;
const GOAL = 0.4;

interface Upload {
  /** Settles when the SDK starts sending. */
  started: Promise<void>;
  /** The upload's duration in ms, as the SDK saw it. */
  done: Promise<number>;
}

function startUpload(target: Target, file: string, key: string): Upload {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/scenarios/sdk-upload.ts'), target.url, target.credentials.accessKeyId, target.credentials.secretAccessKey, file, key],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let onStart: () => void;
  const started = new Promise<void>((r) => (onStart = r));
  const done = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('start\n')) onStart();
      const m = /done ([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`upload exited with ${code} before it finished`)));
  });
  // An upload that dies before it starts must not leave the scenario waiting for "start".
  return { started: Promise.race([started, done.then(() => undefined)]), done };
}

interface Round {
  idle: LoadFigures;
  busy: LoadFigures;
  uploadMiBs: number;
  ratio: number;
}

const scenario: Scenario = {
  name: 'responsive',
  title: 'Responsiveness during a large upload',
  async run(ctx) {
    requireWrk();
    const rounds = ctx.smoke ? 1 : 3;
    const uploadBytes = ctx.smoke ? 256 * MiB : 1024 * MiB;
    const warmupSeconds = ctx.smoke ? 0.5 : 1;
    // How long the upload runs before GETs are counted: past its start-up, into its steady state.
    const settleSeconds = ctx.smoke ? 0.25 : 1;
    const seconds = ctx.smoke ? 1.5 : 10;
    const keys = ctx.smoke ? 200 : 1000;
    const file = randomFile(uploadBytes);
    const sizeLabel = uploadBytes >= 1024 * MiB ? `${uploadBytes / (1024 * MiB)} GiB` : `${uploadBytes / MiB} MiB`;
    const results: Round[] = [];
    const notes: string[] = [];

    for (let round = 0; round < rounds; round++) {
      // A fresh cairn each round: the upload is the same file every time and cairn would find
      // all of its chunks already stored (dedup) in any round after the first.
      const target = await startTarget('cairn');
      try {
        await seedObjects(target, keys, SIZE, (i) => `seeded/${i}`);
        const request = rotatingGets(keys, 'seeded/');
        const idle = await signedLoad(target, { connections: CONNECTIONS, warmupSeconds, seconds, request });
        const upload = startUpload(target, file, `upload-${round}`);
        await upload.started;
        const busy = await signedLoad(target, { connections: CONNECTIONS, warmupSeconds: settleSeconds, seconds, request, until: upload.done });
        const ms = await upload.done;
        const r: Round = { idle, busy, uploadMiBs: uploadBytes / MiB / (ms / 1000), ratio: busy.ops / idle.ops };
        results.push(r);
        if (busy.responses === 0) notes.push(`Round ${round + 1}: the upload finished within the first ${settleSeconds} s, before any GET was counted.`);
        else if (busy.shortened) notes.push(`Round ${round + 1}: the upload finished first; the window was ${busy.seconds.toFixed(1)} s instead of ${seconds} s.`);
        ctx.log(
          `round ${round + 1}/${rounds}: idle ${idle.ops.toFixed(0)} GET/s (p99 ${idle.p99.toFixed(1)} ms), during upload ${busy.ops.toFixed(0)} GET/s ` +
            `(p99 ${busy.p99.toFixed(1)} ms, ${busy.seconds.toFixed(1)} s window), upload ${r.uploadMiBs.toFixed(0)} MiB/s, ratio ${r.ratio.toFixed(2)}`,
        );
      } finally {
        await target.stop();
      }
    }

    const s = (pick: (r: Round) => number) => stat(results.map(pick));
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const roundRows = results.map(
      (r, i) =>
        `| ${i + 1} | ${r.idle.ops.toFixed(0)} | ${r.idle.p50.toFixed(2)} | ${r.idle.p99.toFixed(2)} | ${r.busy.ops.toFixed(0)} | ${r.busy.p50.toFixed(2)} | ` +
        `${r.busy.p99.toFixed(2)} | ${r.busy.seconds.toFixed(1)} | ${fmtRatio(r.ratio)} | ${r.uploadMiBs.toFixed(0)} | ${pct(r.idle.serverCpu)} / ${pct(r.busy.serverCpu)} | ` +
        `${pct(r.idle.generatorCpu)} / ${pct(r.busy.generatorCpu)} |`,
    );
    const ratio = s((r) => r.ratio).median;

    const markdown = `## Method

cairn with its default settings (fsync durability) in its own process on 127.0.0.1, a fresh
instance each round with ${keys} objects of 4 KiB seeded. In each round, 4 KiB GETs at ${CONNECTIONS}
connections (wrk in its own process, every request SigV4 header-signed as it is sent, as in the
small scenario; any error or non-2xx answer fails the run):

1. **idle**: ${warmupSeconds} s uncounted, then ${seconds} s counted;
2. **during upload**: one ${sizeLabel} PutObject of random bytes with the AWS SDK v3 and its
   defaults (CRC32 trailer, aws-chunked; what users run), from a file, in a separate process so
   its CPU does not slow the load generator. The GET load starts with the upload; the first
   ${settleSeconds} s are not counted, then GETs are counted for ${seconds} s or until the
   upload finishes, whichever is first (the window column says how long it was).

The ratio is the GET rate during the upload over the idle rate of the same round. The machine
has two cores shared by cairn, the load generator and (in the second phase) the uploading
client: part of any drop is plain CPU contention on the machine, not cairn's scheduling. CPU
columns are percent of one core during the counted window, idle / during upload.
${rounds} round(s).

| | idle | during ${sizeLabel} upload |
|---|---|---|
| GET/s, median (min–max) | ${fmtStat(s((r) => r.idle.ops))} | ${fmtStat(s((r) => r.busy.ops))} |
| p50 ms, median | ${s((r) => r.idle.p50).median.toFixed(2)} | ${s((r) => r.busy.p50).median.toFixed(2)} |
| p99 ms, median (min–max) | ${fmtStat(s((r) => r.idle.p99), 2)} | ${fmtStat(s((r) => r.busy.p99), 2)} |
| upload MiB/s, median (min–max) | | ${fmtStat(s((r) => r.uploadMiBs))} |
| GET rate during / idle, median (min–max) | | ${fmtStat(s((r) => r.ratio), 2)} |

| round | idle GET/s | idle p50 ms | idle p99 ms | upload GET/s | upload p50 ms | upload p99 ms | window s | during / idle | upload MiB/s | cairn CPU | generator CPU |
|---|---|---|---|---|---|---|---|---|---|---|---|
${roundRows.join('\n')}
${notes.length ? '\n' + notes.join('\n') + '\n' : ''}`;

    const svg = barChart({
      title: `4 KiB GETs at ${CONNECTIONS} connections, idle and during a ${sizeLabel} upload (median)`,
      unit: 'GET/s',
      groups: [
        { label: 'idle', bars: [{ series: 'cairn', value: s((r) => r.idle.ops).median }] },
        { label: `during ${sizeLabel} upload`, bars: [{ series: 'cairn', value: s((r) => r.busy.ops).median }] },
      ],
    });
    return { markdown, svg, targets: [{ what: `GET rate during a ${sizeLabel} upload / idle`, ratio, goal: GOAL }] };
  },
};

export default scenario;
