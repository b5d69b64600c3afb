// Console routes (path based; the admin listener answers index.html for them) and prefix helpers.

export type Route =
  | { page: 'dashboard' }
  | { page: 'buckets' }
  | { page: 'accounts' }
  | { page: 'browse'; bucket: string; prefix: string }
  | { page: 'search'; bucket: string; query: URLSearchParams }
  | { page: 'object'; bucket: string; key: string; versionId?: string }
  | { page: 'notFound'; path: string };

function dec(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').slice(1);
  const [head, bucketRaw, restRaw] = [parts[0] ?? '', parts[1], parts.slice(2).join('/')];
  if (pathname === '/' || pathname === '') return { page: 'dashboard' };
  if (head === 'buckets' && parts.length === 1) return { page: 'buckets' };
  if (head === 'accounts' && parts.length === 1) return { page: 'accounts' };
  const bucket = bucketRaw === undefined ? undefined : dec(bucketRaw);
  if (bucket) {
    // The prefix or key travels as one encoded segment; an unencoded rest is accepted too.
    const rest = dec(restRaw);
    if (head === 'b' && rest !== undefined) return { page: 'browse', bucket, prefix: rest };
    if (head === 'search' && parts.length <= 3) return { page: 'search', bucket, query: new URLSearchParams(search) };
    if (head === 'o' && rest) {
      const versionId = new URLSearchParams(search).get('versionId');
      return versionId ? { page: 'object', bucket, key: rest, versionId } : { page: 'object', bucket, key: rest };
    }
  }
  return { page: 'notFound', path: pathname };
}

export function browseHref(bucket: string, prefix = ''): string {
  return `/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}`;
}

/** An object's page: its current version, or the version `versionId`. */
export function objectHref(bucket: string, key: string, versionId?: string): string {
  return `/o/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}${versionId === undefined ? '' : `?versionId=${encodeURIComponent(versionId)}`}`;
}

export function searchHref(bucket: string, params?: URLSearchParams | Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  return `/search/${encodeURIComponent(bucket)}${q ? `?${q}` : ''}`;
}

export interface Crumb {
  label: string;
  prefix: string;
}

/** 'photos/2026/' -> [{photos, 'photos/'}, {2026, 'photos/2026/'}] (the bucket crumb is the caller's). */
export function breadcrumbs(prefix: string, delimiter = '/'): Crumb[] {
  const out: Crumb[] = [];
  let at = 0;
  while (at < prefix.length) {
    const next = prefix.indexOf(delimiter, at);
    const end = next < 0 ? prefix.length : next + delimiter.length;
    out.push({ label: prefix.slice(at, next < 0 ? prefix.length : next) || delimiter, prefix: prefix.slice(0, end) });
    at = end;
  }
  return out;
}

/** The last path segment: 'a/b/c.txt' -> 'c.txt', 'a/b/' under 'a/' -> 'b/'. */
export function leafName(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** The folder that holds a key ('a/b/c.txt' -> 'a/b/'). */
export function parentPrefix(key: string, delimiter = '/'): string {
  const trimmed = key.endsWith(delimiter) ? key.slice(0, -delimiter.length) : key;
  const i = trimmed.lastIndexOf(delimiter);
  return i < 0 ? '' : trimmed.slice(0, i + delimiter.length);
}
