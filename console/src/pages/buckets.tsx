import { useState } from 'preact/hooks';
import type { BucketSummary } from '../api.js';
import { formatBytes, formatDate, plural, savedPercent } from '../lib/format.js';
import { browseHref } from '../lib/paths.js';
import { navigate } from '../router.js';
import { ActionButton, ErrorBox, Loading, Notice, useLoad, useSession } from '../ui.js';
import { ApiError } from '../lib/errors.js';
import { ownerText } from './access.js';

const NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The bucket list with create, delete and public switches. Long because it is mostly markup. */
export function BucketsPage() {
  const { api, config } = useSession();
  const { data, error, loading, reload } = useLoad(() => api.buckets(), []);
  const [actionError, setActionError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [name, setName] = useState('');
  const [isPublic, setIsPublic] = useState(false);
  const [owner, setOwner] = useState('');
  // Who may own a new bucket: the admin picks any account; a key creates for its own.
  const accounts = useLoad(() => (config.can.admin ? api.accounts() : Promise.resolve([])), []);
  const [sort, setSort] = useState<'name' | 'objects' | 'logical' | 'physical'>('name');

  const create = async () => {
    setActionError(undefined);
    setNotice(undefined);
    const n = name.trim();
    if (!NAME.test(n)) {
      setActionError(new Error(`"${n}" is not a valid bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit`));
      return;
    }
    await api.createBucket(n, isPublic, owner || undefined);
    // Let this page's origin upload and download over S3 (browsers need a CORS rule for that).
    let warning: string | undefined;
    try {
      await api.allowConsole(n);
    } catch (e) {
      warning = `Bucket ${n} was created, but uploads from this page may fail: ${e instanceof ApiError && e.code === 'NotImplemented' ? 'this server has no bucket CORS support' : (e as Error).message}.`;
    }
    setName('');
    setNotice(warning ?? `Bucket ${n} created.`);
    reload();
  };

  const rows = [...(data ?? [])].sort((a, b) =>
    sort === 'name' ? a.name.localeCompare(b.name) : sort === 'objects' ? b.objects - a.objects : sort === 'logical' ? b.logicalBytes - a.logicalBytes : b.physicalBytes - a.physicalBytes,
  );

  return (
    <section aria-labelledby="buckets-title">
      <div class="title-row">
        <h1 id="buckets-title">Buckets</h1>
        <label class="inline">
          Sort by{' '}
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as typeof sort)}>
            <option value="name">name</option>
            <option value="objects">objects</option>
            <option value="logical">logical size</option>
            <option value="physical">physical size</option>
          </select>
        </label>
      </div>
      {config.can.manageBuckets && (
        <form
          class="create-bucket"
          onSubmit={(e) => {
            e.preventDefault();
            create().catch(setActionError);
          }}
        >
          <label>
            New bucket
            <input name="bucket" placeholder="photos" value={name} onInput={(e) => setName(e.currentTarget.value.toLowerCase())} required autocomplete="off" />
          </label>
          {(accounts.data ?? []).length > 1 && (
            <label>
              Owner
              <select name="owner" value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
                {accounts.data!.map((a) => (
                  <option key={a.id} value={a.root ? '' : a.name}>
                    {a.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <label class="check">
            <input type="checkbox" checked={isPublic} onChange={(e) => setIsPublic(e.currentTarget.checked)} /> public (anyone may read)
          </label>
          <button type="submit" class="primary">
            Create bucket
          </button>
        </form>
      )}
      {notice && <Notice kind="ok">{notice}</Notice>}
      <ErrorBox error={actionError} onDismiss={() => setActionError(undefined)} />
      <ErrorBox error={error} />
      {loading && !data && <Loading />}
      {data && data.length === 0 && <p class="muted">No buckets yet{config.can.manageBuckets ? ': create one above.' : ' that this key may read.'}</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="buckets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col" class="num">Objects</th>
                <th scope="col" class="num">Logical</th>
                <th scope="col" class="num">Physical</th>
                <th scope="col" class="hide-sm">Created</th>
                <th scope="col">Access</th>
                <th scope="col" class="hide-sm">Default encryption</th>
                {config.can.manageBuckets && <th scope="col"><span class="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((b) => (
                <BucketRow key={b.name} b={b} onChanged={reload} onError={setActionError} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function BucketRow({ b, onChanged, onError }: { b: BucketSummary; onChanged: () => void; onError: (e: unknown) => void }) {
  const { api, config } = useSession();
  // S3's DeleteBucket refuses a bucket that still holds older versions or delete markers too.
  const held = b.versions + b.deleteMarkers;
  const older = b.versions - b.objects;
  return (
    <tr>
      <td data-label="Name">
        <a href={browseHref(b.name)}>{b.name}</a>
      </td>
      <td data-label="Owner">{ownerText(b.owner)}</td>
      <td class="num" data-label="Objects">
        {b.objects.toLocaleString('en-US')}
        {(older > 0 || b.deleteMarkers > 0) && (
          <span class="muted small" title={`every version: ${formatBytes(b.versionBytes)}`}>
            {' '}
            (+{plural(older, 'older version')}, {plural(b.deleteMarkers, 'delete marker')})
          </span>
        )}
      </td>
      <td class="num" data-label="Logical">{formatBytes(b.logicalBytes)}</td>
      <td class="num" data-label="Physical" title={`dedup saves ${savedPercent(b.versionBytes, b.physicalBytes)}`}>
        {formatBytes(b.physicalBytes)}
      </td>
      <td class="hide-sm">{formatDate(b.createdAt)}</td>
      <td data-label="Access">{b.public ? <span class="tag warn">public</span> : <span class="tag">private</span>}</td>
      <td class="hide-sm" data-label="Default encryption">{b.defaultEncryption === 'none' ? <span class="muted">none</span> : <span class="tag">{b.defaultEncryption}</span>}</td>
      {config.can.manageBuckets && (
        <td class="actions">
          <ActionButton
            label={b.public ? `Make ${b.name} private` : `Make ${b.name} public`}
            confirm={b.public ? undefined : `Make ${b.name} public? Anyone who can reach the S3 port may then list and download its objects.`}
            onClick={async () => {
              await api.setPublic(b.name, !b.public);
              onChanged();
            }}
            onError={onError}
          >
            {b.public ? 'Make private' : 'Make public'}
          </ActionButton>
          <ActionButton
            class="danger"
            label={`Delete bucket ${b.name}`}
            disabled={held > 0}
            confirm={`Delete the empty bucket ${b.name}?`}
            onClick={async () => {
              await api.deleteBucket(b.name);
              onChanged();
            }}
            onError={onError}
          >
            Delete
          </ActionButton>
          {held > 0 && <span class="sr-only">(only an empty bucket can be deleted: it holds {plural(b.versions, 'version')} and {plural(b.deleteMarkers, 'delete marker')})</span>}
        </td>
      )}
    </tr>
  );
}

export function goToBucket(name: string): void {
  navigate(browseHref(name));
}
