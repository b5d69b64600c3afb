import { useEffect, useRef, useState } from 'preact/hooks';
import { chunkSharing, formatBytes, formatDate, lockText, versionNote } from '../lib/format.js';
import { browseHref, objectHref, parentPrefix } from '../lib/paths.js';
import { navigate } from '../router.js';
import { ActionButton, copyText, ErrorBox, Loading, Notice, useLoad, useSession } from '../ui.js';
import { Breadcrumbs } from './browse.js';
import { downloadVersion, VersionList } from './versions.js';
import { ObjectAccess, ownerText } from './access.js';
import { ObjectTags } from './tags.js';
import { encryptionWords } from '../../../src/db/records/encryption.js';

const EXPIRIES: Array<[number, string]> = [
  [900, '15 minutes'],
  [3600, '1 hour'],
  [86400, '1 day'],
  [604800, '7 days'],
];

/**
 * One object (its current version, or the version `versionId`): its record, lock, chunk list,
 * download and share links, and the key's versions. Long because it is mostly markup.
 */
export function ObjectPage({ bucket, objectKey, versionId }: { bucket: string; objectKey: string; versionId?: string }) {
  const { api, config } = useSession();
  const { data: o, error, loading, reload } = useLoad(() => api.object(bucket, objectKey, versionId), [bucket, objectKey, versionId]);
  const [restored, setRestored] = useState(false);
  useEffect(() => setRestored(false), [bucket, objectKey]);
  const [expires, setExpires] = useState(3600);
  const [link, setLink] = useState<string>();
  const [copied, setCopied] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const linkInput = useRef<HTMLInputElement>(null);
  const parent = parentPrefix(objectKey);
  const leaf = objectKey.slice(parent.length);
  const grants = config.principal.grants;
  const canWrite = config.principal.kind !== 'key' || (grants ?? []).some((g) => (g.bucket === '*' || g.bucket === bucket) && g.permission !== 'read');

  // A page of one version downloads and shares that version.
  const download = () => downloadVersion(api, bucket, objectKey, leaf, versionId);
  const onRestored = () => {
    setRestored(true);
    if (versionId === undefined) reload();
    else navigate(objectHref(bucket, objectKey));
  };

  return (
    <section aria-labelledby="object-title">
      <Breadcrumbs bucket={bucket} prefix={parent} leaf={leaf} />
      <h1 id="object-title" class="break">
        {leaf}
      </h1>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} onDismiss={() => setActionError(undefined)} />
      {loading && !o && <Loading />}
      {restored && <Notice kind="ok">Version restored: it is the current version now.</Notice>}
      {o && versionId !== undefined && !o.isLatest && (
        <Notice kind="warn">
          An older version of this object. <a href={objectHref(bucket, objectKey)}>The current version</a>
        </Notice>
      )}
      {o && (
        <>
          <div class="buttons">
            {!o.deleteMarker && (
              <ActionButton class="primary" onClick={download} onError={setActionError}>
                Download
              </ActionButton>
            )}
            {canWrite && o.isLatest && !o.deleteMarker && (
              <ActionButton
                class="danger"
                confirm={`Delete ${objectKey}? ${o.versions.length > 1 || o.versionId !== 'null' ? 'A delete marker hides it; its versions stay.' : 'This cannot be undone.'}`}
                onClick={async () => {
                  await api.s3(bucket, objectKey, 'DELETE');
                  navigate(browseHref(bucket, parent), true);
                }}
                onError={setActionError}
              >
                Delete
              </ActionButton>
            )}
          </div>
          <dl class="props">
            <dt>Size</dt>
            <dd>
              {formatBytes(o.size)} <span class="muted">({o.size.toLocaleString('en-US')} bytes)</span>
            </dd>
            <dt>ETag</dt>
            <dd>
              <code>{o.etag}</code>
            </dd>
            <dt>Content type</dt>
            <dd>{o.contentType}</dd>
            <dt>Last modified</dt>
            <dd>{formatDate(o.lastModified)}</dd>
            <dt>Version</dt>
            <dd>
              <code>{o.versionId}</code> <span class="muted">{versionNote(o)}</span>
            </dd>
            <dt>Owner</dt>
            <dd data-testid="object-owner">
              {ownerText(o.owner)} <code class="muted small">{o.owner.id}</code>
            </dd>
            <dt>Lock</dt>
            <dd data-testid="lock-state">{lockText(o.lock) || <span class="muted">none</span>}</dd>
            <dt>Encryption</dt>
            <dd data-testid="encryption">{o.encryption.mode === 'none' ? <span class="muted">none</span> : encryptionWords(o.encryption)}</dd>
            <dt>Storage class</dt>
            <dd>{o.storageClass}</dd>
            <dt>Checksum</dt>
            <dd>{o.checksumAlgorithm ? <code>{`${o.checksumAlgorithm} ${o.checksumValue ?? ''}${o.checksumType ? ` (${o.checksumType})` : ''}`}</code> : <span class="muted">none stored</span>}</dd>
            {o.partCount !== null && (
              <>
                <dt>Multipart</dt>
                <dd>{o.partCount} parts</dd>
              </>
            )}
            {(
              [
                ['Content encoding', o.contentEncoding],
                ['Content disposition', o.contentDisposition],
                ['Content language', o.contentLanguage],
                ['Cache control', o.cacheControl],
                ['Expires', o.expires],
              ] as const
            )
              .filter(([, v]) => v)
              .map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </>
              ))}
            <dt>User metadata</dt>
            <dd>
              {Object.keys(o.metadata).length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="meta">
                  {Object.entries(o.metadata).map(([k, v]) => (
                    <li key={k}>
                      <code>{k}</code>: {v}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>

          {o.deleteMarker ? (
            <Notice kind="info">A delete marker: no data. While it is the newest version the key has no current object; restore an older version below.</Notice>
          ) : o.encryption.mode === 'SSE-C' ? (
            // A presigned link cannot carry the client's key headers: S3 refuses such a GET without them.
            <Notice kind="info">Encrypted with the client's own key (SSE-C): only a request that brings that key can read it, so the console offers no link or download.</Notice>
          ) : (
            <>
              <h2>Share a link</h2>
              <div class="presign">
                <label class="inline">
                  Valid for{' '}
                  <select value={expires} onChange={(e) => setExpires(Number(e.currentTarget.value))} name="expires">
                    {EXPIRIES.map(([s, label]) => (
                      <option value={s} key={s}>
                        {label}
                      </option>
                    ))}
                  </select>
                </label>
                <ActionButton
                  onClick={async () => {
                    setCopied(false);
                    setLink(await api.presign(bucket, objectKey, 'GET', versionId === undefined ? {} : { versionId }, expires));
                  }}
                  onError={setActionError}
                >
                  Create link
                </ActionButton>
              </div>
              {link && (
                <div class="link-row">
                  <label class="sr-only" for="presigned">
                    Presigned link
                  </label>
                  <input id="presigned" ref={linkInput} readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
                  <ActionButton
                    onClick={async () => {
                      await copyText(link, linkInput.current);
                      setCopied(true);
                    }}
                    onError={setActionError}
                  >
                    Copy
                  </ActionButton>
                </div>
              )}
              {copied && <Notice kind="ok">Link copied.</Notice>}
            </>
          )}

          {!o.deleteMarker && <ObjectTags bucket={bucket} objectKey={objectKey} versionId={o.versionId} tags={o.tags} canWrite={canWrite} onSaved={reload} onError={setActionError} />}

          {!o.deleteMarker && <ObjectAccess bucket={bucket} objectKey={objectKey} versionId={o.versionId} />}

          <h2>Chunks</h2>
          <p class="muted small">
            {o.chunks.length} chunks. A shared chunk is stored once and also used by another object, copy or upload: dedup.
          </p>
          <div class="table-wrap">
            <table class="chunks">
              <thead>
                <tr>
                  <th scope="col" class="num">Seq</th>
                  <th scope="col" class="num">Offset</th>
                  <th scope="col" class="num">Size</th>
                  <th scope="col">SHA-256</th>
                  <th scope="col">Shared</th>
                </tr>
              </thead>
              <tbody>
                {o.chunks.map((c) => (
                  <tr key={c.seq} data-sha256={c.sha256}>
                    <td class="num" data-label="Seq">{c.seq}</td>
                    <td class="num" data-label="Offset">{c.offset.toLocaleString('en-US')}</td>
                    <td class="num" data-label="Size">{c.size.toLocaleString('en-US')}</td>
                    <td data-label="SHA-256">
                      <code class="hash" title={c.sha256}>
                        {c.sha256.slice(0, 16)}…
                      </code>
                    </td>
                    <td data-label="Shared">{chunkSharing(c, o.chunks)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <VersionList api={api} record={o} leaf={leaf} canWrite={canWrite} onRestored={onRestored} onError={setActionError} />
        </>
      )}
    </section>
  );
}

