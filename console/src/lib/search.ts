// The search form <-> /v1/objects filter parameters (docs/admin-contract.md).

export interface SearchForm {
  prefix: string;
  contains: string;
  minSize: string;
  maxSize: string;
  modifiedAfter: string;
  modifiedBefore: string;
  contentType: string;
  /** 'name=value' pairs, one per line or separated by ';'. */
  metadata: string;
  sort: 'key' | 'size' | 'modified';
  order: 'asc' | 'desc';
}

export const EMPTY_SEARCH: SearchForm = {
  prefix: '',
  contains: '',
  minSize: '',
  maxSize: '',
  modifiedAfter: '',
  modifiedBefore: '',
  contentType: '',
  metadata: '',
  sort: 'key',
  order: 'asc',
};

const FIELDS = ['prefix', 'contains', 'minSize', 'maxSize', 'modifiedAfter', 'modifiedBefore', 'contentType'] as const;

export class SearchFormError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Form -> query parameters for GET /v1/objects (empty fields left out, sizes passed as typed: the API reads units). */
export function searchParams(bucket: string, f: SearchForm, limit = 100, cursor?: string): Record<string, string> {
  const out: Record<string, string> = { bucket };
  for (const name of FIELDS) {
    const v = f[name].trim();
    if (v) out[name] = name === 'minSize' || name === 'maxSize' ? v.replace(/\s+/g, '') : v;
  }
  for (const pair of f.metadata.split(/[;\n]/)) {
    const t = pair.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new SearchFormError('metadata', `metadata filters are name=value pairs; "${t}" has no name=`);
    out[`meta.${t.slice(0, eq).trim().toLowerCase()}`] = t.slice(eq + 1).trim();
  }
  if (f.sort !== 'key') out.sort = f.sort;
  if (f.order !== 'asc') out.order = f.order;
  out.limit = String(limit);
  if (cursor) out.cursor = cursor;
  return out;
}

/** The page URL's query (shareable search) <-> the form. */
export function formFromQuery(q: URLSearchParams): SearchForm {
  const f: SearchForm = { ...EMPTY_SEARCH };
  for (const name of FIELDS) f[name] = q.get(name) ?? '';
  f.metadata = q.get('metadata') ?? '';
  const sort = q.get('sort');
  if (sort === 'size' || sort === 'modified') f.sort = sort;
  if (q.get('order') === 'desc') f.order = 'desc';
  return f;
}

export function queryFromForm(f: SearchForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v && !(k === 'sort' && v === 'key') && !(k === 'order' && v === 'asc')) out[k] = v;
  return out;
}

/** Whether anything is filtered (a search with no filter is just the flat listing). */
export function hasFilter(f: SearchForm): boolean {
  return FIELDS.some((n) => f[n].trim() !== '') || f.metadata.trim() !== '';
}
