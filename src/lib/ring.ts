/**
 * A single-producer, single-consumer ring of variable-size records in a
 * SharedArrayBuffer: upcall queues, flow command rings, netdev rx/tx rings.
 *
 * Layout (32-bit words):
 *
 *     word 0            head: words ever published by the producer
 *     word 16           tail: words ever released by the consumer
 *     word 17           consumer-waiting flag (set before Atomics.wait on head)
 *     word 32 ...       data: `capacity` words, a power of two
 *
 * head and tail sit on different cache lines. Positions are free-running
 * int32 counters; `(head - tail) | 0` is the fill level even after they wrap.
 *
 * A record is a header word (its size in words, header included, always
 * even so that Float64Array views of a record are aligned) followed by its
 * payload, and is contiguous in memory: when it would straddle the end of
 * the data area the producer writes a pad record (size with PAD_BIT set)
 * to the end and starts over at the beginning.
 *
 * Publication: the producer writes records at positions past `head`, then
 * stores the new head with Atomics.store; the consumer reads head with
 * Atomics.load, so it sees whole records only. The consumer releases space
 * the same way through tail. Nothing here allocates after construction.
 */

const HEAD = 0;
const TAIL = 16;
const WAITING = 17;
const DATA = 32;
const PAD_BIT = 0x40000000;

/** Words a record of `payloadWords` takes in a ring: header word, rounded up to even. */
export function ringRecordWords(payloadWords: number): number {
  return (payloadWords + 2) & ~1;
}

/** Bytes needed for a ring of `capacityWords` (rounded up to a power of two). */
export function ringBytes(capacityWords: number): number {
  return (DATA + pow2(capacityWords)) * 4;
}

function pow2(n: number): number {
  let c = 16;
  while (c < n) c *= 2;
  return c;
}

/** Allocates the shared memory for a ring. */
export function newRingBuffer(capacityWords: number): SharedArrayBuffer {
  return new SharedArrayBuffer(ringBytes(capacityWords));
}

/** Typed views of one ring; both ends build one over the same buffer. */
export class RingView {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  /** First data word and data size in words. */
  readonly base = DATA;
  readonly capacity: number;
  readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
    this.f64 = new Float64Array(sab);
    this.u8 = new Uint8Array(sab);
    this.capacity = this.u32.length - DATA;
    if (this.capacity < 16 || (this.capacity & (this.capacity - 1)) !== 0) {
      throw new RangeError(`ring buffer of ${sab.byteLength} bytes has no power-of-two data area`);
    }
    this.mask = this.capacity - 1;
  }

  /** Words currently queued (published and not released). */
  used(): number {
    return (Atomics.load(this.i32, HEAD) - Atomics.load(this.i32, TAIL)) | 0;
  }
}

/**
 * Frees a ring's records up to `pos` on behalf of a consumer that died
 * (its successor starts reading at `pos`). Only while no consumer runs.
 */
export function ringReleaseTo(view: RingView, pos: number): void {
  Atomics.store(view.i32, TAIL, pos);
}

/** The producing end. */
export class RingProducer {
  readonly view: RingView;
  private pending: number;
  private tailSeen: number;

  constructor(view: RingView) {
    this.view = view;
    this.pending = Atomics.load(view.i32, HEAD);
    this.tailSeen = Atomics.load(view.i32, TAIL);
  }

  /**
   * Reserves a record with `payloadWords` of payload and returns the index
   * (into the view's arrays) of its first payload word, or -1 when the ring
   * is full. The record becomes visible at the next `publish()`.
   */
  reserve(payloadWords: number): number {
    const v = this.view;
    const size = ringRecordWords(payloadWords);
    if (size > v.capacity / 2) return -1;
    const at = this.pending & v.mask;
    const toEnd = v.capacity - at;
    const need = size <= toEnd ? size : size + toEnd;
    if (((this.pending - this.tailSeen) | 0) + need > v.capacity) {
      this.tailSeen = Atomics.load(v.i32, TAIL);
      if (((this.pending - this.tailSeen) | 0) + need > v.capacity) return -1;
    }
    let pos = at;
    if (size > toEnd) {
      v.u32[v.base + at] = (toEnd | PAD_BIT) >>> 0;
      this.pending = (this.pending + toEnd) | 0;
      pos = 0;
    }
    v.u32[v.base + pos] = size;
    this.pending = (this.pending + size) | 0;
    return v.base + pos + 1;
  }

