/**
 * LACP, 802.3ad link aggregation control (lib/lacp.c): each member of a
 * bond with `lacp=active|passive` exchanges LACPDUs with its partner,
 * records the partner's actor information, and is attached (may carry
 * traffic) once the partners agree; the bond is then "negotiated".
 *
 * Thread-safety: as OVS's lacp mutex, one Atomics lock word guards the
 * shared state. Any translating thread records a received PDU
 * (`processPacket`, lacp_process_packet); the main thread runs timers,
 * attachment and transmission (`run`, lacp_run) and prints `lacp/show`.
 * Per-member transmit timers and counters of sent PDUs are the main
 * thread's own.
 */
import { sleepLock, sleepUnlock } from "../lib/mod.ts";
import {
  compareMac,
  composeLacpPdu,
  infoAt,
  LACP_PDU_LEN,
  type LacpInfo,
  macText,
  readInfo,
  sameInfo,
  STATE_ACT,
  STATE_AGG,
  STATE_COL,
  STATE_DEF,
  STATE_DIST,
  STATE_EXP,
  STATE_NAMES,
  STATE_SYNC,
  STATE_TIME,
  storeInfo,
  txEqual,
  zeroInfo,
} from "./_lacp_pdu.ts";

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
// status, attached, carrier, partner (7), ntt_actor (7), then per member
// one float64 rx timer (ms; Infinity: not running).
const W_LOCK = 0, W_NEGOTIATED = 1, W_UPDATE = 2, HEADER = 4;
const M_STATUS = 0, M_ATTACHED = 1, M_CARRIER = 2, M_PARTNER = 3, M_NTT = 10, MEMBER_WORDS = 17;

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
  /** Main thread only: when each member next sends, and PDU counts. */
  readonly #txExpires: number[];
  readonly txCount: number[];

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
    this.txCount = config.members.map(() => 0);
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

  /**
   * lacp_process_packet: records the PDU in `frame` (an Ethernet frame)
   * received on member `i`; false when it is not a usable LACPDU.
   */
  processPacket(i: number, frame: Uint8Array, nowMs: number): boolean {
    const w = this.#w;
    sleepLock(w, W_LOCK);
    try {
      const p = frame.subarray(14);
      if (
        p.length < LACP_PDU_LEN || p[0] !== 1 || p[2] !== 1 || p[3] !== 20 || p[22] !== 2 ||
        p[23] !== 20
      ) return false;
      const m = this.#m(i);
      if (!w[m + M_CARRIER]) return false;
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
        }
        if (nowMs >= this.#rx[i]) {
          if (w[m + M_STATUS] === CURRENT) this.#setExpired(i, nowMs);
          else if (w[m + M_STATUS] === EXPIRED) {
            this.#setDefaulted(i);
            this.#rx[i] = Infinity;
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
          this.txCount[i]++;
          this.#txExpires[i] = nowMs +
            (partner.state & STATE_TIME ? LACP_FAST_TIME_TX : LACP_SLOW_TIME_TX);
        }
      });
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }

  /** lacp_print_details. */
  show(): string {
    const w = this.#w, c = this.config;
    sleepLock(w, W_LOCK);
    try {
      const out = [
        `---- ${c.name} ----`,
        `  status: ${c.active ? "active" : "passive"}${w[W_NEGOTIATED] ? " negotiated" : ""}`,
        `  sys_id: ${macText(c.sysId)}`,
        `  sys_priority: ${c.sysPriority}`,
        `  aggregation key: ${c.members[0].key || c.members[0].portId}`,
        `  lacp_time: ${c.fast ? "fast" : "slow"}`,
      ];
      const order = c.members.map((mc, i) => ({ mc, i })).sort((a, b) =>
        a.mc.name < b.mc.name ? -1 : a.mc.name > b.mc.name ? 1 : 0
      );
      const state = (s: number) =>
        STATE_NAMES.filter(([bit]) => s & bit).map(([, n]) => ` ${n}`).join("");
      for (const { mc, i } of order) {
        const m = this.#m(i), a = this.#actor(i), p = this.#partner(i);
        out.push(
          "",
          `member: ${mc.name}: ${STATUS_NAMES[w[m + M_STATUS]]} ${
            w[m + M_ATTACHED] ? "attached" : "detached"
          }`,
          `  port_id: ${mc.portId}`,
          `  port_priority: ${mc.portPriority}`,
          `  may_enable: ${this.#mayEnable(i)}`,
          "",
          `  actor sys_id: ${macText(a.sysId)}`,
          `  actor sys_priority: ${a.sysPriority}`,
          `  actor port_id: ${a.portId}`,
          `  actor port_priority: ${a.portPriority}`,
          `  actor key: ${a.key}`,
          `  actor state:${state(a.state)}`,
          "",
          `  partner sys_id: ${macText(p.sysId)}`,
          `  partner sys_priority: ${p.sysPriority}`,
          `  partner port_id: ${p.portId}`,
          `  partner port_priority: ${p.portPriority}`,
          `  partner key: ${p.key}`,
          `  partner state:${state(p.state)}`,
        );
      }
      return out.join("\n") + "\n";
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }
}
