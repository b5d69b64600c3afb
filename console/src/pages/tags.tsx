import { useEffect, useState } from 'preact/hooks';
import { ActionButton, useSession } from '../ui.js';

// An object version's tags on its page: shown as key = value, and, for a key that may write,
// edited as one key=value per line and saved through the admin API (PUT ?tags), which applies
// S3's limits (10 tags, key 128 and value 256 characters, no aws: prefix): a refusal shows S3's reason.

type Tag = { key: string; value: string };

/** One key=value per line; the first '=' splits (values may hold '='); blank lines are skipped. */
export function parseTagLines(text: string): Tag[] {
  const out: Tag[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`"${line.trim()}" is not key=value`);
    out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return out;
}

export function ObjectTags(props: { bucket: string; objectKey: string; versionId: string; tags: Tag[]; canWrite: boolean; onSaved: () => void; onError: (e: unknown) => void }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  useEffect(() => setEditing(false), [props.bucket, props.objectKey, props.versionId]);
  return (
    <section aria-labelledby="tags-title">
      <h2 id="tags-title">Tags</h2>
      {!editing && (
        <>
          {props.tags.length === 0 ? (
            <p class="muted" data-testid="tags">No tags.</p>
          ) : (
            <ul class="meta" data-testid="tags">
              {props.tags.map((t) => (
                <li key={t.key}>
                  <code>{t.key}</code> = {t.value}
                </li>
              ))}
            </ul>
          )}
          {props.canWrite && (
            <button
              type="button"
              onClick={() => {
                setText(props.tags.map((t) => `${t.key}=${t.value}`).join('\n'));
                setEditing(true);
              }}
            >
              Edit tags
            </button>
          )}
        </>
      )}
      {editing && (
        <form onSubmit={(e) => e.preventDefault()}>
          <label for="tag-lines">One key=value per line (at most 10)</label>
          <textarea id="tag-lines" name="tags" rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="buttons">
            <ActionButton
              class="primary"
              onClick={async () => {
                await api.putObjectTags(props.bucket, props.objectKey, props.versionId, parseTagLines(text));
                setEditing(false);
                props.onSaved();
              }}
              onError={props.onError}
            >
              Save tags
            </ActionButton>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
