// Large objects: 1 GiB PUT and GET, one stream and four at once, through the AWS SDK v3 and
// curl, against cairn, s3rver and the ceiling for the operation (MD5 for PUT, file for GET).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { GiB, MiB, fmtRatio, fmtStat, startTarget, stat, type Scenario, type ScenarioContext, type Target, type TargetCheck } from '../harness.js';
import { randomFile } from '../lib.js';
import { barChart, type BarGroup } from '../svg.js';
import { curlMover, deleteKeys, sdkMover, type Mover, type Payload } from './large-clients.js';

type Client = 'sdk' | 'curl';
type Op = 'PUT' | 'GET';
/** 'defaults' is cairn again, with the SDK's own checksum settings. */
type Column = 'cairn' | 's3rver' | 'ceiling' | 'defaults';

const CLIENTS: Client[] = ['sdk', 'curl'];
const OPS: Op[] = ['PUT', 'GET'];
const STREAMS = [1, 4];
const CLIENT_LABEL: Record<Client, string> = { sdk: 'AWS SDK v3', curl: 'curl' };
const SVG_LABEL: Record<Client, string> = { sdk: 'SDK', curl: 'curl' };

interface Contender {
  column: Column;
  mover: Mover;
  keys: string[];
}

const plainKeys = (n: number) => Array.from({ length: n }, (_, i) => `large-${i}`);
const DEFAULTS_KEY = 'large-sdk-defaults';

async function md5Of(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const piece of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(piece as Buffer);
  return h.digest('hex');
}

const streamsLabel = (n: number) => `${n} stream${n > 1 ? 's' : ''}`;

