/**
 * LACP, 802.3ad link aggregation control (lib/lacp.c): each member of a
 * bond with `lacp=active|passive` exchanges LACPDUs with its partner,
 * records the partner's actor information, and is attached (may carry
 * traffic) once the partners agree; the bond is then "negotiated".
 *
 * Thread-safety: as OVS's lacp mutex, one Atomics lock word guards the
 * shared state. Any translating thread records a received PDU
 * (`processPacket`, lacp_process_packet); the main thread runs timers,
 * attachment and transmission (`run`, lacp_run) and prints `lacp/show`
 * and `lacp/show-stats` (lacp_print_stats: the per-member PDU, expiry
 * and carrier counters, kept in the shared words). Per-member transmit
 * timers are the main thread's own.
 */
import { getLogger, sleepLock, sleepUnlock } from "../lib/mod.ts";
import {
  C_CARRIER,
  C_DEFAULTED,
  C_EXPIRED,
  C_RX,
  C_RX_BAD,
  C_RX_MARKER,
  C_TX,
  compareMac,
  composeLacpPdu,
  infoAt,
  LACP_COUNTER_LABELS,
  type LacpInfo,
  pduSubtype,
  readInfo,
  sameInfo,
  STATE_ACT,
  STATE_AGG,
  STATE_COL,
  STATE_DEF,
  STATE_DIST,
  STATE_EXP,
  STATE_SYNC,
  STATE_TIME,
  storeInfo,
  txEqual,
  zeroInfo,
} from "./_lacp_pdu.ts";

const log = getLogger("lacp");

export const LACP_FAST_TIME_TX = 1000;
export const LACP_SLOW_TIME_TX = 30000;
const LACP_RX_MULTIPLIER = 3;
/** eth_addr_lacp. */
export const LACP_DST_MAC = "01:80:c2:00:00:02";

/** enum member_status. */
const CURRENT = 0, EXPIRED = 1, DEFAULTED = 2;
const STATUS_NAMES = ["current", "expired", "defaulted"];

/** LACP settings (bridge.c port_configure_lacp, iface_configure_lacp). */
export interface LacpConfig {
  name: string;
  active: boolean;
  fast: boolean;
  sysId: Uint8Array;
  sysPriority: number;
  fallbackAb: boolean;
  members: readonly { name: string; portId: number; portPriority: number; key: number }[];
}

// Shared words: lock, negotiated, update, then per member MEMBER_WORDS:
// status, attached, carrier, partner (7), ntt_actor (7), the seven
// counters lacp/show-stats prints, then per member one float64 rx timer
// (ms; Infinity: not running).
const W_LOCK = 0, W_NEGOTIATED = 1, W_UPDATE = 2, HEADER = 4;
const M_STATUS = 0, M_ATTACHED = 1, M_CARRIER = 2, M_PARTNER = 3, M_NTT = 10, M_COUNTS = 17;
const MEMBER_WORDS = M_COUNTS + LACP_COUNTER_LABELS.length;

/** What the threads need to view one LACP object. */
export interface LacpInit {
  config: LacpConfig;
  buffer: SharedArrayBuffer;
}

export class Lacp {
  readonly config: LacpConfig;
  readonly buffer: SharedArrayBuffer;
  readonly #w: Int32Array;
  readonly #rx: Float64Array;
  /** Main thread only: when each member next sends. */
  readonly #txExpires: number[];

  /** A new LACP object with every member defaulted (at `nowMs`), or a view of `init`'s. */
  constructor(init: LacpConfig | LacpInit, nowMs = 0) {
    const config = "buffer" in init ? init.config : init;
    const n = config.members.length;
    this.config = config;
    const intBytes = (HEADER + n * MEMBER_WORDS) * 4;
    const rxOff = Math.ceil(intBytes / 8) * 8;
    this.buffer = "buffer" in init ? init.buffer : new SharedArrayBuffer(rxOff + n * 8);
    this.#w = new Int32Array(this.buffer, 0, HEADER + n * MEMBER_WORDS);
    this.#rx = new Float64Array(this.buffer, rxOff, n);
    this.#txExpires = config.members.map(() => 0);
    if (!("buffer" in init)) {
      // lacp_member_register: defaulted, then expired (the port id changed from 0).
      config.members.forEach((_, i) => {
        this.#setDefaulted(i);
        this.#w[this.#m(i) + M_CARRIER] = 1;
        if (config.active) this.#setExpired(i, nowMs);
      });
      this.#w[W_UPDATE] = 1;
    }
  }

  init(): LacpInit {
    return { config: this.config, buffer: this.buffer };
  }

