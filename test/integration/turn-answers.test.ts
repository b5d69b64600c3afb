// Answers ready in the turn their request arrived in go out at the end of that turn, back to back
// (src/http/end-of-turn.ts). What must hold: such an answer waits for the turn's end and no longer,
// and the bytes are the same as ever.
import http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOfTurn, turnStamp } from '../../src/http/end-of-turn.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bodyOf } from '../helpers/sdk.js';

describe('turnStamp / endOfTurn', () => {
  it('settles at the end of the turn, once for every waiter of that turn', async () => {
    const stamp = turnStamp();
    const a = endOfTurn(stamp)!;
    const b = endOfTurn(stamp)!;
    expect(a).toBeInstanceOf(Promise);
    expect(b).toBe(a);
    let settled = false;
    void a.then(() => (settled = true));
    await new Promise<void>((r) => process.nextTick(r));
    await Promise.resolve();
    expect(settled).toBe(false);
    await new Promise<void>((r) => setImmediate(r));
    expect(settled).toBe(true);
  });

  it('does not hold an answer whose turn is over', async () => {
    const stamp = turnStamp();
    await new Promise<void>((r) => setImmediate(r));
    expect(endOfTurn(stamp)).toBeUndefined();
    // A new turn has a new number and its own wait.
    const next = turnStamp();
    expect(next).not.toBe(stamp);
    expect(endOfTurn(next)).toBeInstanceOf(Promise);
    await endOfTurn(next);
  });
});

describe('on a real server', () => {
  let server: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startTestServer({ durability: 'fsync' });
    s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'turns' }));
    await s3.send(new PutObjectCommand({ Bucket: 'turns', Key: 'small', Body: Buffer.from('four') }));
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('writes a GET answered in its arrival turn after that turn ends', async () => {
    // Runs before the app's own listener: its setImmediate is queued first, so it marks the end
    // of the request's arrival turn before the app's wait is released.
    const headersAt: boolean[] = [];
    const probe = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      let turnOver = false;
      setImmediate(() => (turnOver = true));
      const writeHead = res.writeHead;
      res.writeHead = function (this: http.ServerResponse, ...args: Parameters<typeof writeHead>) {
        headersAt.push(turnOver);
        return writeHead.apply(this, args);
      } as typeof writeHead;
    };
    server.server.prependListener('request', probe);
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'turns', Key: 'small' }));
      expect((await bodyOf(got)).toString()).toBe('four');
    } finally {
      server.server.removeListener('request', probe);
    }
    expect(headersAt).toEqual([true]);
  });

  it('answers many concurrent GETs and PUTs with the right bytes', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => s3.send(new PutObjectCommand({ Bucket: 'turns', Key: k, Body: Buffer.from(`body of ${k}`) }))));
    const bodies = await Promise.all(keys.map(async (k) => (await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'turns', Key: k })))).toString()));
    expect(bodies).toEqual(keys.map((k) => `body of ${k}`));
  });
});
