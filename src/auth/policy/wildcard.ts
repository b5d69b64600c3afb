// IAM wildcards: '*' matches any run of characters (none included), '?' exactly one. Patterns are
// turned into the cheapest test that decides them (equality, a prefix, or a RegExp) once, at parse.

export type Matcher = (s: string) => boolean;

const matchAll: Matcher = () => true;

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** The RegExp source for a wildcard pattern, every other character literal. */
export function wildcardSource(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/**
 * A whole-string RegExp: 's' so that '*' also spans newlines (object keys may hold them), 'u' so
 * that '?' is one character even outside the BMP.
 */
export function wildcardRegExp(pattern: string, ignoreCase = false): RegExp {
  return new RegExp(`^(?:${wildcardSource(pattern)})$`, ignoreCase ? 'siu' : 'su');
}

/** A case-sensitive matcher for one pattern. */
export function compileWildcard(pattern: string): Matcher {
  if (pattern === '*') return matchAll;
  if (!hasWildcard(pattern)) return (s) => s === pattern;
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1 && !pattern.includes('?')) {
    const prefix = pattern.slice(0, -1);
    return (s) => s.startsWith(prefix);
  }
  const re = wildcardRegExp(pattern);
  return (s) => re.test(s);
}

/** One matcher for several patterns (true when any matches): a Set for literals, one RegExp for the rest. */
export function compileWildcards(patterns: readonly string[]): Matcher {
  if (patterns.includes('*')) return matchAll;
  if (patterns.length === 1) return compileWildcard(patterns[0]);
  const literals = new Set(patterns.filter((p) => !hasWildcard(p)));
  const wild = patterns.filter(hasWildcard);
  if (wild.length === 0) return (s) => literals.has(s);
  const re = new RegExp(`^(?:${wild.map(wildcardSource).join('|')})$`, 'su');
  if (literals.size === 0) return (s) => re.test(s);
  return (s) => literals.has(s) || re.test(s);
}

/**
 * Whether some string starting with `prefix` matches `pattern`: runs the pattern as a set of
 * positions over the prefix; whatever positions survive can always be completed.
 */
export function canMatchPrefix(pattern: string, prefix: string): boolean {
  const p = [...pattern];
  let states = closure(p, new Set([0]));
  for (const ch of prefix) {
    const next = new Set<number>();
    for (const i of states) {
      if (i >= p.length) continue;
      if (p[i] === '*') next.add(i);
      else if (p[i] === '?' || p[i] === ch) next.add(i + 1);
    }
    states = closure(p, next);
    if (states.size === 0) return false;
  }
  return states.size > 0;
}

/** Adds the positions reachable by letting each '*' match nothing. */
function closure(p: string[], states: Set<number>): Set<number> {
  for (const i of states) if (p[i] === '*') states.add(i + 1);
  return states;
}
