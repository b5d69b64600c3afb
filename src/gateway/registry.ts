import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { GatewayStore } from '../store/metadata-store.js';
import type { GatewayRow } from '../store/types.js';

// The gateway registry: each gateway writes its row at start and on every heartbeat, and removes
// it on a clean stop. A row whose heartbeat is older than the timeout is a dead gateway (killed,
// or cut off from the database); such rows stay listed as dead for a day, so an operator sees the
// crash, then the next gateway to start prunes them.

/** cairn's version, as `cairn --version` prints it. */
export const CAIRN_VERSION = '0.1.0';

const PRUNE_AFTER_MS = 86_400_000;

export type GatewayState = 'alive' | 'dead';
export type GatewayView = GatewayRow & { state: GatewayState };

/** Heartbeats come four times per timeout: one or two lost beats do not make a gateway dead. */
export function heartbeatInterval(timeoutMs: number): number {
  return Math.max(250, Math.floor(timeoutMs / 4));
}

export function newGatewayId(): string {
  return `${os.hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
}

/** The registry's rows with their state at `now`. */
export async function listGateways(store: GatewayStore, timeoutMs: number, now = Date.now()): Promise<GatewayView[]> {
  return (await store.list()).map((g) => ({ ...g, state: now - g.heartbeatAt <= timeoutMs ? 'alive' : 'dead' }));
}

export function countGateways(views: GatewayView[]): Record<GatewayState, number> {
  const alive = views.filter((g) => g.state === 'alive').length;
  return { alive, dead: views.length - alive };
}

export interface GatewayRegistration {
  readonly id: string;
  /** Stops the heartbeat and removes the row (a clean stop). */
  stop(): Promise<void>;
}

/** Registers this gateway (the first heartbeat before it resolves) and keeps its row fresh. */
export async function registerGateway(
  store: GatewayStore,
  identity: Omit<GatewayRow, 'heartbeatAt' | 'startedAt' | 'host' | 'pid' | 'version'>,
  opts: { timeoutMs: number; log: Logger },
): Promise<GatewayRegistration> {
  const row: GatewayRow = { host: os.hostname(), pid: process.pid, version: CAIRN_VERSION, startedAt: Date.now(), heartbeatAt: Date.now(), ...identity };
  await store.heartbeat(row);
  await pruneDead(store, opts.log);
  let inFlight: Promise<void> = Promise.resolve();
  let failing = false;
  const beat = () => {
    inFlight = store.heartbeat({ ...row, heartbeatAt: Date.now() }).then(
      () => {
        if (failing) opts.log.info({ gateway: row.id }, 'gateway heartbeat written again');
        failing = false;
      },
      (err: unknown) => {
        // Logged once per outage: the database may be restarting; the next beats retry.
        if (!failing) opts.log.warn({ gateway: row.id, err: (err as Error).message }, 'gateway heartbeat failed');
        failing = true;
      },
    );
  };
  const timer = setInterval(beat, heartbeatInterval(opts.timeoutMs));
  timer.unref();
  return {
    id: row.id,
    stop: async () => {
      clearInterval(timer);
      await inFlight;
      await store.remove(row.id).catch((err: unknown) => opts.log.warn({ gateway: row.id, err: (err as Error).message }, 'could not remove this gateway from the registry'));
    },
  };
}

async function pruneDead(store: GatewayStore, log: Logger): Promise<void> {
  const before = Date.now() - PRUNE_AFTER_MS;
  for (const g of await store.list()) {
    if (g.heartbeatAt >= before) continue;
    await store.remove(g.id);
    log.info({ gateway: g.id, host: g.host, lastHeartbeat: new Date(g.heartbeatAt).toISOString() }, 'removed a gateway dead for over a day from the registry');
  }
}
