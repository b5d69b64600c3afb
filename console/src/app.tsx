import { useEffect, useState } from 'preact/hooks';
import { Api, type Auth, type ConsoleConfig } from './api.js';
import { ApiError } from './lib/errors.js';
import { navigate, onLinkClick, useRoute } from './router.js';
import { ErrorBox, Loading, SessionContext, useSession } from './ui.js';
import { BucketsPage } from './pages/buckets.js';
import { BrowsePage } from './pages/browse.js';
import { ObjectPage } from './pages/object.js';
import { DashboardPage } from './pages/dashboard.js';
import { SearchPage } from './pages/search.js';
import { AccountsPage } from './pages/accounts.js';

// Credentials live in sessionStorage: gone when the tab closes, never sent anywhere but this server.
const STORE = 'cairn-console-auth';

function savedAuth(): (Auth & { region?: string }) | undefined {
  try {
    const v = JSON.parse(sessionStorage.getItem(STORE) ?? 'null') as (Auth & { region?: string }) | null;
    return v ?? undefined;
  } catch {
    return undefined;
  }
}

/** Signs in: /v1/config answers only to valid credentials. A key pair learns the region from a refusal. */
async function signIn(auth: Auth, region: string): Promise<{ api: Api; config: ConsoleConfig }> {
  const api = new Api(auth);
  api.region = region;
  let config: ConsoleConfig;
  try {
    config = await api.config();
  } catch (e) {
    const expected = e instanceof ApiError ? /expecting '([^']+)'/.exec(e.message)?.[1] : undefined;
    if (!expected || auth.kind !== 'key') throw e;
    api.region = expected;
    config = await api.config();
  }
  api.region = config.region;
  api.setS3(config);
  return { api, config };
}

export function App() {
  const [session, setSession] = useState<{ api: Api; config: ConsoleConfig } | null>(null);
  const [restoring, setRestoring] = useState(() => savedAuth() !== undefined);

  useEffect(() => {
    const saved = savedAuth();
    if (!saved) return;
    signIn(saved, saved.region ?? 'us-east-1').then(
      (s) => setSession(s),
      () => sessionStorage.removeItem(STORE),
    ).finally(() => setRestoring(false));
  }, []);

  if (restoring) return <Loading what="Signing in" />;
  if (!session) {
    return (
      <SignIn
        onSignedIn={(s, auth) => {
          sessionStorage.setItem(STORE, JSON.stringify({ ...auth, region: s.config.region }));
          setSession(s);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell
        onSignOut={() => {
          sessionStorage.removeItem(STORE);
          setSession(null);
          navigate('/');
        }}
      />
    </SessionContext.Provider>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (s: { api: Api; config: ConsoleConfig }, auth: Auth) => void }) {
  const [mode, setMode] = useState<'token' | 'key'>('token');
  const [token, setToken] = useState('');
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [region, setRegion] = useState('us-east-1');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const auth: Auth = mode === 'token' ? { kind: 'token', token: token.trim() } : { kind: 'key', accessKeyId: keyId.trim(), secretAccessKey: secret.trim() };
    try {
      onSignedIn(await signIn(auth, region.trim() || 'us-east-1'), auth);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <h1>
        <span class="logo" aria-hidden="true">▲</span> cairn console
      </h1>
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <div class="tabs" role="radiogroup" aria-label="Sign in with">
          <label class={mode === 'token' ? 'on' : ''}>
            <input type="radio" name="mode" checked={mode === 'token'} onChange={() => setMode('token')} /> Admin token
          </label>
          <label class={mode === 'key' ? 'on' : ''}>
            <input type="radio" name="mode" checked={mode === 'key'} onChange={() => setMode('key')} /> Access key
          </label>
        </div>
        {mode === 'token' ? (
          <label>
            Admin token
            <input name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
            <small>Printed at the first start, kept in &lt;data-dir&gt;/admin-token.</small>
          </label>
        ) : (
          <>
            <label>
              Access key ID
              <input name="accessKeyId" autocomplete="username" required value={keyId} onInput={(e) => setKeyId(e.currentTarget.value)} />
            </label>
            <label>
              Secret access key
              <input name="secretAccessKey" type="password" autocomplete="current-password" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
            </label>
            <label>
              Region
              <input name="region" value={region} onInput={(e) => setRegion(e.currentTarget.value)} />
            </label>
            <small>A key sees only the buckets it is granted.</small>
          </>
        )}
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const session = useSession();
  const p = session.config.principal;
  const who = p.kind === 'admin' ? 'admin token' : p.kind === 'root' ? 'root key' : `key ${p.accessKeyId}${p.account?.name ? ` (account ${p.account.name})` : ''}`;
  const current = route.page === 'dashboard' ? 'dashboard' : route.page === 'accounts' ? 'accounts' : 'buckets';
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/" class="brand">
          <span class="logo" aria-hidden="true">▲</span> cairn
        </a>
        <nav aria-label="Main">
          <a href="/" aria-current={current === 'dashboard' ? 'page' : undefined}>
            Dashboard
          </a>
          <a href="/buckets" aria-current={current === 'buckets' ? 'page' : undefined}>
            Buckets
          </a>
          {session.config.can.admin && (
            <a href="/accounts" aria-current={current === 'accounts' ? 'page' : undefined}>
              Accounts
            </a>
          )}
        </nav>
        <div class="who">
          <span class="muted">{who}</span>
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'dashboard' && <DashboardPage />}
        {route.page === 'buckets' && <BucketsPage />}
        {route.page === 'accounts' && <AccountsPage />}
        {route.page === 'browse' && <BrowsePage bucket={route.bucket} prefix={route.prefix} />}
        {route.page === 'search' && <SearchPage bucket={route.bucket} query={route.query} />}
        {route.page === 'object' && <ObjectPage bucket={route.bucket} objectKey={route.key} versionId={route.versionId} />}
        {route.page === 'notFound' && (
          <section>
            <h1>Page not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <a href="/buckets">Go to the buckets</a>.
            </p>
          </section>
        )}
      </main>
    </div>
  );
}

