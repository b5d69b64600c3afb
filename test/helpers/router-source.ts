import fs from 'node:fs';
import path from 'node:path';

import { UNSUPPORTED } from '../../src/http/router.js';

/** src/http/router.ts as text: the tests probe every sub-resource it names. */
export const routerSource = fs.readFileSync(path.join(import.meta.dirname, '../../src/http/router.ts'), 'utf8');

/** The sub-resources router.ts answers NotImplemented (its UNSUPPORTED list). */
export function unsupportedSubresources(): string[] {
  return [...UNSUPPORTED];
}
