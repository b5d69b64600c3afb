import { useEffect, useRef, useState } from 'preact/hooks';
import type { ListEntry, ListPage } from '../api.js';
import { formatBytes, formatDate, plural } from '../lib/format.js';
import { breadcrumbs, browseHref, leafName, objectHref, searchHref } from '../lib/paths.js';
import { keyFor, UploadCancelled } from '../lib/upload.js';
import { filesFromDrop, filesFromInput, uploadFile, type PickedFile } from '../uploader.js';
import { ActionButton, ErrorBox, Loading, Notice, Progress, useLoad, useSession } from '../ui.js';
import { describeError } from '../lib/errors.js';
import { BucketAccess } from './access.js';

type SortKey = 'name' | 'size' | 'modified';
const PAGE = 200;

export function Breadcrumbs({ bucket, prefix, leaf }: { bucket: string; prefix: string; leaf?: string }) {
  const crumbs = breadcrumbs(prefix);
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      <ol>
        <li>
          <a href="/buckets">Buckets</a>
        </li>
        <li>
          <a href={browseHref(bucket)} aria-current={!prefix && !leaf ? 'page' : undefined}>
            {bucket}
          </a>
        </li>
        {crumbs.map((c, i) => (
          <li key={c.prefix}>
            <a href={browseHref(bucket, c.prefix)} aria-current={i === crumbs.length - 1 && !leaf ? 'page' : undefined}>
              {c.label}
            </a>
          </li>
        ))}
        {leaf && (
          <li>
            <span aria-current="page">{leaf}</span>
          </li>
        )}
      </ol>
    </nav>
  );
}

