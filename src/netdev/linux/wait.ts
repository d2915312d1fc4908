/**
 * Sleeping until one of a set of fds is readable (poll(2)), and the
 * eventfd other threads write to wake such a sleeper, as OVS's PMD and
 * main loop wait on their netdevs' fds plus a latch.
 *
 * `FdPoller` keeps one pollfd array, refilled only when the fd set
 * changes, so a wait allocates nothing. `poll` blocks the calling thread
 * up to its timeout: only a thread that has nothing else to do (the PMD
 * when idle) may call it.
 *
 * Thread-safety: an FdPoller belongs to one thread. `eventfdSignal` may
 * be called from any thread with FFI; the eventfd itself is process-wide.
 */
import { check, libc } from "./libc.ts";

const POLLIN = 1;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

export class FdPoller {
  readonly #fds: Int32Array<ArrayBuffer>;
  readonly #bytes: Uint8Array<ArrayBuffer>;
  #n = 0;
  /** `#n` as the BigInt poll(2) takes, made when the set changes, not per wait. */
  #nfds = 0n;

  constructor(readonly capacity: number) {
    this.#fds = new Int32Array(capacity * 2);
    this.#bytes = new Uint8Array(this.#fds.buffer);
  }

  get size(): number {
    return this.#n;
  }

  clear(): void {
    this.#n = 0;
    this.#nfds = 0n;
  }

  /** Watches `fd` for input; false when the set is full. */
  add(fd: number): boolean {
    if (this.#n === this.capacity) return false;
    this.#fds[this.#n * 2] = fd;
    this.#fds[this.#n * 2 + 1] = POLLIN;
    this.#n++;
    this.#nfds = BigInt(this.#n);
    return true;
  }

  /** Whether the fd added `index`-th was readable when the last poll returned. */
  readable(index: number): boolean {
    // struct pollfd: fd, then events (low half) and revents (high half) of one word.
    return ((this.#fds[index * 2 + 1] >>> 16) & POLLIN) !== 0;
  }

  /**
   * Whether the fd added `index`-th had anything to report (input, an
   * error, a hang-up) when the last poll returned: a socket that did must
   * be read, or the next poll returns at once again.
   */
  ready(index: number): boolean {
    return (this.#fds[index * 2 + 1] >>> 16) !== 0;
  }

  /** Blocks until an fd is readable or `timeoutMs` passes; returns how many are ready. */
  poll(timeoutMs: number): number {
    for (let i = 0; i < this.#n; i++) this.#fds[i * 2 + 1] = POLLIN;
    return libc().poll(this.#bytes, this.#nfds, timeoutMs);
  }
}

/** A non-blocking eventfd for waking a thread asleep in poll. */
export function eventfdCreate(): number {
  return check(libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
}

const EVENTFD_BYTES = 8n;
const one = new BigUint64Array([1n]);
const oneBytes = new Uint8Array(one.buffer);
const sink = new Uint8Array(8);

/** Makes the eventfd readable (wakes its poller). */
export function eventfdSignal(fd: number): void {
  libc().write(fd, oneBytes, EVENTFD_BYTES);
}

/** Consumes the eventfd's count so the next poll sleeps again. */
export function eventfdDrain(fd: number): void {
  libc().read(fd, sink, EVENTFD_BYTES);
}

export function closeFd(fd: number): void {
  libc().close(fd);
}
