import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Api, ConsoleConfig } from './api.js';
import { describeError } from './lib/errors.js';

export interface Session {
  api: Api;
  config: ConsoleConfig;
}
export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

/** Runs an async loader on mount and whenever `deps` change; exposes data, error and reload. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const my = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => my === seq.current && setState({ data, loading: false }),
      (error: unknown) => my === seq.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <span>{describeError(error)}</span>
      {onDismiss && (
        <button type="button" class="link" onClick={onDismiss} aria-label="Dismiss the error">
          Dismiss
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'ok' | 'warn' }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      {what}…
    </p>
  );
}

/** A button that runs an async action, disables itself meanwhile and reports a failure beside it. */
export function ActionButton(props: { onClick: () => Promise<unknown>; children: ComponentChildren; class?: string; confirm?: string; disabled?: boolean; label?: string; onError?: (e: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={props.class}
      aria-label={props.label}
      disabled={busy || props.disabled}
      aria-busy={busy}
      onClick={async () => {
        if (props.confirm && !window.confirm(props.confirm)) return;
        setBusy(true);
        try {
          await props.onClick();
        } catch (e) {
          props.onError?.(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.children}
    </button>
  );
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <div class="bar" style={{ width: `${pct}%` }} />
    </div>
  );
}

export async function copyText(text: string, fallback?: HTMLInputElement | null): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on a LAN address: no Clipboard API, the old way still works.
  if (fallback) {
    fallback.focus();
    fallback.select();
    if (document.execCommand('copy')) return;
  }
  throw new Error('copying is blocked here: select the link and copy it by hand');
}
