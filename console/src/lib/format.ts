// Numbers and dates in words people read.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 1024) return `${n} B`;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : '-';
}

/** Space dedup saves, as a percentage of the logical size. */
export function savedPercent(logical: number, physical: number): string {
  if (logical <= 0) return '0%';
  return `${Math.max(0, ((logical - physical) / logical) * 100).toFixed(1)}%`;
}

export function formatDate(iso: string | number | undefined): string {
  if (iso === undefined || iso === '') return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** '3 min ago', 'in 2 h' style, relative to now. */
export function formatAgo(iso: string | number, now = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '-';
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const [v, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return s >= 0 ? `${v} ${unit} ago` : `in ${v} ${unit}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** 'yes (3 refs)' when another object, copy or upload uses the chunk; 'repeated in this object' when only this one does, more than once. */
// A chunk repeated inside one object is dedup too, though the API's `shared` means another user.
export function chunkSharing(c: { sha256: string; shared: boolean; refcount: number }, all: Array<{ sha256: string }>): string {
  if (c.shared) return `yes (${c.refcount} refs)`;
  const here = all.filter((x) => x.sha256 === c.sha256).length;
  return here > 1 ? `repeated ${here}× in this object` : 'no';
}

/** 'GOVERNANCE until 2027-01-01 10:00:00, legal hold'; an expired retention says so; '' when unlocked. */
export function lockText(lock: { mode: string | null; retainUntil: string | null; legalHold: boolean }, now = Date.now()): string {
  const parts: string[] = [];
  if (lock.mode && lock.retainUntil) parts.push(`${lock.mode} until ${formatDate(lock.retainUntil)}${new Date(lock.retainUntil).getTime() <= now ? ' (expired)' : ''}`);
  if (lock.legalHold) parts.push('legal hold');
  return parts.join(', ');
}

/** 'latest', 'delete marker', both, or ''. */
export function versionNote(v: { isLatest: boolean; deleteMarker: boolean }): string {
  return [v.isLatest ? 'latest' : '', v.deleteMarker ? 'delete marker' : ''].filter(Boolean).join(', ');
}