  #m(i: number): number {
    return HEADER + i * MEMBER_WORDS;
  }

  #partner(i: number): LacpInfo {
    return infoAt(this.#w, this.#m(i) + M_PARTNER);
  }

  #setDefaulted(i: number): void {
    storeInfo(this.#w, this.#m(i) + M_PARTNER, zeroInfo());
    this.#w[W_UPDATE] = 1;
    this.#w[this.#m(i) + M_STATUS] = DEFAULTED;
  }

  #setExpired(i: number, nowMs: number): void {
    const at = this.#m(i) + M_PARTNER;
    this.#w[this.#m(i) + M_STATUS] = EXPIRED;
    const p = infoAt(this.#w, at);
    p.state = (p.state | STATE_TIME) & ~STATE_SYNC;
    storeInfo(this.#w, at, p);
    this.#rx[i] = nowMs + LACP_RX_MULTIPLIER * LACP_FAST_TIME_TX;
  }

  get negotiated(): boolean {
    return Atomics.load(this.#w, W_NEGOTIATED) !== 0;
  }

  #count(i: number, counter: number): void {
    this.#w[this.#m(i) + M_COUNTS + counter]++;
  }

  /**
   * lacp_process_packet: records the PDU in `frame` (an Ethernet frame)
   * received on member `i`; false when it is not a usable LACPDU. Every
   * frame counts as received; marker and unparsable ones count apart.
   */
  processPacket(i: number, frame: Uint8Array, nowMs: number): boolean {
    const w = this.#w;
    sleepLock(w, W_LOCK);
    try {
      if (i < 0 || i >= this.config.members.length) return false;
      this.#count(i, C_RX);
      const p = frame.subarray(14), subtype = pduSubtype(p);
      if (subtype === "marker") {
        this.#count(i, C_RX_MARKER);
        log.debug(`${this.config.name}: received a LACP marker PDU.`);
        return false;
      } else if (subtype === "bad") {
        this.#count(i, C_RX_BAD);
        log.warn(`${this.config.name}: received an unparsable LACP PDU.`);
        return false;
      }
      const m = this.#m(i);
      if (!w[m + M_CARRIER]) {
        log.info(
          `${this.config.members[i].name}: carrier state is DOWN, dropping received LACP PDU.`,
        );
        return false;
      }
      w[m + M_STATUS] = CURRENT;
      const txRate = this.config.fast ? LACP_FAST_TIME_TX : LACP_SLOW_TIME_TX;
      this.#rx[i] = nowMs + LACP_RX_MULTIPLIER * txRate;
      storeInfo(w, m + M_NTT, readInfo(p, 24));
      const actor = readInfo(p, 4);
      if (!sameInfo(this.#partner(i), actor)) {
        w[W_UPDATE] = 1;
        storeInfo(w, m + M_PARTNER, actor);
      }
      return true;
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }

  /** member_may_enable__. Lock held or main thread. */
  #mayEnable(i: number): boolean {
    const m = this.#m(i);
    return this.#w[m + M_ATTACHED] !== 0 &&
      ((this.#partner(i).state & STATE_SYNC) !== 0 ||
        (this.config.fallbackAb && this.#w[m + M_STATUS] === DEFAULTED));
  }

  /** lacp_member_may_enable. */
  memberMayEnable(i: number): boolean {
    sleepLock(this.#w, W_LOCK);
    try {
      return this.#mayEnable(i);
    } finally {
      sleepUnlock(this.#w, W_LOCK);
    }
  }

  /** member_get_actor. */
  #actor(i: number): LacpInfo {
    const c = this.config, m = this.#m(i), w = this.#w;
    let state = 0;
    if (c.active) state |= STATE_ACT;
    if (c.fast) state |= STATE_TIME;
    if (w[m + M_ATTACHED]) state |= STATE_SYNC;
    if (w[m + M_STATUS] === DEFAULTED) state |= STATE_DEF;
    if (w[m + M_STATUS] === EXPIRED) state |= STATE_EXP;
    if (c.members.length > 1) state |= STATE_AGG;
    if (w[m + M_ATTACHED] || !w[W_NEGOTIATED]) state |= STATE_COL | STATE_DIST;
    const key = c.members[0].key || c.members[0].portId;
    const mc = c.members[i];
    return {
      state,
      key,
      portPriority: mc.portPriority,
      portId: mc.portId,
      sysPriority: c.sysPriority,
      sysId: c.sysId,
    };
  }

  /** member_get_priority, as bytes that compare like OVS's memcmp. */
  #priority(i: number): number[] {
    const partner = this.#partner(i), c = this.config;
    const own = c.sysPriority < partner.sysPriority ||
      (c.sysPriority === partner.sysPriority && compareMac(c.sysId, partner.sysId) < 0);
    const v = own ? this.#actor(i) : partner;
    return [v.sysPriority, ...v.sysId, v.portPriority, v.portId];
  }

  /** lacp_update_attached. */
  #updateAttached(): void {
    const w = this.#w, c = this.config;
    w[W_UPDATE] = 0;
    const less = (a: number[], b: number[]) => {
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] < b[k];
      return false;
    };
    let lead = -1, leadCurrent = -1, leadEnable = false;
    let leadPri: number[] = [];
    c.members.forEach((_, i) => {
      const m = this.#m(i);
      if (w[m + M_STATUS] === CURRENT && w[m + M_ATTACHED]) {
        const pri = this.#priority(i);
        if (leadCurrent < 0 || less(pri, leadPri)) {
          leadCurrent = lead = i;
          leadPri = pri;
          leadEnable = true;
        }
      }
    });
    c.members.forEach((_, i) => {
      const m = this.#m(i);
      w[m + M_ATTACHED] = 0;
      const partner = this.#partner(i);
      if (compareMac(partner.sysId, c.sysId) === 0) return;
      if (w[m + M_STATUS] === DEFAULTED) {
        if (c.fallbackAb) w[m + M_ATTACHED] = 1;
        return;
      }
      const pri = this.#priority(i);
      const enable = this.#mayEnable(i);
      if (leadCurrent < 0 || compareMac(partner.sysId, this.#partner(leadCurrent).sysId) === 0) {
        w[m + M_ATTACHED] = 1;
      }
      if (
        w[m + M_ATTACHED] &&
        (lead < 0 || (enable && !leadEnable) || (enable === leadEnable && less(pri, leadPri)))
      ) {
        lead = i;
        leadEnable = enable;
        leadPri = pri;
      }
    });
    w[W_NEGOTIATED] = lead >= 0 ? 1 : 0;
    if (lead >= 0) {
      const lp = this.#partner(lead);
      c.members.forEach((_, i) => {
        const p = this.#partner(i), m = this.#m(i);
        if (
          (c.fallbackAb && w[m + M_STATUS] === DEFAULTED) || p.key !== lp.key ||
          compareMac(p.sysId, lp.sysId) !== 0
        ) w[m + M_ATTACHED] = 0;
      });
    }
  }

  /**
   * lacp_run, with each member's carrier (lacp_member_carrier_changed):
   * expires partners, recomputes attachment, and sends each member's PDU
   * through `send(i, pdu)` when due or when its actor information changed.
   */
  run(nowMs: number, carrier: (i: number) => boolean, send: (i: number, pdu: Uint8Array) => void) {
    const w = this.#w, c = this.config;
    sleepLock(w, W_LOCK);
    try {
      c.members.forEach((_, i) => {
        const m = this.#m(i);
        const up = carrier(i);
        if ((w[m + M_CARRIER] !== 0) !== up) {
          if (w[m + M_STATUS] === CURRENT || c.active) this.#setExpired(i, nowMs);
          w[m + M_CARRIER] = up ? 1 : 0;
          this.#count(i, C_CARRIER);
        }
        if (nowMs >= this.#rx[i]) {
          if (w[m + M_STATUS] === CURRENT) {
            this.#setExpired(i, nowMs);
            this.#count(i, C_EXPIRED);
          } else if (w[m + M_STATUS] === EXPIRED) {
            this.#setDefaulted(i);
            this.#rx[i] = Infinity;
            this.#count(i, C_DEFAULTED);
          }
        }
      });
      if (w[W_UPDATE]) this.#updateAttached();
      c.members.forEach((_, i) => {
        const m = this.#m(i);
        if (!w[m + M_CARRIER] || (!c.active && w[m + M_STATUS] === DEFAULTED)) return;
        const actor = this.#actor(i);
        if (nowMs >= this.#txExpires[i] || !txEqual(actor, infoAt(w, m + M_NTT))) {
          storeInfo(w, m + M_NTT, actor);
          const partner = this.#partner(i);
          send(i, composeLacpPdu(actor, partner));
          this.#count(i, C_TX);
          this.#txExpires[i] = nowMs +
            (partner.state & STATE_TIME ? LACP_FAST_TIME_TX : LACP_SLOW_TIME_TX);
        }
      });
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }

  /** Everything `lacp/show` and `lacp/show-stats` print, read under the lock. */
  snapshot(): LacpSnapshot {
    const w = this.#w, c = this.config;
    sleepLock(w, W_LOCK);
    try {
      return {
        config: c,
        negotiated: w[W_NEGOTIATED] !== 0,
        members: c.members.map((mc, i) => {
          const m = this.#m(i);
          return {
            name: mc.name,
            portId: mc.portId,
            portPriority: mc.portPriority,
            status: STATUS_NAMES[w[m + M_STATUS]],
            attached: w[m + M_ATTACHED] !== 0,
            mayEnable: this.#mayEnable(i),
            actor: this.#actor(i),
            partner: this.#partner(i),
            counts: LACP_COUNTER_LABELS.map((_, k) => w[m + M_COUNTS + k]),
          };
        }),
      };
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }
}

/** One LACP object as `snapshot` saw it. */
export interface LacpSnapshot {
  config: LacpConfig;
  negotiated: boolean;
  members: {
    name: string;
    portId: number;
    portPriority: number;
    status: string;
    attached: boolean;
    mayEnable: boolean;
    actor: LacpInfo;
    partner: LacpInfo;
    /** In LACP_COUNTER_LABELS' order. */
    counts: number[];
  }[];
}
