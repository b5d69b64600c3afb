// An answer ready in the same event-loop turn its request arrived in waits for the end of that
// turn; then all of them go out back to back.
//
// Why: on loopback (and on any host where the client sleeps in epoll), the send that finds the
// client asleep pays for waking it; under a 4 KiB GET load that wake-up was ~12% of the event
// loop's time (perf: sock_def_readable under writev), and each answer went out between the
// parsing of two requests of the same turn. Writing the turn's answers back to back lets one
// wake-up of the client cover many. The wait is at most the rest of the turn: requests that
// arrived together are answered together. (Corking the socket cannot do this: a response's
// end() fully uncorks its socket.) An answer that already waited for something else (a PUT's
// commit, a file read) has crossed a turn: it goes out at once, as before.

// Module state, on purpose: a turn is the event loop's, and a process has one event loop. Two
// servers in one process answer in the same turns, and their answers going out together at the
// end of the turn is what this is for, so they share it.
let turn = 0;
let scheduled = false;
let waiting: Promise<void> | undefined;
let release: (() => void) | undefined;

function endTurn(): void {
  scheduled = false;
  turn++;
  const wake = release;
  waiting = undefined;
  release = undefined;
  wake?.();
}

/** The current turn's number; the turn ends in setImmediate, after its I/O callbacks and microtasks. */
export function turnStamp(): number {
  if (!scheduled) {
    scheduled = true;
    setImmediate(endTurn);
  }
  return turn;
}

/** A promise that settles at the end of the turn `stamp`, or undefined if that turn is over. */
export function endOfTurn(stamp: number): Promise<void> | undefined {
  if (stamp !== turn) return undefined;
  waiting ??= new Promise<void>((resolve) => (release = resolve));
  return waiting;
}
