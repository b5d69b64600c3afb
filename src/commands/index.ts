import type { Command } from 'commander';
import { register as ls } from './ls.js';
import { register as find } from './find.js';
import { register as inspect } from './inspect.js';
import { register as stats } from './stats.js';
import { register as bucket } from './bucket.js';
import { register as keys } from './keys.js';
import { register as accounts } from './accounts.js';
import { register as presign } from './presign.js';
import { register as verify } from './verify.js';
import { register as gc } from './gc.js';
import { register as lifecycle } from './lifecycle.js';
import { register as migrate } from './migrate.js';
import { register as migrateMetadata } from './migrate-metadata.js';

/** The record and maintenance commands (ls, find, inspect, stats, bucket, keys, accounts, presign, verify, gc, lifecycle, migrate, migrate-metadata). */
export function registerCommands(program: Command): void {
  for (const register of [ls, find, inspect, stats, bucket, keys, accounts, presign, verify, gc, lifecycle, migrate, migrateMetadata]) register(program);
}
