// Prometheus text exposition -> samples, and the request rate and error rate between two scrapes.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[3]))) labels[lm[1]!] = unescapeLabel(lm[2]!);
    }
    const v = m[4]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

export function sum(samples: Sample[], name: string, filter: (labels: Record<string, string>) => boolean = () => true): number {
  return samples.filter((s) => s.name === name && filter(s.labels)).reduce((a, s) => a + s.value, 0);
}

/** A gauge's value; undefined when the series is absent (0 for timestamps means "never"). */
export function gauge(samples: Sample[], name: string): number | undefined {
  return samples.find((s) => s.name === name)?.value;
}

export interface RequestTotals {
  at: number;
  requests: number;
  clientErrors: number;
  serverErrors: number;
}

export function requestTotals(samples: Sample[], at: number): RequestTotals {
  const status = (l: Record<string, string>) => Number(l.status);
  return {
    at,
    requests: sum(samples, 'cairn_s3_requests_total'),
    clientErrors: sum(samples, 'cairn_s3_requests_total', (l) => status(l) >= 400 && status(l) < 500),
    serverErrors: sum(samples, 'cairn_s3_requests_total', (l) => status(l) >= 500),
  };
}

export interface Rates {
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Share of requests in the interval that failed (4xx + 5xx), 0..1. */
  errorShare: number;
}

/** Per-second rates between two scrapes; a counter that went down (restart) counts from zero. */
export function rates(prev: RequestTotals, cur: RequestTotals): Rates {
  const secs = Math.max((cur.at - prev.at) / 1000, 0.001);
  const delta = (a: number, b: number) => (b >= a ? b - a : b);
  const req = delta(prev.requests, cur.requests);
  const err = delta(prev.clientErrors + prev.serverErrors, cur.clientErrors + cur.serverErrors);
  return { requestsPerSecond: req / secs, errorsPerSecond: err / secs, errorShare: req > 0 ? Math.min(1, err / req) : 0 };
}

/** Requests by operation (for a small table), largest first. */
export function byOperation(samples: Sample[]): Array<{ operation: string; requests: number; errors: number }> {
  const map = new Map<string, { requests: number; errors: number }>();
  for (const s of samples) {
    if (s.name !== 'cairn_s3_requests_total') continue;
    const op = s.labels.operation ?? 'Unknown';
    const e = map.get(op) ?? { requests: 0, errors: 0 };
    e.requests += s.value;
    if (Number(s.labels.status) >= 400) e.errors += s.value;
    map.set(op, e);
  }
  return [...map.entries()].map(([operation, v]) => ({ operation, ...v })).sort((a, b) => b.requests - a.requests);
}
