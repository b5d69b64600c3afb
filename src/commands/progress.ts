import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number): void;
  /** Final line / bar stop. Safe to call more than once. */
  stop(): void;
}

/**
 * Progress on stderr, never stdout: a cli-progress bar on a terminal, otherwise plain lines
 * (`verify: 1200/5000 chunks`) at most once a second plus the last one.
 */
export function progress(label: string, unit: string, opts: { enabled?: boolean; tty?: boolean } = {}): ProgressReporter {
  if (opts.enabled === false) return { update() {}, stop() {} };
  const tty = opts.tty ?? process.stderr.isTTY === true;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let stopped = false;
    return {
      update(done, total) {
        if (stopped) return;
        if (!started) {
          bar.start(total, done);
          started = true;
        } else {
          if (bar.getTotal() !== total) bar.setTotal(total);
          bar.update(done);
        }
      },
      stop() {
        if (started && !stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let last = 0;
  let lastLine = '';
  let stopped = false;
  const write = (done: number, total: number) => {
    const line = `${label}: ${done}/${total} ${unit}`;
    if (line === lastLine) return;
    process.stderr.write(line + '\n');
    lastLine = line;
    last = Date.now();
  };
  let pending: [number, number] | undefined;
  return {
    update(done, total) {
      if (stopped) return;
      pending = [done, total];
      if (last === 0 || done >= total || Date.now() - last >= 1000) {
        write(done, total);
        pending = undefined;
      }
    },
    stop() {
      if (!stopped && pending) write(...pending);
      stopped = true;
    },
  };
}
