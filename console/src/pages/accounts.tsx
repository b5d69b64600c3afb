import { useRef, useState } from 'preact/hooks';
import type { AccessKeyInfo, AccountInfo } from '../api.js';
import { formatDate, plural } from '../lib/format.js';
import { grantsText, parseGrants } from '../lib/grants.js';
import { ActionButton, copyText, ErrorBox, Loading, Notice, useLoad, useSession } from '../ui.js';

// Accounts and their access keys: who owns buckets, and the keys that act for them. Only the admin
// token and the root key pair manage them (the admin API refuses everyone else).

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface NewSecret {
  id: string;
  secret: string;
  account: string;
  imported: boolean;
}

/** The accounts with their keys, and the forms that make them. Long because it is mostly markup. */
export function AccountsPage() {
  const { api, config } = useSession();
  const { data, error, loading, reload } = useLoad(() => (config.can.admin ? Promise.all([api.accounts(), api.keys()]) : Promise.resolve(undefined)), []);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [actionError, setActionError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [secret, setSecret] = useState<NewSecret>();

  if (!config.can.admin) {
    return (
      <section aria-labelledby="accounts-title">
        <h1 id="accounts-title">Accounts and keys</h1>
        <p class="muted">Only the admin token or the root key pair manage accounts and access keys.</p>
      </section>
    );
  }

  const create = async () => {
    setActionError(undefined);
    setNotice(undefined);
    const n = name.trim();
    if (!ACCOUNT_NAME.test(n)) throw new Error(`"${n}" is not a valid account name: 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
    await api.createAccount(n, email.trim() || undefined);
    setName('');
    setEmail('');
    setNotice(`Account ${n} created.`);
    reload();
  };

  const [accounts, keys] = data ?? [[], []];
  return (
    <section aria-labelledby="accounts-title">
      <h1 id="accounts-title">Accounts and keys</h1>
      <p class="muted small">An account owns buckets and the objects it writes; each access key acts for one account, limited by its grants.</p>
      <form
        class="create-bucket"
        aria-label="Create an account"
        onSubmit={(e) => {
          e.preventDefault();
          create().catch(setActionError);
        }}
      >
        <label>
          New account
          <input name="account" placeholder="alice" value={name} onInput={(e) => setName(e.currentTarget.value)} required autocomplete="off" />
        </label>
        <label>
          Email (optional)
          <input name="email" type="email" placeholder="alice@example.com" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" />
        </label>
        <button type="submit" class="primary">
          Create account
        </button>
      </form>
      {notice && <Notice kind="ok">{notice}</Notice>}
      {secret && <SecretNotice secret={secret} onDismiss={() => setSecret(undefined)} onError={setActionError} />}
      <ErrorBox error={actionError} onDismiss={() => setActionError(undefined)} />
      <ErrorBox error={error} />
      {loading && !data && <Loading />}
      {accounts.map((a) => (
        <AccountCard
          key={a.id}
          account={a}
          keys={keys.filter((k) => k.accountId === a.id)}
          onChanged={reload}
          onSecret={(s) => {
            setSecret(s);
            setNotice(undefined);
          }}
          onError={setActionError}
        />
      ))}
    </section>
  );
}

/** A new key's secret, shown once. */
function SecretNotice({ secret, onDismiss, onError }: { secret: NewSecret; onDismiss: () => void; onError: (e: unknown) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class="notice ok" role="status" data-testid="new-key">
      <p>
        {secret.imported ? 'Imported' : 'Created'} access key <code>{secret.id}</code> for {secret.account}.{' '}
        {secret.imported ? 'Its secret is the one you gave.' : 'Its secret is shown only now: keep it.'}
      </p>
      {!secret.imported && (
        <div class="link-row">
          <label class="sr-only" for="new-secret">
            Secret access key
          </label>
          <input id="new-secret" ref={input} readOnly value={secret.secret} onFocus={(e) => e.currentTarget.select()} />
          <ActionButton onClick={() => copyText(secret.secret, input.current)} onError={onError}>
            Copy
          </ActionButton>
        </div>
      )}
      <button type="button" class="link" onClick={onDismiss}>
        Done
      </button>
    </div>
  );
}

/** One account: its facts, its keys (revoke), a form for a new key, and delete. Long because it is markup. */
function AccountCard(props: { account: AccountInfo; keys: AccessKeyInfo[]; onChanged: () => void; onSecret: (s: NewSecret) => void; onError: (e: unknown) => void }) {
  const { api } = useSession();
  const a = props.account;
  const why = a.root ? 'the root key pair acts for it' : a.buckets > 0 ? `it owns ${plural(a.buckets, 'bucket')}` : undefined;
  return (
    <section class="account" aria-labelledby={`account-${a.id}`} data-account={a.name}>
      <div class="title-row">
        <h2 id={`account-${a.id}`}>
          {a.name} {a.root && <span class="tag">root</span>}
        </h2>
        <ActionButton
          class="danger"
          label={`Delete account ${a.name}`}
          disabled={why !== undefined}
          confirm={`Delete the account ${a.name} and its ${plural(props.keys.length, 'access key')}?`}
          onClick={async () => {
            await api.deleteAccount(a.id);
            props.onChanged();
          }}
          onError={props.onError}
        >
          Delete account
        </ActionButton>
      </div>
      <dl class="props">
        <dt>Canonical id</dt>
        <dd>
          <code>{a.id}</code>
        </dd>
        <dt>Email</dt>
        <dd>{a.email ?? <span class="muted">none</span>}</dd>
        <dt>Buckets</dt>
        <dd>{a.buckets}</dd>
        <dt>Created</dt>
        <dd>{formatDate(a.createdAt)}</dd>
      </dl>
      {why && <p class="muted small">It cannot be deleted: {why}.</p>}
      <h3>Access keys</h3>
      {props.keys.length === 0 ? (
        <p class="muted">No access keys{a.root ? ' besides the root key pair' : ''}.</p>
      ) : (
        <div class="table-wrap">
          <table class="keys">
            <thead>
              <tr>
                <th scope="col">Access key ID</th>
                <th scope="col">Grants</th>
                <th scope="col" class="hide-sm">Description</th>
                <th scope="col" class="hide-sm">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td data-label="Access key ID">
                    <code>{k.id}</code>
                  </td>
                  <td data-label="Grants">{grantsText(k.grants)}</td>
                  <td class="hide-sm">{k.description || <span class="muted">-</span>}</td>
                  <td class="hide-sm">{formatDate(k.createdAt)}</td>
                  <td class="actions">
                    <ActionButton
                      class="danger"
                      label={`Revoke access key ${k.id}`}
                      confirm={`Revoke ${k.id}? Requests signed with it fail from now on.`}
                      onClick={async () => {
                        await api.revokeKey(k.id);
                        props.onChanged();
                      }}
                      onError={props.onError}
                    >
                      Revoke
                    </ActionButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewKeyForm
        account={a}
        onCreated={(s) => {
          props.onSecret(s);
          props.onChanged();
        }}
        onError={props.onError}
      />
    </section>
  );
}

/** A new key for the account, or an imported pair. Long because it is a form. */
function NewKeyForm({ account, onCreated, onError }: { account: AccountInfo; onCreated: (s: NewSecret) => void; onError: (e: unknown) => void }) {
  const { api } = useSession();
  const [grants, setGrants] = useState('');
  const [description, setDescription] = useState('');
  const [importing, setImporting] = useState(false);
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const parsed = parseGrants(grants);
    const pair = importing ? { accessKeyId: keyId.trim(), secretAccessKey: secret.trim() } : {};
    const k = await api.createKey({ account: account.id, grants: parsed, description: description.trim() || undefined, ...pair });
    setGrants('');
    setDescription('');
    setKeyId('');
    setSecret('');
    onCreated({ id: k.id, secret: k.secret, account: account.name, imported: importing });
  };

  return (
    <form
      class="new-key"
      aria-label={`New key for ${account.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        submit()
          .catch(onError)
          .finally(() => setBusy(false));
      }}
    >
      <strong class="form-title">New access key for {account.name}</strong>
      <label>
        Grants
        <input name="grants" placeholder="photos:read, *:write" value={grants} onInput={(e) => setGrants(e.currentTarget.value)} required autocomplete="off" />
        <small>bucket:read, bucket:write or bucket:bypass; * for every bucket of the account.</small>
      </label>
      <label>
        Description
        <input name="description" placeholder="backup job" value={description} onInput={(e) => setDescription(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label class="check">
        <input type="checkbox" checked={importing} onChange={(e) => setImporting(e.currentTarget.checked)} /> Import an existing key pair
      </label>
      {importing && (
        <>
          <label>
            Access key ID
            <input name="accessKeyId" value={keyId} onInput={(e) => setKeyId(e.currentTarget.value)} required autocomplete="off" />
          </label>
          <label>
            Secret access key
            <input name="secretAccessKey" type="password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required autocomplete="new-password" />
          </label>
        </>
      )}
      <button type="submit" disabled={busy}>
        {importing ? 'Import key' : 'Create key'}
      </button>
    </form>
  );
}
