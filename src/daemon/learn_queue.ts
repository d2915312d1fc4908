/**
 * Learned flows on their way from the workers to the master tables.
 *
 * In OVS a handler's learn action modifies the OpenFlow tables itself,
 * under ofproto_mutex (ofproto_flow_mod_learn), and a revalidator pushing
 * a flow's statistics does it again to keep the learned flow fresh
 * (XC_LEARN). Here the tables' master copy belongs to the main thread, so
 * a worker appends what the learn needs to this queue in shared memory
 * and the main thread applies it (bridge_learn.ts) before anything reads
 * the tables, then publishes the change to every worker as it does for
 * any flow_mod. A learn is a flow-setup event, not a per-packet one.
 *
 * A record says which learn action ran on which flow, not the flow_mod
 * it made: `(kind, ruleId, a, b, flow key words)`. For a learn, `a` is
 * the action's ordinal among the rule's learn actions (learnActionsOf)
 * and the flow is the packet's flow as translated up to the action; `b`
 * is 1 for a refresh from an xlate cache (XC_LEARN), 0 for a learn made
 * by a translation; the main thread rebuilds the flow_mod from its own
 * copy of the rule. For a
 * fin_timeout (kind 2), `a` and `b` are the idle and hard timeouts to
 * reduce the rule's to.
 *
 * Layout (one SharedArrayBuffer): Int32 words [lock, head, tail,
 * dropped], then `capacity` records of RECORD_WORDS Uint32s. Producers
 * take the spin lock for the stores of one record; a full queue drops the
 * record and counts it (a lost refresh is redone at the next stats push,
 * a lost learn at the flow's next upcall or push).
 *
 * Thread-safety: any number of producers (workers, the main thread), one
 * consumer (the main thread).
 */
import { FLOW_WORDS, type FlowKey } from "../flow/mod.ts";
import { releaseIfHeldBy, spinLock, spinUnlock } from "../lib/mod.ts";

const LOCK = 0, HEAD = 1, TAIL = 2, DROPPED = 3;
const HEADER_WORDS = 4;
const RECORD_WORDS = 4 + FLOW_WORDS;

export const LEARN_RECORD = 1;
export const FIN_TIMEOUT_RECORD = 2;

/** One queued record, as the consumer sees it (valid during the callback only). */
export interface LearnRecord {
  kind: number;
  ruleId: number;
  a: number;
  b: number;
  flow: FlowKey;
}

export class LearnQueue {
  readonly buffer: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #r: Uint32Array;
  readonly #capacity: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#h = new Int32Array(buffer, 0, HEADER_WORDS);
    this.#capacity = (buffer.byteLength / 4 - HEADER_WORDS) / RECORD_WORDS;
    this.#r = new Uint32Array(buffer, HEADER_WORDS * 4, this.#capacity * RECORD_WORDS);
  }

  static create(capacity = 1024): LearnQueue {
    return new LearnQueue(new SharedArrayBuffer((HEADER_WORDS + capacity * RECORD_WORDS) * 4));
  }

  /** Another thread's handle on a queue made by `create`. */
  static attach(buffer: SharedArrayBuffer): LearnQueue {
    return new LearnQueue(buffer);
  }

  /** Records lost because the queue was full. */
  get dropped(): number {
    return Atomics.load(this.#h, DROPPED);
  }

  /** Releases the queue's lock if `owner`, a dead worker, holds it. */
  releaseLockOf(owner: number): boolean {
    return releaseIfHeldBy(this.#h, LOCK, owner);
  }

  /** Queues a record; `flow` may be null (fin_timeout). */
  push(kind: number, ruleId: number, a: number, b: number, flow: FlowKey | null): void {
    spinLock(this.#h, LOCK);
    const head = this.#h[HEAD], tail = this.#h[TAIL];
    if (head - tail >= this.#capacity) {
      this.#h[DROPPED]++;
    } else {
      const at = (head % this.#capacity) * RECORD_WORDS;
      this.#r[at] = kind;
      this.#r[at + 1] = ruleId;
      this.#r[at + 2] = a;
      this.#r[at + 3] = b;
      if (flow) this.#r.set(flow, at + 4);
      else this.#r.fill(0, at + 4, at + RECORD_WORDS);
      Atomics.store(this.#h, HEAD, head + 1);
    }
    spinUnlock(this.#h, LOCK);
  }

  /** Whether records are waiting (one shared-memory read). */
  get pending(): boolean {
    return Atomics.load(this.#h, HEAD) !== Atomics.load(this.#h, TAIL);
  }

  /** Hands every queued record to `apply`, oldest first; returns how many. */
  drain(apply: (rec: LearnRecord) => void): number {
    if (!this.pending) return 0;
    spinLock(this.#h, LOCK);
    const head = this.#h[HEAD];
    const tail = this.#h[TAIL];
    const n = head - tail;
    const copy = new Uint32Array(n * RECORD_WORDS);
    for (let i = 0; i < n; i++) {
      const at = ((tail + i) % this.#capacity) * RECORD_WORDS;
      copy.set(this.#r.subarray(at, at + RECORD_WORDS), i * RECORD_WORDS);
    }
    // Rebase so the indices never grow past Int32.
    this.#h[HEAD] = 0;
    this.#h[TAIL] = 0;
    spinUnlock(this.#h, LOCK);
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_WORDS;
      apply({
        kind: copy[at],
        ruleId: copy[at + 1],
        a: copy[at + 2],
        b: copy[at + 3],
        flow: copy.subarray(at + 4, at + RECORD_WORDS),
      });
    }
    return n;
  }
}
