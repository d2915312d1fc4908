/**
 * Controller upcalls on their way from the handlers to the OpenFlow
 * connections (OVS's ofproto->ams list: process_upcall's CONTROLLER_UPCALL
 * case queues an ofproto_async_msg with ofproto_dpif_send_async_msg, and
 * the main loop hands them to connmgr_send_async_msg).
 *
 * A handler copies the upcall's cookie and packet into a ring in shared
 * memory (no message, no allocation); the main thread wakes on the ring,
 * reads each record back, finds the frozen state of the cookie's
 * recirculation id (table, in_port, metadata, registers) and makes the
 * `PacketIn` the connections encode. Record payload, in 32-bit words:
 *
 *     0         packet length in bytes
 *     1..12     the user_action_cookie (48 bytes)
 *     13...     the packet bytes, zero-padded to a word
 *
 * Several handlers produce, so producers take the queue's lock word
 * (lock_owner.ts: a dead worker's hold is released by the supervisor
 * through `releaseLockOf`); the main thread is the one consumer. A full
 * ring drops the packet-in and counts packet_in_overflow, as OVS does
 * when its queue is over its limit. A second shared word counts the
 * connections that want packet-ins on a table miss (connmgr's
 * want_packet_in_on_miss): translations in every thread read it.
 *
 * Thread-safety: `PacketInQueue.attach` in any udpif thread (producers),
 * `PacketInQueue.create` and `drain` on the main thread only.
 */
import {
  coverageCounter,
  newRingBuffer,
  releaseIfHeldBy,
  RingConsumer,
  RingProducer,
  RingView,
  sleepLock,
  sleepUnlock,
} from "../lib/mod.ts";
import {
  decodeControllerCookie,
  FROZEN_STATE_WORDS,
  type RecircIdPool,
  USER_ACTION_COOKIE_LEN,
} from "../xlate/mod.ts";

const covOverflow = coverageCounter("packet_in_overflow");

/** 1 MiB of records: hundreds of full-size packets between two main-loop runs. */
const RING_WORDS = 1 << 18;
const COOKIE_WORDS = USER_ACTION_COOKIE_LEN / 4;
const LOCK = 0;
/** How many connections want packet-ins on a table miss (connmgr's want_packet_in_on_miss). */
const WANT_MISS = 1;

/** The shared memory of one queue (structured-clonable, for worker init). */
export interface PacketInQueueInit {
  lock: SharedArrayBuffer;
  ring: SharedArrayBuffer;
}

/** One packet-in as translation froze it (struct ofputil_packet_in, no continuation). */
export interface PacketIn {
  /** The whole packet: OVS 3.1 sends it whole whatever max_len says. */
  packet: Uint8Array;
  /** ofp_packet_in_reason as translation chose it (OFPR_EXPLICIT_MISS 6, OFPR_IMPLICIT_MISS 7 included). */
  reason: number;
  tableId: number;
  cookie: bigint;
  controllerId: number;
  maxLen: number;
  /** OpenFlow in_port, metadata and registers at the controller action. */
  inPort: number;
  metadata: bigint;
  regs: Uint32Array;
}

export class PacketInQueue {
  readonly init: PacketInQueueInit;
  readonly #lock: Int32Array;
  readonly #view: RingView;
  #consumer: RingConsumer | undefined;

  private constructor(init: PacketInQueueInit) {
    this.init = init;
    this.#lock = new Int32Array(init.lock);
    this.#view = new RingView(init.ring);
  }

  /** The main thread's queue, which it alone drains. */
  static create(): PacketInQueue {
    return new PacketInQueue({
      lock: new SharedArrayBuffer(16),
      ring: newRingBuffer(RING_WORDS),
    });
  }

  /** A producer's view of a queue made by `create`. */
  static attach(init: PacketInQueueInit): PacketInQueue {
    return new PacketInQueue(init);
  }

  /**
   * Queues a controller upcall (cookie and `packet[0..len)`); false, and
   * packet_in_overflow counted, when the ring has no room. Never blocks
   * beyond the lock, which holders keep for one copy.
   */
  push(cookie: Uint8Array, packet: Uint8Array, len: number): boolean {
    if (cookie.length < USER_ACTION_COOKIE_LEN) return false;
    const words = 1 + COOKIE_WORDS + ((len + 3) >> 2);
    sleepLock(this.#lock, LOCK);
    try {
      // The producer's cached positions are only valid under the lock.
      const p = new RingProducer(this.#view);
      const at = p.reserve(words);
      if (at < 0) {
        covOverflow.inc();
        return false;
      }
      const v = this.#view;
      v.u32[at] = len;
      const bytesAt = (at + 1) * 4;
      v.u8.set(cookie.subarray(0, USER_ACTION_COOKIE_LEN), bytesAt);
      v.u8.set(packet.subarray(0, len), bytesAt + USER_ACTION_COOKIE_LEN);
      v.u8.fill(0, bytesAt + USER_ACTION_COOKIE_LEN + len, (at + words) * 4);
      p.publish();
      return true;
    } finally {
      sleepUnlock(this.#lock, LOCK);
    }
  }

  /** Main thread: the number of connections that want table misses sent to them. */
  setMissWanted(count: number): void {
    Atomics.store(this.#lock, WANT_MISS, count);
  }

  /** connmgr_wants_packet_in_on_miss, read by every translation (any thread). */
  missWanted(): boolean {
    return Atomics.load(this.#lock, WANT_MISS) > 0;
  }

  /** Releases the lock if `owner`, a dead worker, held it. */
  releaseLockOf(owner: number): void {
    releaseIfHeldBy(this.#lock, LOCK, owner);
  }

  /**
   * Main thread: every queued packet-in, oldest first, to `deliver`. A
   * record whose recirculation id is gone (its flow was deleted and the
   * id freed meanwhile) is dropped, as OVS's recirc_id_node_find failing.
   */
  drain(recirc: RecircIdPool, deliver: (pin: PacketIn) => void): number {
    const c = (this.#consumer ??= new RingConsumer(this.#view));
    const v = this.#view;
    const state = new Uint32Array(FROZEN_STATE_WORDS);
    let n = 0;
    for (let at = c.next(); at >= 0; at = c.next()) {
      const len = v.u32[at];
      const bytesAt = (at + 1) * 4;
      const cookie = decodeControllerCookie(v.u8.slice(bytesAt, bytesAt + USER_ACTION_COOKIE_LEN));
      const packet = v.u8.slice(
        bytesAt + USER_ACTION_COOKIE_LEN,
        bytesAt + USER_ACTION_COOKIE_LEN + len,
      );
      if (!cookie || cookie.dontSend || !recirc.stateOf(cookie.recircId, state)) continue;
      n++;
      deliver({
        packet,
        reason: cookie.reason,
        tableId: state[0],
        cookie: cookie.ruleCookie,
        controllerId: cookie.controllerId,
        maxLen: cookie.maxLen,
        inPort: state[1],
        metadata: (BigInt(state[2]) << 32n) | BigInt(state[3]),
        regs: state.slice(4, 20),
      });
    }
    c.release();
    return n;
  }

  /** Wakes a `waitAsync` now (its owner is stopping). */
  wake(): void {
    Atomics.notify(this.#view.i32, 0);
  }

  /** Resolves when a record may be queued (or after `timeoutMs`). */
  async waitAsync(timeoutMs: number): Promise<void> {
    const c = (this.#consumer ??= new RingConsumer(this.#view));
    if (c.hasData()) return;
    const { array, index, value } = c.waitWord();
    const r = Atomics.waitAsync(array, index, value, timeoutMs);
    if (r.async) await r.value;
  }
}
