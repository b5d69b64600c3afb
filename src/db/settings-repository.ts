import { asc, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { gateways, settings } from './schema.js';
import type { GatewayStore, SettingsStore } from '../store/metadata-store.js';
import type { GatewayRow } from '../store/types.js';

// The shared settings and the gateway registry on SQLite. Single statements on the main
// connection: SQLite runs them at once (no I/O callback in between), like the keys repository.

export function sqliteSettings(db: Db): SettingsStore {
  const read = (name: string) => db.select({ value: settings.value }).from(settings).where(eq(settings.name, name)).get()?.value;
  return {
    get: async (name) => read(name),
    putIfAbsent: async (name, value) => {
      db.insert(settings).values({ name, value, updatedAt: Date.now() }).onConflictDoNothing().run();
      return read(name)!;
    },
  };
}

export function sqliteGateways(db: Db): GatewayStore {
  return {
    heartbeat: async (row) => {
      const { id, ...rest } = row;
      db.insert(gateways).values(row).onConflictDoUpdate({ target: gateways.id, set: rest }).run();
    },
    list: async () => db.select().from(gateways).orderBy(asc(gateways.id)).all() satisfies GatewayRow[],
    remove: async (id) => {
      db.delete(gateways).where(eq(gateways.id, id)).run();
    },
  };
}
