/**
 * Seats: the shared words through which the main thread fences a dead
 * handler or revalidator off from shared memory before it cleans up after
 * it and seats a replacement.
 *
 * A seat is a role and an index (handler 3, revalidator 0). Its ACTIVE
 * word says what the worker in it is doing:
 *
 *     -owner    idle: the worker with that lock owner id is at an await
 *               (between batches, at a barrier, asleep)
 *     +owner    busy: it is in a section that touches shared memory
 *     FENCED    the seat's last worker is dead and may never come back
 *
 * A worker enters a section with a compare-and-swap from -owner to +owner
 * and leaves with a store of -owner. Deno's Worker.terminate() stops a
 * worker only when it next yields to its event loop (a synchronous loop
 * is never stopped), so a terminated worker may still finish the section
 * it is in; the main thread therefore waits until the seat is idle and
 * swaps it to FENCED: from then on the old worker's next entry fails, and
 * nothing it does can race the cleanup. A new worker gets the seat with a
 * store of -newOwner, which the old owner's swap can never match.
 *
 * THROW is fault injection: a worker that finds it set throws at its next
 * section entry (fault/kill-worker --throw).
 *
 * Thread-safety: ACTIVE is swapped by the seat's worker and the main
 * thread only; THROW is set by the main thread, cleared by the worker.
 */
import { MAX_HANDLERS } from "../dpif/mod.ts";
import { JOURNAL_BYTES, SeatJournal } from "./worker_journal.ts";

export const FENCED = -1;
const ACTIVE = 0;
const THROW = 1;
const SEAT_WORDS = 2;
/** Revalidator seats (the barrier's limit). */
export const MAX_REVALIDATORS = 31;
const N_SEATS = MAX_HANDLERS + MAX_REVALIDATORS;
/** The seats' journals (worker_journal.ts) follow their words, 8-byte aligned. */
const JOURNALS_AT = Math.ceil((N_SEATS * SEAT_WORDS * 4) / 8) * 8;

export type WorkerRole = "handler" | "revalidator";

/** The worker tried to enter a seat it no longer holds. */
export class SeatLostError extends Error {}

export class WorkerSeats {
  readonly buffer: SharedArrayBuffer;
  readonly #w: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#w = new Int32Array(buffer);
  }

  static create(): WorkerSeats {
    return new WorkerSeats(new SharedArrayBuffer(JOURNALS_AT + N_SEATS * JOURNAL_BYTES));
  }

  #seatNumber(role: WorkerRole, index: number): number {
    const limit = role === "handler" ? MAX_HANDLERS : MAX_REVALIDATORS;
    if (!Number.isInteger(index) || index < 0 || index >= limit) {
      throw new RangeError(`${role} index ${index} out of range 0..${limit - 1}`);
    }
    return (role === "handler" ? 0 : MAX_HANDLERS) + index;
  }

  #at(role: WorkerRole, index: number): number {
    return this.#seatNumber(role, index) * SEAT_WORDS;
  }

  /** The seat's journal. */
  journal(role: WorkerRole, index: number): SeatJournal {
    return new SeatJournal(
      this.buffer,
      JOURNALS_AT + this.#seatNumber(role, index) * JOURNAL_BYTES,
    );
  }

  /** Gives the seat to `owner`, idle (main thread, before the worker runs). */
  seat(role: WorkerRole, index: number, owner: number): void {
    const i = this.#at(role, index);
    Atomics.store(this.#w, i + THROW, 0);
    Atomics.store(this.#w, i + ACTIVE, -owner);
    Atomics.notify(this.#w, i + ACTIVE);
  }

  /** The seat's ACTIVE word (see the layout above). */
  active(role: WorkerRole, index: number): number {
    return Atomics.load(this.#w, this.#at(role, index) + ACTIVE);
  }

  /**
   * Enters a section as `owner` (the worker); throws SeatLostError when
   * the seat was fenced or given to another, and the injected fault when
   * one was asked for.
   */
  enter(role: WorkerRole, index: number, owner: number): void {
    const i = this.#at(role, index);
    if (Atomics.compareExchange(this.#w, i + ACTIVE, -owner, owner) !== -owner) {
      throw new SeatLostError(`${role} ${index}: seat no longer held by lock owner ${owner}`);
    }
    if (Atomics.exchange(this.#w, i + THROW, 0) !== 0) {
      throw new Error(`fault injection: ${role} ${index} throws`);
    }
  }

  /** Leaves a section (the worker, before it awaits). */
  leave(role: WorkerRole, index: number, owner: number): void {
    const i = this.#at(role, index);
    Atomics.store(this.#w, i + ACTIVE, -owner);
    Atomics.notify(this.#w, i + ACTIVE);
  }

  /** Asks the seat's worker to throw at its next section entry. */
  requestThrow(role: WorkerRole, index: number): void {
    Atomics.store(this.#w, this.#at(role, index) + THROW, 1);
  }

  /**
   * Fences the seat against `owner` (main thread). With `stopped` (the
   * worker reported its failure, so it runs no more of its loop) at once;
   * otherwise once the worker is idle, which it becomes at its next await.
   */
  async fence(role: WorkerRole, index: number, owner: number, stopped: boolean): Promise<void> {
    const i = this.#at(role, index);
    for (;;) {
      const v = Atomics.load(this.#w, i + ACTIVE);
      if (v === FENCED) return;
      if (stopped || v !== owner) {
        if (Atomics.compareExchange(this.#w, i + ACTIVE, v, FENCED) === v) return;
        continue;
      }
      const r = Atomics.waitAsync(this.#w, i + ACTIVE, v, 1000);
      if (r.async) await r.value;
    }
  }
}
