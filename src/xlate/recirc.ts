/**
 * Recirculation ids (ofproto-dpif-rid.c): each distinct frozen state (the
 * table, in_port, metadata and registers a controller action or a
 * ct(table=N) resumes from, and whether the packet was conntracked) gets
 * one id while something references it, and ids only grow, so a released
 * id is never handed out again. A packet that comes back from the
 * datapath with recirc_id(N) is translated from N's state (`stateOf`).
 *
 * Handlers and revalidators must agree on ids (a revalidator's translation
 * has to reproduce the handler's actions), so the pool lives in a
 * SharedArrayBuffer: open-addressing slots of (state, id, references)
 * behind one Atomics lock word. Freed slots become tombstones that later
 * inserts reuse.
 */
import { releaseIfHeldBy, sleepLock, sleepUnlock } from "../lib/mod.ts";

/**
 * Words of a frozen state: table, in_port, metadata (2), reg0..reg15,
 * conntracked, the rule actions a dp_hash group froze (rule id + 1,
 * 0 for none; the index of the group action in them), and the bridge it
 * resumes in (its id + 1, OVS's ofproto_uuid; 0: the in_port's bridge).
 */
export const FROZEN_STATE_WORDS = 24;
/** Where each part of a frozen state sits. */
export const FS_TABLE = 0;
export const FS_IN_PORT = 1;
export const FS_METADATA = 2;
export const FS_REGS = 4;
export const FS_CONNTRACKED = 20;
export const FS_RESUME_RULE = 21;
export const FS_RESUME_ACTION = 22;
export const FS_BRIDGE = 23;

const H_LOCK = 0;
const H_NEXT_ID = 1;
const H_SLOTS = 2;
const HEADER_WORDS = 4;

const S_USED = 0; // 0 empty, 1 in use, 2 tombstone
const S_ID = 1;
const S_REFS = 2;
const S_STATE = 3;
const SLOT_WORDS = S_STATE + FROZEN_STATE_WORDS;

/** Gives frozen states their recirculation ids. */
export interface RecircIds {
  /** The state's id, taking a reference; 0 when the pool is full. */
  idFor(state: Uint32Array): number;
  /** Drops a reference taken by idFor. */
  release(id: number): void;
  /**
   * Copies the frozen state of `id` into `out` (FROZEN_STATE_WORDS long);
   * false when no one references `id` (recirc_id_node_find).
   */
  stateOf(id: number, out: Uint32Array): boolean;
}

export class RecircIdPool implements RecircIds {
  readonly buffer: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #s: Uint32Array;
  readonly #slots: number;

  /** A new pool of `slots` states, or a view of another thread's `buffer`. */
  constructor(buffer?: SharedArrayBuffer, slots = 1024) {
    if (!buffer) {
      buffer = new SharedArrayBuffer((HEADER_WORDS + slots * SLOT_WORDS) * 4);
      const h = new Int32Array(buffer, 0, HEADER_WORDS);
      h[H_NEXT_ID] = 1;
      h[H_SLOTS] = slots;
    }
    this.buffer = buffer;
    this.#h = new Int32Array(buffer, 0, HEADER_WORDS);
    this.#slots = this.#h[H_SLOTS];
    this.#s = new Uint32Array(buffer, HEADER_WORDS * 4, this.#slots * SLOT_WORDS);
  }

  idFor(state: Uint32Array): number {
    const s = this.#s;
    this.#lock();
    try {
      let free = -1;
      let k = hashState(state) % this.#slots;
      for (let n = 0; n < this.#slots; n++, k = (k + 1) % this.#slots) {
        const i = k * SLOT_WORDS;
        if (s[i + S_USED] === 0) {
          if (free < 0) free = i;
          break;
        }
        if (s[i + S_USED] === 2) {
          if (free < 0) free = i;
        } else if (sameState(s, i + S_STATE, state)) {
          s[i + S_REFS]++;
          return s[i + S_ID];
        }
      }
      if (free < 0) return 0;
      const id = this.#h[H_NEXT_ID]++;
      s[free + S_USED] = 1;
      s[free + S_ID] = id;
      s[free + S_REFS] = 1;
      s.set(state.subarray(0, FROZEN_STATE_WORDS), free + S_STATE);
      return id;
    } finally {
      this.#unlock();
    }
  }

  release(id: number): void {
    const s = this.#s;
    this.#lock();
    try {
      for (let i = 0; i < s.length; i += SLOT_WORDS) {
        if (s[i + S_USED] === 1 && s[i + S_ID] === id) {
          if (--s[i + S_REFS] === 0) s[i + S_USED] = 2;
          return;
        }
      }
    } finally {
      this.#unlock();
    }
  }

  /**
   * Copies the frozen state of `id` into `out` (recirc_id_node_find: a
   * resumed translation's thaw, a controller upcall's packet-in); false
   * when the id is not in use.
   */
  stateOf(id: number, out: Uint32Array): boolean {
    const s = this.#s;
    this.#lock();
    try {
      for (let i = 0; i < s.length; i += SLOT_WORDS) {
        if (s[i + S_USED] === 1 && s[i + S_ID] === id) {
          out.set(s.subarray(i + S_STATE, i + S_STATE + FROZEN_STATE_WORDS));
          return true;
        }
      }
      return false;
    } finally {
      this.#unlock();
    }
  }

  /** How many ids something references now (memory/show's `recirc ids`). */
  inUse(): number {
    const s = this.#s;
    let n = 0;
    for (let i = 0; i < s.length; i += SLOT_WORDS) if (s[i + S_USED] === 1) n++;
    return n;
  }

  #lock(): void {
    sleepLock(this.#h, H_LOCK);
  }

  #unlock(): void {
    sleepUnlock(this.#h, H_LOCK);
  }

  /** Releases the pool's lock if `owner`, a dead worker, holds it. */
  releaseLockOf(owner: number): boolean {
    return releaseIfHeldBy(this.#h, H_LOCK, owner);
  }
}

function hashState(state: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < FROZEN_STATE_WORDS; i++) h = Math.imul(h ^ state[i], 0x01000193);
  return h >>> 0;
}

function sameState(s: Uint32Array, at: number, state: Uint32Array): boolean {
  for (let i = 0; i < FROZEN_STATE_WORDS; i++) if (s[at + i] !== state[i]) return false;
  return true;
}
