import type { Api, ObjectRecord } from '../api.js';
import { formatBytes, formatDate, lockText, versionNote } from '../lib/format.js';
import { objectHref } from '../lib/paths.js';
import { ActionButton } from '../ui.js';

/** A download of one version of an object, named after its leaf (a browser download, not a page). */
export async function downloadVersion(api: Api, bucket: string, key: string, leaf: string, versionId?: string): Promise<void> {
  const query: Record<string, string> = { 'response-content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(leaf)}` };
  if (versionId !== undefined) query.versionId = versionId;
  const url = await api.presign(bucket, key, 'GET', query, 300);
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noreferrer';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/**
 * The key's versions, newest first: each one's page, its download, and "Restore" (CopyObject of
 * it onto the key: a new current version with its bytes; the versions in between stay).
 */
export function VersionList(props: { api: Api; record: ObjectRecord; leaf: string; canWrite: boolean; onRestored: () => void; onError: (e: unknown) => void }) {
  const { api, record: o, leaf } = props;
  return (
    <>
      <h2>Versions</h2>
      <p class="muted small">
        {o.versions.length}
        {o.versionsTruncated ? '+' : ''} versions and delete markers, newest first. Restore copies a version over the current one as a new version.
      </p>
      <div class="table-wrap">
        <table class="versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Modified</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Lock</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {o.versions.map((v) => (
              <tr key={v.versionId} data-version-id={v.versionId} class={v.versionId === o.versionId ? 'selected' : undefined}>
                <td data-label="Version">
                  <a href={objectHref(o.bucket, o.key, v.versionId)} aria-current={v.versionId === o.versionId ? 'page' : undefined}>
                    <code>{v.versionId}</code>
                  </a>{' '}
                  <span class="muted small">{[versionNote(v), v.encryption.mode === 'none' ? '' : v.encryption.mode].filter(Boolean).join(', ')}</span>
                </td>
                <td data-label="Modified">{formatDate(v.lastModified)}</td>
                <td class="num" data-label="Size">
                  {v.deleteMarker ? '–' : formatBytes(v.size)}
                </td>
                <td data-label="Lock">{lockText(v.lock) || <span class="muted">none</span>}</td>
                <td data-label="Actions">
                  {/* An SSE-C version needs its client's key to be read or copied: the console has none. */}
                  {!v.deleteMarker && v.encryption.mode !== 'SSE-C' && (
                    <span class="buttons inline">
                      <ActionButton label={`Download version ${v.versionId}`} onClick={() => downloadVersion(api, o.bucket, o.key, leaf, v.versionId)} onError={props.onError}>
                        Download
                      </ActionButton>
                      {props.canWrite && !v.isLatest && (
                        <ActionButton
                          label={`Restore version ${v.versionId}`}
                          confirm={`Restore version ${v.versionId} of ${o.key}? It is copied over the current one as a new version.`}
                          onClick={async () => {
                            await api.restoreVersion(o.bucket, o.key, v.versionId);
                            props.onRestored();
                          }}
                          onError={props.onError}
                        >
                          Restore
                        </ActionButton>
                      )}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
