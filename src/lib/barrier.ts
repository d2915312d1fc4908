/**
 * A reusable barrier in shared memory, after OVS's `ovs_barrier`: `size`
 * participants call block(); none returns until all have arrived, then all
 * are released together and the barrier is ready for the next round.
 *
 * Layout (Int32 words): [0] size, [1] arrivals in this round,
 * [2] generation. The last arrival resets the count, then bumps the
 * generation and notifies; waiters sleep on the generation they saw, so a
 * fast thread that re-enters for the next round cannot be confused with a
 * straggler of the previous one.
 */

const SIZE = 0;
const COUNT = 1;
const GEN = 2;
export const BARRIER_BYTES = 12;

export class Barrier {
  readonly #w: Int32Array;

  constructor(words: Int32Array) {
    this.#w = words;
  }

  /** A barrier for `size` participants in fresh shared memory. */
  static create(size: number): Barrier {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`barrier size must be a positive integer, got ${size}`);
    }
    const w = new Int32Array(new SharedArrayBuffer(BARRIER_BYTES));
    w[SIZE] = size;
    return new Barrier(w);
  }

  /** The barrier over memory another worker created. */
  static attach(buffer: SharedArrayBuffer, byteOffset = 0): Barrier {
    return new Barrier(new Int32Array(buffer, byteOffset, 3));
  }

  get buffer(): SharedArrayBuffer {
    return this.#w.buffer as SharedArrayBuffer;
  }

  get size(): number {
    return Atomics.load(this.#w, SIZE);
  }

  /** Arrives; returns true for the last arrival of the round. */
  #arrive(): { last: boolean; gen: number } {
    const gen = Atomics.load(this.#w, GEN);
    const n = Atomics.add(this.#w, COUNT, 1) + 1;
    if (n === Atomics.load(this.#w, SIZE)) {
      Atomics.store(this.#w, COUNT, 0);
      Atomics.add(this.#w, GEN, 1);
      Atomics.notify(this.#w, GEN);
      return { last: true, gen };
    }
    return { last: false, gen };
  }

  /** Blocks until every participant has arrived. Workers only. */
  block(): void {
    const { last, gen } = this.#arrive();
    if (last) return;
    while (Atomics.load(this.#w, GEN) === gen) Atomics.wait(this.#w, GEN, gen);
  }

  /** block() for the main thread, which must not block its event loop. */
  async blockAsync(): Promise<void> {
    const { last, gen } = this.#arrive();
    if (last) return;
    while (Atomics.load(this.#w, GEN) === gen) {
      const r = Atomics.waitAsync(this.#w, GEN, gen);
      if (r.async) await r.value;
    }
  }
}
