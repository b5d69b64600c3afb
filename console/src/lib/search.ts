import { FILTER_LIST, FILTERS, SEARCH_PAGE_ORDER, SORT_FIELDS, SORT_ORDERS, type FormFilterName, type SortField, type SortOrder } from '../../../src/db/records/filters.js';

// The search form <-> /v1/objects filter parameters (docs/admin-contract.md). Its fields are the
// filters with a `form` in src/db/records/filters.ts, the definitions the API and the CLI use too
// (a plain module: no zod, drizzle or node code comes into the bundle with it).

type Filters = typeof FILTERS;
/** A filter's name in the form and the page URL: its own unless its form names one (meta -> metadata). */
type FieldName<K extends FormFilterName> = K extends unknown ? (Filters[K] extends { form: { name: infer N extends string } } ? N : K) : never;
type Field = FieldName<FormFilterName>;

/** One string per field as typed (pairs filters: 'name=value' pairs, one per line or separated by ';'). */
export type SearchForm = { [K in FormFilterName as FieldName<K>]: string } & { sort: SortField; order: SortOrder };

/** The form's filters in definition order (the order of the URL's parameters). */
export const SEARCH_FIELDS = FILTER_LIST.flatMap(({ name, def }) => (def.form ? [{ name, def, form: def.form, field: (def.form.name ?? name) as Field }] : []));

/** The same, top to bottom as the page lays them out. */
export const SEARCH_PAGE_FIELDS = SEARCH_PAGE_ORDER.map((name) => SEARCH_FIELDS.find((f) => f.name === name)!);

export const EMPTY_SEARCH: SearchForm = {
  ...(Object.fromEntries(SEARCH_FIELDS.map((f) => [f.field, ''])) as Record<Field, string>),
  sort: 'key',
  order: 'asc',
};

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
  for (const { name, def, field } of SEARCH_FIELDS) {
    if (def.kind === 'pairs') {
      for (const pair of f[field].split(/[;\n]/)) {
        const t = pair.trim();
        if (!t) continue;
        const eq = t.indexOf('=');
        if (eq <= 0) throw new SearchFormError(field, `${field} filters are name=value pairs; "${t}" has no name=`);
        const pairName = t.slice(0, eq).trim();
        out[`${name}.${def.names.keepCase ? pairName : pairName.toLowerCase()}`] = t.slice(eq + 1).trim();
      }
      continue;
    }
    const v = f[field].trim();
    if (v) out[name] = def.input === 'size' ? v.replace(/\s+/g, '') : v;
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
  for (const { field } of SEARCH_FIELDS) f[field] = q.get(field) ?? '';
  const sort = q.get('sort');
  if ((SORT_FIELDS as readonly string[]).includes(sort!)) f.sort = sort as SortField;
  const order = q.get('order');
  if ((SORT_ORDERS as readonly string[]).includes(order!)) f.order = order as SortOrder;
  return f;
}

export function queryFromForm(f: SearchForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v && !(k === 'sort' && v === 'key') && !(k === 'order' && v === 'asc')) out[k] = v;
  return out;
}

/** Whether anything is filtered (a search with no filter is just the flat listing). */
export function hasFilter(f: SearchForm): boolean {
  return SEARCH_FIELDS.some(({ field }) => f[field].trim() !== '');
}
