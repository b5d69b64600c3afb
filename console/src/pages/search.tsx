import { useEffect, useState } from 'preact/hooks';
import type { ObjectSummary } from '../api.js';
import { formatBytes, formatDate, lockText, versionNote } from '../lib/format.js';
import { objectHref, searchHref } from '../lib/paths.js';
import { SEARCH_PAGE_FIELDS, formFromQuery, queryFromForm, searchParams, type SearchForm } from '../lib/search.js';
import { navigate } from '../router.js';
import { ErrorBox, Loading, useLoad, useSession } from '../ui.js';
import { Breadcrumbs } from './browse.js';

const PAGE = 100;

/**
 * Search with the /v1/objects filters; the form lives in the URL (shareable, back button works).
 * Long because it is mostly markup: the form (built from src/db/records/filters.ts) and the table.
 */
export function SearchPage({ bucket, query }: { bucket: string; query: URLSearchParams }) {
  const { api } = useSession();
  const applied = formFromQuery(query);
  const [form, setForm] = useState<SearchForm>(applied);
  const qs = query.toString();
  useEffect(() => setForm(formFromQuery(query)), [qs]);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  useEffect(() => setCursors([undefined]), [bucket, qs]);
  const pageIndex = cursors.length - 1;
  const { data, error, loading } = useLoad(() => api.find(searchParams(bucket, applied, PAGE, cursors[pageIndex])), [bucket, qs, cursors]);

  // The filter fields and their labels come from src/db/records/filters.ts (via lib/search.ts).
  const field = (name: keyof SearchForm, label: string, extra: Readonly<Record<string, string>> = {}) => (
    <label key={name}>
      {label}
      <input name={name} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} {...extra} />
    </label>
  );
  // A switch is 'true' or '' in the form and the URL.
  const check = (name: keyof SearchForm, label: string) => (
    <label key={name} class="check">
      <input type="checkbox" name={name} checked={form[name] === 'true'} onChange={(e) => setForm({ ...form, [name]: e.currentTarget.checked ? 'true' : '' })} /> {label}
    </label>
  );
  const versions = applied.versions === 'true';

  return (
    <section aria-labelledby="search-title">
      <Breadcrumbs bucket={bucket} prefix="" leaf="search" />
      <h1 id="search-title">Search {bucket}</h1>
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(searchHref(bucket, queryFromForm(form)));
        }}
      >
        {SEARCH_PAGE_FIELDS.map((f) => (f.def.kind === 'value' && f.def.input === 'switch' ? check(f.field, f.form.label) : field(f.field, f.form.label, f.form.attrs)))}
        <label>
          Sort by
          <select name="sort" value={form.sort} onChange={(e) => setForm({ ...form, sort: e.currentTarget.value as SearchForm['sort'] })}>
            <option value="key">name</option>
            <option value="size">size</option>
            <option value="modified">modified</option>
          </select>
        </label>
        <label>
          Order
          <select name="order" value={form.order} onChange={(e) => setForm({ ...form, order: e.currentTarget.value as SearchForm['order'] })}>
            <option value="asc">ascending</option>
            <option value="desc">descending</option>
          </select>
        </label>
        <div class="buttons">
          <button type="submit" class="primary">
            Search
          </button>
          <button type="button" onClick={() => navigate(searchHref(bucket))}>
            Clear
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {loading && !data && <Loading what="Searching" />}
      {data && data.objects.length === 0 && <p class="muted">No object matches.</p>}
      {data && data.objects.length > 0 && (
        <div class="table-wrap">
          <table class="results">
            <thead>
              <tr>
                <th scope="col">Key</th>
                {versions && <th scope="col">Version</th>}
                <th scope="col" class="num">Size</th>
                <th scope="col" class="hide-sm">Modified</th>
                <th scope="col" class="hide-sm">Type</th>
                <th scope="col" class="hide-sm">Lock</th>
                <th scope="col" class="hide-sm">Encryption</th>
              </tr>
            </thead>
            <tbody>
              {data.objects.map((o: ObjectSummary) => (
                <tr key={`${o.key}@${o.versionId}`}>
                  <td data-label="Key">
                    <a href={objectHref(bucket, o.key, versions ? o.versionId : undefined)}>{o.key}</a>
                  </td>
                  {versions && (
                    <td data-label="Version">
                      <code>{o.versionId}</code> <span class="muted small">{versionNote(o)}</span>
                    </td>
                  )}
                  <td class="num" data-label="Size">
                    {o.deleteMarker ? '–' : formatBytes(o.size)}
                  </td>
                  <td class="hide-sm">{formatDate(o.lastModified)}</td>
                  <td class="hide-sm">{o.deleteMarker ? '' : o.contentType}</td>
                  <td class="hide-sm">{lockText(o.lock)}</td>
                  <td class="hide-sm">{o.encryption.mode === 'none' ? '' : o.encryption.mode}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        <button type="button" disabled={pageIndex === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous page
        </button>
        <span class="muted small">Page {pageIndex + 1}</span>
        <button type="button" disabled={!data?.nextCursor} onClick={() => data?.nextCursor && setCursors((c) => [...c, data.nextCursor])}>
          Next page →
        </button>
      </div>
    </section>
  );
}
