import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { PgStore } from '../../src/db/pg/pg-store.js';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import { listGateways, registerGateway, countGateways } from '../../src/gateway/registry.js';
import { sharedAdminToken, sharedRootCredentials } from '../../src/gateway/shared-settings.js';
import { bearerMatches } from '../../src/admin/token.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

// The settings and gateway registry stores, the same checks on both engines.

const log = pino({ level: 'silent' });
const row = (id: string, heartbeatAt: number) => ({ id, host: 'h', pid: 7, s3Url: `http://${id}:9000`, adminUrl: '', version: '0.1.0', startedAt: heartbeatAt - 1000, heartbeatAt });

function contract(name: string, open: () => Promise<{ store: MetadataStore; done(): Promise<void> }>) {
  let cleanup: (() => Promise<void>) | undefined;
  const fresh = async () => {
    const o = await open();
    cleanup = o.done;
    return o.store;
  };
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  describe(`${name}: settings`, () => {
    it('putIfAbsent keeps the first value and returns it to every caller', async () => {
      const s = await fresh();
      expect(await s.settings.get('x')).toBeUndefined();
      const answers = await Promise.all(['a', 'b', 'c'].map((v) => s.settings.putIfAbsent('x', v)));
      expect(new Set(answers).size).toBe(1);
      expect(await s.settings.get('x')).toBe(answers[0]);
      expect(await s.settings.putIfAbsent('x', 'later')).toBe(answers[0]);
    });

    it('shared root pair and admin token: one generator, the others agree (the token as its hash)', async () => {
      const s = await fresh();
      const pairs = await Promise.all([0, 1, 2].map(() => sharedRootCredentials(s.settings, {})));
      expect(new Set(pairs.map((p) => p.accessKeyId + p.secretAccessKey)).size).toBe(1);
      expect(pairs.filter((p) => p.generated)).toHaveLength(1);
      const tokens = await Promise.all([0, 1, 2].map(() => sharedAdminToken(s.settings)));
      const token = tokens.find((t) => t.generated)!.token!;
      expect(tokens.filter((t) => t.generated)).toHaveLength(1);
      for (const t of tokens) expect(bearerMatches(`Bearer ${token}`, t.check)).toBe(true);
      for (const t of tokens) expect(bearerMatches(`Bearer ${token}x`, t.check)).toBe(false);
      expect(await s.settings.get('admin-token-sha256')).not.toContain(token);
      // The environment wins and is not stored.
      expect(await sharedRootCredentials(s.settings, { accessKeyId: 'ENVKEY', secretAccessKey: 'env-secret-123' })).toEqual({ accessKeyId: 'ENVKEY', secretAccessKey: 'env-secret-123', generated: false });
    });
  });

  describe(`${name}: gateway registry`, () => {
    it('heartbeat inserts then updates, list by id, remove', async () => {
      const s = await fresh();
      const now = Date.now();
      await s.gateways.heartbeat(row('b', now));
      await s.gateways.heartbeat(row('a', now - 60_000));
      await s.gateways.heartbeat({ ...row('b', now + 5), s3Url: 'http://moved:9000' });
      expect((await s.gateways.list()).map((g) => [g.id, g.heartbeatAt, g.s3Url])).toEqual([['a', now - 60_000, 'http://a:9000'], ['b', now + 5, 'http://moved:9000']]);
      const views = await listGateways(s.gateways, 30_000, now);
      expect(views.map((g) => g.state)).toEqual(['dead', 'alive']);
      expect(countGateways(views)).toEqual({ alive: 1, dead: 1 });
      await s.gateways.remove('a');
      expect((await s.gateways.list()).map((g) => g.id)).toEqual(['b']);
    });

    it('registerGateway beats on its interval, prunes rows dead for a day, and leaves on stop', async () => {
      const s = await fresh();
      await s.gateways.heartbeat(row('ancient', Date.now() - 2 * 86_400_000));
      const reg = await registerGateway(s.gateways, { id: 'me', s3Url: 'http://me', adminUrl: 'http://me-admin' }, { timeoutMs: 2000, log });
      const first = (await s.gateways.list()).map((g) => g.id);
      expect(first).toEqual(['me']);
      const at = (await s.gateways.list())[0]!.heartbeatAt;
      await new Promise((r) => setTimeout(r, 1200));
      expect((await s.gateways.list())[0]!.heartbeatAt).toBeGreaterThan(at);
      await reg.stop();
      expect(await s.gateways.list()).toEqual([]);
    });
  });
}

contract('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gwstore-'));
  const store = await SqliteStore.open({ file: path.join(dir, 'cairn.db'), durability: 'relaxed' });
  const done = async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { store, done };
});

describePg('pg', () => {
  contract('postgres', async () => {
    const db = await freshPgDatabase('gwstore', { migrated: true });
    const store = await PgStore.open({ url: db.url, poolSize: 4, migrate: false });
    const done = async () => {
      await store.close();
      await db.drop();
    };
    return { store, done };
  });
});
