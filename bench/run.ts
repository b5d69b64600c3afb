// `npm run bench [scenario ...] [--smoke] [--out dir]`: runs the named scenarios (all by default)
// one after another, each starting what it measures, and writes bench/results/<scenario>.md.
// Run it on a quiet machine: nothing else should compete for the two cores.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { met, writeResult, type Scenario } from './harness.js';
import { ROOT } from './lib.js';

const SCENARIOS: Record<string, () => Promise<Scenario>> = {
  writer: async () => (await import('./scenarios/writer.js')).default,
  large: async () => (await import('./scenarios/large.js')).default,
  small: async () => (await import('./scenarios/small.js')).default,
  responsive: async () => (await import('./scenarios/responsive.js')).default,
  memory: async () => (await import('./scenarios/memory.js')).default,
  listing: async () => (await import('./scenarios/listing.js')).default,
  versions: async () => (await import('./scenarios/versions-listing.js')).default,
  post: async () => (await import('./scenarios/post.js')).default,
  postgres: async () => (await import('./scenarios/postgres.js')).default,
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
});
if (values.help) {
  process.stdout.write(`Usage: npm run bench -- [scenario ...] [--smoke] [--out dir]

Scenarios: ${Object.keys(SCENARIOS).join(', ')} (default: all, in that order).
  --smoke     tiny sizes, one round (what npm test runs; the figures mean nothing)
  --out dir   where the results go (default bench/results; smoke runs default to a temp dir)

Needs a build (npm run bench builds first). Results: <out>/<scenario>.md and .svg.
`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !(p in SCENARIOS));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}\n`);
  process.exit(2);
}
const names = positionals.length ? positionals : Object.keys(SCENARIOS);
const outDir = path.resolve(values.out ?? (values.smoke ? path.join(process.env.TMPDIR ?? '/tmp', 'cairn-bench-smoke') : path.join(ROOT, 'bench/results')));
const summary: string[] = [];
for (const name of names) {
  const scenario = await SCENARIOS[name]!();
  const started = performance.now();
  process.stdout.write(`== ${name}: ${scenario.title}\n`);
  const ctx = { smoke: values.smoke, outDir, log: (msg: string) => process.stdout.write(`  ${msg}\n`) };
  const result = await scenario.run(ctx);
  writeResult(ctx, scenario, result, `npm run bench -- ${name}${values.smoke ? ' --smoke' : ''}`);
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  process.stdout.write(`   wrote ${path.join(outDir, name + '.md')} (${secs} s)\n`);
  for (const t of result.targets ?? []) summary.push(`${met(t) ? 'met   ' : 'MISSED'} ${name}: ${t.what}: ${t.ratio.toFixed(2)}× (goal ${t.atMost ? '≤' : '≥'} ${t.goal}×)`);
}
if (summary.length) process.stdout.write(`\n${summary.join('\n')}\n`);