/** A bucket's folder view. Long because it is mostly markup: the table, the toolbar and its dialogs. */
export function BrowsePage({ bucket, prefix }: { bucket: string; prefix: string }) {
  const { api, config } = useSession();
  // Cursor stack: page N is fetched with cursors[N]; "previous" pops.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  useEffect(() => setCursors([undefined]), [bucket, prefix]);
  const pageIndex = cursors.length - 1;
  const { data, error, loading, reload } = useLoad<ListPage>(() => api.list(bucket, prefix, cursors[pageIndex], PAGE), [bucket, prefix, cursors]);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const grants = config.principal.grants;
  const canWrite = config.principal.kind !== 'key' || (grants ?? []).some((g) => (g.bucket === '*' || g.bucket === bucket) && g.permission !== 'read');

  const objects = [...(data?.objects ?? [])].sort((a, b) => {
    const d = sort.key === 'name' ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : sort.key === 'size' ? a.size - b.size : a.lastModified.localeCompare(b.lastModified);
    return sort.desc ? -d : d;
  });
  const folders = [...(data?.prefixes ?? [])];
  if (sort.key === 'name' && sort.desc) folders.reverse();

  const header = (key: SortKey, label: string, cls = '') => (
    <th scope="col" class={cls} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}>
        {label}
        <span aria-hidden="true">{sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );

  return (
    <section aria-labelledby="browse-title">
      <Breadcrumbs bucket={bucket} prefix={prefix} />
      <div class="title-row">
        <h1 id="browse-title">{prefix ? leafName(prefix, prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1)) : bucket}</h1>
        <a class="button" href={searchHref(bucket, prefix ? { prefix } : undefined)}>
          Search
        </a>
      </div>
      {canWrite && <Uploader bucket={bucket} prefix={prefix} onUploaded={reload} />}
      <ErrorBox error={error} />
      {loading && !data && <Loading what="Listing" />}
      {data && folders.length === 0 && objects.length === 0 && <p class="muted">This folder is empty.</p>}
      {data && (folders.length > 0 || objects.length > 0) && (
        <div class="table-wrap">
          <table class="listing" aria-describedby="sort-note">
            <thead>
              <tr>
                {header('name', 'Name')}
                {header('size', 'Size', 'num')}
                {header('modified', 'Modified', 'hide-sm')}
                <th scope="col" class="hide-sm">
                  Type
                </th>
              </tr>
            </thead>
            <tbody>
              {folders.map((p) => (
                <tr key={p} class="folder">
                  <td data-label="Name">
                    <a href={browseHref(bucket, p)}>
                      <span aria-hidden="true">📁 </span>
                      {leafName(p, prefix)}
                    </a>
                  </td>
                  <td class="num">—</td>
                  <td class="hide-sm" />
                  <td class="hide-sm">folder</td>
                </tr>
              ))}
              {objects.map((o: ListEntry) => (
                <tr key={o.key}>
                  <td data-label="Name">
                    <a href={objectHref(bucket, o.key)}>{leafName(o.key, prefix)}</a>
                  </td>
                  <td class="num" data-label="Size">
                    {formatBytes(o.size)}
                  </td>
                  <td class="hide-sm">{formatDate(o.lastModified)}</td>
                  <td class="hide-sm">{o.contentType}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p id="sort-note" class="muted small">
        Page {pageIndex + 1}: {plural(folders.length, 'folder')}, {plural(objects.length, 'object')}. Sorting orders this page; <a href={searchHref(bucket, { ...(prefix ? { prefix } : {}), sort: 'size', order: 'desc' })}>search</a> sorts the whole bucket.
      </p>
      <div class="pager">
        <button type="button" disabled={pageIndex === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous page
        </button>
        <button type="button" disabled={!data?.nextCursor} onClick={() => data?.nextCursor && setCursors((c) => [...c, data.nextCursor])}>
          Next page →
        </button>
      </div>
      {!prefix && <BucketAccess bucket={bucket} />}
    </section>
  );
}

interface Item {
  id: number;
  key: string;
  file: File;
  sent: number;
  state: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  error?: string;
  controller: AbortController;
}

let nextId = 1;
const FILES_AT_ONCE = 2;

/** The upload panel: file picking, the queue and each file's progress. Long because of its markup and per-file states. */
function Uploader({ bucket, prefix, onUploaded }: { bucket: string; prefix: string; onUploaded: () => void }) {
  const { api } = useSession();
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<unknown>();
  const [corsNote, setCorsNote] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const update = (id: number, patch: Partial<Item>) => setItems((list) => list.map((i) => (i.id === id ? { ...i, ...patch } : i)));

  const start = (item: Item) => {
    update(item.id, { state: 'uploading' });
    uploadFile(api, bucket, item.key, item.file, (sent) => update(item.id, { sent }), item.controller.signal).then(
      () => {
        update(item.id, { state: 'done', sent: item.file.size });
        onUploaded();
      },
      (e: unknown) => update(item.id, e instanceof UploadCancelled ? { state: 'cancelled' } : { state: 'failed', error: describeError(e) }),
    );
  };

  // A small scheduler: at most FILES_AT_ONCE files in flight (each runs its parts in parallel).
  useEffect(() => {
    const active = items.filter((i) => i.state === 'uploading').length;
    const queued = items.filter((i) => i.state === 'queued').slice(0, Math.max(0, FILES_AT_ONCE - active));
    queued.forEach(start);
  }, [items]);

  const add = (picked: PickedFile[]) => {
    setError(undefined);
    if (picked.length === 0) return;
    setItems((list) => [...list, ...picked.map((p) => ({ id: nextId++, key: keyFor(prefix, p.path), file: p.file, sent: 0, state: 'queued' as const, controller: new AbortController() }))]);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer) filesFromDrop(e.dataTransfer).then(add, setError);
  };

  const active = items.filter((i) => i.state === 'queued' || i.state === 'uploading');
  return (
    <div
      class={`uploader${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="dropzone"
    >
      <p class="drop-hint">
        <strong>Drop files or folders here</strong> to upload them to <code>{bucket}/{prefix}</code>, or
      </p>
      <div class="buttons">
        <button type="button" onClick={() => fileInput.current?.click()}>
          Choose files…
        </button>
        <button type="button" onClick={() => folderInput.current?.click()}>
          Choose a folder…
        </button>
        <ActionButton
          class="link"
          onClick={async () => {
            await api.allowConsole(bucket);
            setCorsNote('This page may now upload to and download from the bucket.');
          }}
          onError={setError}
          label="Allow uploads from this page (adds a CORS rule for this page's address to the bucket)"
        >
          Allow uploads from this page
        </ActionButton>
      </div>
      <input ref={fileInput} type="file" multiple hidden data-testid="file-input" onChange={(e) => { add(filesFromInput(e.currentTarget.files!)); e.currentTarget.value = ''; }} />
      <input
        ref={folderInput}
        type="file"
        multiple
        hidden
        {...({ webkitdirectory: '' } as Record<string, string>)}
        onChange={(e) => {
          add(filesFromInput(e.currentTarget.files!));
          e.currentTarget.value = '';
        }}
      />
      {corsNote && <Notice kind="ok">{corsNote}</Notice>}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      {items.length > 0 && (
        <ul class="uploads" aria-label="Uploads" aria-live="polite">
          {items.map((i) => (
            <li key={i.id} class={`upload ${i.state}`} data-key={i.key}>
              <div class="upload-head">
                <span class="name" title={i.key}>
                  {i.key}
                </span>
                <span class="muted small">
                  {i.state === 'uploading' || i.state === 'queued'
                    ? `${formatBytes(i.sent)} of ${formatBytes(i.file.size)}${i.state === 'queued' ? ' (waiting)' : ''}`
                    : i.state === 'done'
                      ? `done, ${formatBytes(i.file.size)}`
                      : i.state === 'cancelled'
                        ? 'cancelled'
                        : 'failed'}
                </span>
                {(i.state === 'uploading' || i.state === 'queued') && (
                  <button type="button" class="link danger" aria-label={`Cancel the upload of ${i.key}`} onClick={() => (i.state === 'queued' ? update(i.id, { state: 'cancelled' }) : i.controller.abort())}>
                    Cancel
                  </button>
                )}
              </div>
              <Progress value={i.sent} max={i.file.size || 1} label={`Upload of ${i.key}`} />
              {i.error && (
                <p class="error small" role="alert">
                  {i.error}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      {items.length > 0 && active.length === 0 && (
        <button type="button" class="link" onClick={() => setItems([])}>
          Clear the finished uploads
        </button>
      )}
    </div>
  );
}