async function run(ctx: ScenarioContext) {
  const size = ctx.smoke ? 8 * MiB : GiB;
  const rounds = ctx.smoke ? 1 : 3;
  const sizeLabel = ctx.smoke ? '8 MiB' : '1 GiB';
  const file = randomFile(size);
  // A hung server must fail the run, not stall it; 16 MiB/s for four streams is far below anything measured.
  const payload: Payload = { file, size, md5: await md5Of(file), timeoutMs: 60_000 + ((4 * size) / (16 * MiB)) * 1000 };

  const targets: Partial<Record<'cairn' | 's3rver' | 'md5' | 'file', Target>> = {};
  const movers: Mover[] = [];
  const mover = (m: Mover) => (movers.push(m), m);
  // Keyed by client|op|streams|column: MiB/s of each round.
  const figures = new Map<string, number[]>();
  const fig = (client: Client, op: Op, streams: number, column: Column) => figures.get(`${client}|${op}|${streams}|${column}`) ?? [];

  try {
    targets.cairn = await startTarget('cairn');
    targets.s3rver = await startTarget('s3rver');
    targets.md5 = await startTarget('md5-ceiling');
    targets.file = await startTarget('file-ceiling', { file });
    const { cairn, s3rver, md5, file: fileCeiling } = targets as Required<typeof targets>;

    for (const client of CLIENTS) {
      const make = client === 'sdk' ? (t: Target) => mover(sdkMover(t, payload)) : (t: Target) => mover(curlMover(t, payload));
      const m = { cairn: make(cairn), s3rver: make(s3rver), md5: make(md5), file: make(fileCeiling) };
      // What users run: CRC32 trailer and aws-chunked on PUT, checksum validation on GET.
      const defaults = client === 'sdk' ? mover(sdkMover(cairn, payload, { sdkDefaults: true })) : undefined;

      // PUTs first: the GETs that follow read what the last PUT round left on cairn and s3rver.
      for (const op of OPS) {
        for (const streams of STREAMS) {
          const keys = plainKeys(streams);
          const contenders: Contender[] = [
            { column: 'cairn', mover: m.cairn, keys },
            { column: 's3rver', mover: m.s3rver, keys },
            { column: 'ceiling', mover: op === 'PUT' ? m.md5 : m.file, keys },
          ];
          if (defaults && streams === 1) contenders.push({ column: 'defaults', mover: defaults, keys: [DEFAULTS_KEY] });

          for (let r = 0; r < rounds; r++) {
            if (op === 'PUT') {
              const written = contenders.flatMap((c) => (c.column === 'ceiling' ? [] : c.keys));
              await deleteKeys(cairn, written);
              await deleteKeys(s3rver, written);
            }
            // Each round starts with a different target, so drift and warm-up hit all alike.
            const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
            for (const c of order) {
              // s3rver never fsyncs: without this its dirty pages would be written back on the
              // clock of whoever comes next.
              spawnSync('sync');
              const transfers = await Promise.all(c.keys.map((k) => c.mover.prepare(op, k)));
              const t0 = performance.now();
              await Promise.all(transfers.map((run) => run()));
              const mibs = (c.keys.length * size) / MiB / ((performance.now() - t0) / 1000);
              const key = `${client}|${op}|${streams}|${c.column}`;
              figures.set(key, [...(figures.get(key) ?? []), mibs]);
              ctx.log(`${client} ${op} ${streamsLabel(c.keys.length)} round ${r + 1}/${rounds} ${c.column}: ${mibs.toFixed(0)} MiB/s`);
            }
          }
        }
      }
    }
  } finally {
    for (const m of movers) m.close();
    await Promise.all(
      Object.values(targets).map((t) => t.stop().catch((e: unknown) => ctx.log(`stopping ${t.kind} failed: ${String(e)}`))),
    );
  }

  const med = (xs: number[]) => stat(xs).median;
  const cell = (xs: number[]) => (xs.length ? fmtStat(stat(xs)) : '–');
  const md: string[] = [];
  const groups: BarGroup[] = [];
  const checks: TargetCheck[] = [];

  md.push(
    `${sizeLabel} objects of random bytes (no dedup can help), sent from one file read in 1 MiB pieces and ` +
      `read back to nowhere (the SDK drains the body, curl writes to /dev/null). "4 streams" is four different ` +
      `keys of ${sizeLabel} each at once; its figure is the aggregate: 4 × ${sizeLabel} over the time from the first ` +
      `start to the last finish. ${rounds} round${rounds > 1 ? 's' : ''} per row; in each round every target runs once, ` +
      `the order rotated from round to round, and \`sync\` runs (untimed) before each transfer so nobody pays for the ` +
      `previous target's writeback. Before each PUT round the keys are deleted, so every PUT creates a new object; ` +
      `the GETs read the objects of the last PUT round (the machine's RAM holds them all, so GETs likely come from the ` +
      `page cache on every target, as the file ceiling's file does). Every transfer is checked: a PUT's ETag must be the ` +
      `file's MD5, a GET must return exactly ${sizeLabel}; any failure stops the run. Figures are MiB/s, median (min–max); ` +
      `ratios are of medians.`,
    '',
    `**cairn** runs with its defaults, in its own process: fsync durability (every 8 MiB chunk file and its ` +
      `directory fsynced before the object is committed, SQLite \`synchronous=FULL\`), 16 write buffers. ` +
      `**s3rver** (3.7.1, the Node S3 server people reach for), also in its own process, never fsyncs: its PUT ` +
      `answer means the bytes are in the page cache, not on disk. **Ceilings** (each a bare Node HTTP server in its ` +
      `own process): for PUT, one that only MD5s the body (S3's ETag needs the MD5 of the whole object, and MD5 is ` +
      `sequential); for GET, one that streams the file. All on 127.0.0.1, the client sharing the same cores.`,
    '',
    `**Clients.** The AWS SDK v3 runs in a fresh process for every transfer (bench/scenarios/sdk-transfer.ts), ` +
      `started and set up before the clock starts, so every target meets the same client rather than one whose heap ` +
      `carries the gigabytes moved before; it sends with checksums WHEN_REQUIRED, so every target ` +
      `gets the same plain signed request (UNSIGNED-PAYLOAD, Content-Length; s3rver knows no aws-chunked trailers); ` +
      `the "SDK defaults" rows are cairn again with the SDK's own settings (CRC32 in an aws-chunked trailer on PUT, ` +
      `checksum validation on GET), measured in the same rounds. curl is the system curl, one process per stream: ` +
      `PUT \`curl -sS --fail -T file\`, GET \`curl -sS --fail -o /dev/null\`, signed for cairn and s3rver with ` +
      `\`--aws-sigv4 "aws:amz:us-east-1:s3" --user KEY:SECRET -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"\` ` +
      `(s3rver refuses requests without that header, GETs included).`,
    '',
  );

  for (const client of CLIENTS) {
    md.push(
      `## ${CLIENT_LABEL[client]}`,
      '',
      '| operation | streams | cairn | s3rver | ceiling (PUT: MD5, GET: file) | cairn / ceiling | cairn / s3rver |',
      '|---|---|---|---|---|---|---|',
    );
    for (const op of OPS) {
      for (const streams of STREAMS) {
        const [c, s, ceil] = (['cairn', 's3rver', 'ceiling'] as const).map((col) => fig(client, op, streams, col));
        md.push(
          `| ${op} | ${streams} | ${cell(c!)} | ${cell(s!)} | ${cell(ceil!)} | ${fmtRatio(med(c!) / med(ceil!))} | ${fmtRatio(med(c!) / med(s!))} |`,
        );
        groups.push({
          label: `${op} ${streamsLabel(streams)} (${SVG_LABEL[client]})`,
          bars: [
            { series: 'cairn', value: med(c!) },
            { series: 's3rver', value: med(s!) },
            { series: 'ceiling', value: med(ceil!) },
          ],
        });
        if (streams === 1) {
          const what = (vs: string) => `${op} ${sizeLabel}, 1 stream, ${client === 'sdk' ? 'SDK' : 'curl'}: cairn / ${vs}`;
          checks.push(
            op === 'PUT'
              ? { what: what('MD5 ceiling'), ratio: med(c!) / med(ceil!), goal: 0.9 }
              : { what: what('file ceiling'), ratio: med(c!) / med(ceil!), goal: 0.85 },
            { what: what('s3rver'), ratio: med(c!) / med(s!), goal: op === 'PUT' ? 1.4 : 2.5 },
          );
        }
      }
    }
    if (client === 'sdk') {
      for (const op of OPS) {
        const d = fig(client, op, 1, 'defaults');
        const ceil = fig(client, op, 1, 'ceiling');
        md.push(`| ${op}, SDK defaults | 1 | ${cell(d)} | – | ${cell(ceil)} | ${fmtRatio(med(d) / med(ceil))} | – |`);
        groups.push({ label: `${op} 1 stream (SDK defaults)`, bars: [{ series: 'cairn', value: med(d) }] });
      }
    }
    md.push('');
  }

  const svg = barChart({ title: `Large objects (${sizeLabel}): MiB/s, median of ${rounds} round${rounds > 1 ? 's' : ''}`, unit: 'MiB/s', groups });
  return { markdown: md.join('\n'), svg, targets: checks };
}

const scenario: Scenario = { name: 'large', title: 'Large objects', run };
export default scenario;
