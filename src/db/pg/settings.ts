import { asc, eq } from 'drizzle-orm';
import type { PgDb } from './client.js';
import { gateways, settings } from './schema.js';
import type { GatewayStore, SettingsStore } from '../../store/metadata-store.js';
import type { GatewayRow } from '../../store/types.js';

// The shared settings and the gateway registry on PostgreSQL. putIfAbsent is an insert that
// yields to an existing row, then a read: gateways starting together on an empty database all
// insert, one row wins, and every one of them reads that same row back.

export function pgSettings(db: PgDb): SettingsStore {
  const read = async (name: string) => (await db.select({ value: settings.value }).from(settings).where(eq(settings.name, name)))[0]?.value;
  return {
    get: read,
    putIfAbsent: async (name, value) => {
      await db.insert(settings).values({ name, value, updatedAt: Date.now() }).onConflictDoNothing();
      const stored = await read(name);
      if (stored === undefined) throw new Error(`setting ${name} vanished after it was stored`);
      return stored;
    },
  };
}

export function pgGateways(db: PgDb): GatewayStore {
  return {
    heartbeat: async (row) => {
      const { id, ...rest } = row;
      await db.insert(gateways).values(row).onConflictDoUpdate({ target: gateways.id, set: rest });
    },
    list: async () => (await db.select().from(gateways).orderBy(asc(gateways.id))) satisfies GatewayRow[],
    remove: async (id) => {
      await db.delete(gateways).where(eq(gateways.id, id));
    },
  };
}
