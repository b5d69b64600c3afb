// `npx tsx bench/lock-race.ts [rounds=100] [writers=32]`: the If-None-Match lock race against the
// built server (dist/), with the commit thread on and off. Each round, `writers` clients PUT one
// new key with If-None-Match: * at once; exactly one may win. Prints, per commit path, the
// rounds with exactly one winner, how the losers were answered (412 before the body, 409 at
// commit) and the round times. Loopback only; it stops after the rounds.
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BENCH_KEY, BENCH_SECRET, startCairn } from './lib.js';

const rounds = Number(process.argv[2] ?? 100);
const writers = Number(process.argv[3] ?? 32);

for (const commitThread of ['on', 'off']) {
  const cairn = await startCairn({ CAIRN_COMMIT_THREAD: commitThread, CAIRN_DURABILITY: 'fsync' });
  try {
    const s3 = new S3Client({ endpoint: cairn.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: BENCH_KEY, secretAccessKey: BENCH_SECRET } });
    await s3.send(new CreateBucketCommand({ Bucket: 'race' }));
    const losers: Record<string, number> = {};
    let oneWinner = 0;
    const times: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: writers }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'race', Key: `lock-${round}`, Body: `writer ${i}`, IfNoneMatch: '*' }))),
      );
      times.push(performance.now() - t0);
      if (outcomes.filter((o) => o.status === 'fulfilled').length === 1) oneWinner++;
      for (const o of outcomes) {
        if (o.status !== 'rejected') continue;
        const status = String((o.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? o.reason);
        losers[status] = (losers[status] ?? 0) + 1;
      }
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
    process.stdout.write(
      `commit thread ${commitThread}: ${oneWinner}/${rounds} rounds with exactly one winner of ${writers}; losers ${JSON.stringify(losers)}; ` +
        `round time p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms\n`,
    );
    s3.destroy();
  } finally {
    await cairn.stop();
  }
}