  /**
   * Gives back the unused tail of the record reserved last (payload at
   * `idx`, not yet published), keeping `payloadWords` of payload: for a
   * producer that reserves for the largest answer and writes a short one.
   */
  shrinkLast(idx: number, payloadWords: number): void {
    const u32 = this.view.u32;
    const old = u32[idx - 1], size = (payloadWords + 2) & ~1;
    if (size >= old) return;
    u32[idx - 1] = size;
    this.pending = (this.pending - (old - size)) | 0;
  }

  /** Makes every reserved record visible and wakes a waiting consumer. */
  publish(): void {
    const i32 = this.view.i32;
    Atomics.store(i32, HEAD, this.pending);
    if (Atomics.load(i32, WAITING) !== 0) Atomics.notify(i32, HEAD);
  }

  /** True when nothing published is left for the consumer. */
  drained(): boolean {
    return Atomics.load(this.view.i32, TAIL) === this.pending;
  }
}

/** The consuming end. */
export class RingConsumer {
  readonly view: RingView;
  private pos: number;
  private headSeen: number;

  constructor(view: RingView) {
    this.view = view;
    this.pos = Atomics.load(view.i32, TAIL);
    this.headSeen = this.pos;
  }

  /**
   * Returns the index of the next record's first payload word, or -1 when
   * none is published. The record stays readable until `release()`.
   */
  next(): number {
    const v = this.view;
    for (;;) {
      if (this.pos === this.headSeen) {
        this.headSeen = Atomics.load(v.i32, HEAD);
        if (this.pos === this.headSeen) return -1;
      }
      const at = this.pos & v.mask;
      const hdr = v.u32[v.base + at];
      if (hdr & PAD_BIT) {
        this.pos = (this.pos + (hdr & ~PAD_BIT)) | 0;
        continue;
      }
      this.pos = (this.pos + hdr) | 0;
      return v.base + at + 1;
    }
  }

  /** Payload words of the record whose payload starts at `idx`. */
  payloadWords(idx: number): number {
    return this.view.u32[idx - 1] - 1;
  }

  /** The position `release()` would free up to (records taken so far). */
  get position(): number {
    return this.pos;
  }

  /** Frees every record returned by `next()` so far. */
  release(): void {
    Atomics.store(this.view.i32, TAIL, this.pos);
  }

  /** True when a record is published and not yet taken by `next()`. */
  hasData(): boolean {
    return Atomics.load(this.view.i32, HEAD) !== this.pos;
  }

  /**
   * Blocks until a record is published or `timeoutMs` passes (worker
   * threads; Deno's main thread may wait too). Returns true if data is there.
   */
  wait(timeoutMs: number): boolean {
    const i32 = this.view.i32;
    Atomics.store(i32, WAITING, 1);
    const head = Atomics.load(i32, HEAD);
    if (head === this.pos) Atomics.wait(i32, HEAD, head, timeoutMs);
    Atomics.store(i32, WAITING, 0);
    return this.hasData();
  }

  /**
   * The word and value to hand to Atomics.waitAsync for an async wait.
   * The producer notifies on every publish from here on, until
   * `waitDone()`.
   */
  waitWord(): { array: Int32Array; index: number; value: number } {
    Atomics.store(this.view.i32, WAITING, 1);
    return { array: this.view.i32, index: HEAD, value: this.pos };
  }

  /**
   * Ends an async wait begun with `waitWord()`: a busy consumer spares its
   * producer an Atomics.notify per publish (each one takes V8's futex lock).
   */
  waitDone(): void {
    Atomics.store(this.view.i32, WAITING, 0);
  }
}
