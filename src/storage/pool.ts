// The global pool of chunk buffers. Every PUT body passes through these buffers, so
// data-path memory is `buffers x bufferSize` no matter how many clients upload at once:
// when the pool is empty, acquirers queue, readers stop pulling, and TCP slows the clients.

interface Waiter {
  resolve(buf: Buffer): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class BufferPool {
  readonly bufferSize: number;
  private readonly capacity: number;
  private readonly free: Buffer[] = [];
  // Identity of every buffer we ever handed out, so a foreign or doubly released buffer
  // is caught at once instead of silently corrupting another upload's data.
  private readonly owned = new Set<Buffer>();
  private readonly lent = new Set<Buffer>();
  private readonly waiters: Waiter[] = [];

  private readonly shared: boolean;

  /** `shared`: SharedArrayBuffer-backed buffers, which hashing workers can read in place. */
  constructor(opts: { bufferSize: number; buffers: number; shared?: boolean }) {
    this.shared = opts.shared ?? false;
    if (!Number.isSafeInteger(opts.bufferSize) || opts.bufferSize <= 0) {
      throw new RangeError(`bufferSize must be a positive integer, got ${opts.bufferSize}`);
    }
    if (!Number.isSafeInteger(opts.buffers) || opts.buffers <= 0) {
      throw new RangeError(`buffers must be a positive integer, got ${opts.buffers}`);
    }
    this.bufferSize = opts.bufferSize;
    this.capacity = opts.buffers;
  }

  acquire(signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    // Queue behind existing waiters even if a buffer is free, to keep wake-ups FIFO.
    if (this.waiters.length === 0) {
      const buf = this.take();
      if (buf) return Promise.resolve(buf);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  release(buf: Buffer): void {
    if (!this.owned.has(buf)) throw new Error('BufferPool.release: buffer does not belong to this pool');
    if (!this.lent.has(buf)) throw new Error('BufferPool.release: buffer released twice');
    this.lent.delete(buf);
    const waiter = this.waiters.shift();
    if (waiter) {
      // Hand over directly: no other acquirer can slip in between release and wake-up.
      this.lent.add(buf);
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(buf);
      return;
    }
    this.free.push(buf);
  }

  stats(): { total: number; free: number; inUse: number; waiters: number; allocated: number } {
    return {
      total: this.capacity,
      free: this.capacity - this.lent.size,
      inUse: this.lent.size,
      waiters: this.waiters.length,
      allocated: this.owned.size,
    };
  }

  private take(): Buffer | undefined {
    let buf = this.free.pop();
    if (!buf && this.owned.size < this.capacity) {
      // Slow (unpooled) allocation: these live forever and must not share Node's slab.
      buf = this.shared ? Buffer.from(new SharedArrayBuffer(this.bufferSize)) : Buffer.allocUnsafeSlow(this.bufferSize);
      this.owned.add(buf);
    }
    if (buf) this.lent.add(buf);
    return buf;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
