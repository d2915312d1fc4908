/**
 * Who holds a spin lock in shared memory. udpif's spin locks (ukeys,
 * umaps, the ukey allocator, the rule statistics queue, the n_flows
 * refresh) store their holder's owner id instead of a bare 1, so that
 * when a worker dies holding one, the main thread can tell which locks
 * were its and release them (see the upcall layer's worker supervisor).
 *
 * Every thread has one owner id for its lifetime: the main thread
 * MAIN_LOCK_OWNER, each worker the id its creator hands it at start-up
 * (a replacement worker gets a fresh one, never its predecessor's).
 *
 * Thread-safety: per thread (a module-level value in each worker).
 */

export const MAIN_LOCK_OWNER = 1;

let owner = MAIN_LOCK_OWNER;

/** Sets this thread's owner id (a worker, once, before taking any lock). */
export function setLockOwner(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 0x7fffffff) {
    throw new RangeError(`lock owner id must be a positive int32, got ${id}`);
  }
  owner = id;
}

/** This thread's owner id, the value its spin locks hold. */
export function lockOwner(): number {
  return owner;
}

/** Takes the spin lock at `words[i]` (0 = free) for this thread. */
export function spinLock(words: Int32Array, i: number): void {
  while (Atomics.compareExchange(words, i, 0, owner) !== 0) {
    // Held for a few instructions by whoever has it: spin.
  }
}

/** Takes the lock at `words[i]` if it is free; returns whether it did. */
export function spinTryLock(words: Int32Array, i: number): boolean {
  return Atomics.compareExchange(words, i, 0, owner) === 0;
}

/** Releases the lock at `words[i]`. */
export function spinUnlock(words: Int32Array, i: number): void {
  Atomics.store(words, i, 0);
}

/**
 * Releases the lock at `words[i]` if `dead` holds it; returns whether it
 * did. Only for the main thread cleaning up after a worker that is gone.
 */
export function releaseIfHeldBy(words: Int32Array, i: number, dead: number): boolean {
  return Atomics.compareExchange(words, i, dead, 0) === dead;
}

/**
 * Takes the lock at `words[i]`, sleeping briefly while another holds it:
 * for locks held across a table walk, where spinning would waste a core.
 */
export function sleepLock(words: Int32Array, i: number): void {
  for (;;) {
    const held = Atomics.compareExchange(words, i, 0, owner);
    if (held === 0) return;
    Atomics.wait(words, i, held, 1);
  }
}

/** Releases a sleepLock() and wakes one waiter. */
export function sleepUnlock(words: Int32Array, i: number): void {
  Atomics.store(words, i, 0);
  Atomics.notify(words, i, 1);
}
