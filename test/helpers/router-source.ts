import fs from 'node:fs';
import path from 'node:path';

/** src/http/router.ts as text: its UNSUPPORTED list is not exported, and tests follow it as it changes. */
export const routerSource = fs.readFileSync(path.join(import.meta.dirname, '../../src/http/router.ts'), 'utf8');

/** The sub-resources router.ts answers NotImplemented (its UNSUPPORTED list). */
export function unsupportedSubresources(): string[] {
  const list = /const UNSUPPORTED = \[([^\]]*)\]/.exec(routerSource)?.[1];
  if (list === undefined) throw new Error('router.ts has no UNSUPPORTED list any more');
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}
