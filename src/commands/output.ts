// Output for the CLI: human tables by default, exactly one JSON document on stdout with --json.
// Progress and notes go to stderr so scripts can parse stdout.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 512 B, 1.5 KiB, 10 MiB, 1.2 GiB (binary units, one decimal when under 100). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) < 1024) return `${bytes} B`;
  let v = bytes;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (Math.abs(v) >= 1024 && i < UNITS.length - 1);
  const text = Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(1).replace(/\.0$/, '');
  return `${text} ${UNITS[i]}`;
}

/** '2024-05-01 12:00:03' in UTC from an ISO string (or '-' when absent). */
export function humanTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
}

export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export type Align = 'left' | 'right';

/** Aligned columns separated by two spaces; `right` columns (sizes, counts) pad on the left. */
export function table(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && align[i] !== 'right' ? c : align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `name: value` lines with the names aligned. */
export function fields(pairs: Array<[string, string]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w)} ${v}`).join('\n') + '\n';
}

export function out(text: string): void {
  process.stdout.write(text);
}

export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : text + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes `{"<field>": [ ...items ], ...tail}` one page at a time, so listing a million objects
 * never holds them all (or their JSON) in memory. Still one JSON document on stdout.
 */
export class JsonArrayWriter {
  private first = true;
  constructor(field: string) {
    process.stdout.write(`{\n  ${JSON.stringify(field)}: [`);
  }
  write(items: unknown[]): void {
    if (items.length === 0) return;
    // One write per page: a million tiny writes cost more than the query.
    let chunk = '';
    for (const item of items) {
      chunk += (this.first ? '\n    ' : ',\n    ') + JSON.stringify(item);
      this.first = false;
    }
    process.stdout.write(chunk);
  }
  end(tail: Record<string, unknown> = {}): void {
    let s = this.first ? ']' : '\n  ]';
    for (const [k, v] of Object.entries(tail)) if (v !== undefined) s += `,\n  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
    process.stdout.write(s + '\n}\n');
  }
}
