/**
 * LACPDUs and lacp_info (lib/lacp.c struct lacp_pdu, struct lacp_info,
 * compose_lacp_pdu, info_tx_equal, ds_put_lacp_state's names): the wire
 * layout, and how lacp.ts keeps a lacp_info in seven shared words.
 *
 * Thread-safety: pure functions; callers hold lacp.ts's lock.
 */

/** struct lacp_pdu. */
export const LACP_PDU_LEN = 110;

export const STATE_ACT = 0x01;
export const STATE_TIME = 0x02;
export const STATE_AGG = 0x04;
export const STATE_SYNC = 0x08;
export const STATE_COL = 0x10;
export const STATE_DIST = 0x20;
export const STATE_DEF = 0x40;
export const STATE_EXP = 0x80;
export const STATE_NAMES: [number, string][] = [
  [STATE_ACT, "activity"],
  [STATE_TIME, "timeout"],
  [STATE_AGG, "aggregation"],
  [STATE_SYNC, "synchronized"],
  [STATE_COL, "collecting"],
  [STATE_DIST, "distributing"],
  [STATE_DEF, "defaulted"],
  [STATE_EXP, "expired"],
];
/** struct lacp_info, fields in host order; sysId as 6 bytes. */
export interface LacpInfo {
  sysPriority: number;
  sysId: Uint8Array;
  key: number;
  portPriority: number;
  portId: number;
  state: number;
}

/**
 * A lacp_info in 7 words: sys_priority << 16 | state, then per id byte
 * (extra << 8 | byte), the extras being key, port priority and port id.
 */
export function infoAt(w: Int32Array, at: number): LacpInfo {
  const id = new Uint8Array(6);
  for (let i = 0; i < 6; i++) id[i] = w[at + 1 + i] & 0xff;
  const extra = (i: number) => (w[at + 1 + i] >>> 8) & 0xffff;
  return {
    sysPriority: (w[at] >>> 16) & 0xffff,
    sysId: id,
    key: extra(0),
    portPriority: extra(1),
    portId: extra(2),
    state: w[at] & 0xff,
  };
}
export function storeInfo(w: Int32Array, at: number, v: LacpInfo): void {
  w[at] = (v.sysPriority << 16) | (v.state & 0xff);
  const extra = [v.key, v.portPriority, v.portId, 0, 0, 0];
  for (let i = 0; i < 6; i++) w[at + 1 + i] = (extra[i] << 8) | v.sysId[i];
}
export const zeroInfo = (): LacpInfo => ({
  sysPriority: 0,
  sysId: new Uint8Array(6),
  key: 0,
  portPriority: 0,
  portId: 0,
  state: 0,
});
export function sameInfo(a: LacpInfo, b: LacpInfo): boolean {
  return a.sysPriority === b.sysPriority && a.key === b.key && a.portPriority === b.portPriority &&
    a.portId === b.portId && a.state === b.state && a.sysId.every((x, i) => x === b.sysId[i]);
}
/** info_tx_equal: no difference that needs a PDU sent. */
export function txEqual(a: LacpInfo, b: LacpInfo): boolean {
  return !((a.state ^ b.state) & (STATE_ACT | STATE_TIME | STATE_SYNC | STATE_AGG)) &&
    a.portId === b.portId && a.portPriority === b.portPriority && a.key === b.key &&
    a.sysPriority === b.sysPriority && a.sysId.every((x, i) => x === b.sysId[i]);
}
export const macText = (b: Uint8Array) =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
export const compareMac = (a: Uint8Array, b: Uint8Array) => {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};

export function readInfo(p: Uint8Array, off: number): LacpInfo {
  const u16 = (o: number) => p[off + o] << 8 | p[off + o + 1];
  return {
    sysPriority: u16(0),
    sysId: p.slice(off + 2, off + 8),
    key: u16(8),
    portPriority: u16(10),
    portId: u16(12),
    state: p[off + 14],
  };
}
export function writeInfo(p: Uint8Array, off: number, v: LacpInfo): void {
  const u16 = (o: number, x: number) => {
    p[off + o] = x >> 8;
    p[off + o + 1] = x & 0xff;
  };
  u16(0, v.sysPriority);
  p.set(v.sysId, off + 2);
  u16(8, v.key);
  u16(10, v.portPriority);
  u16(12, v.portId);
  p[off + 14] = v.state;
}

/** compose_lacp_pdu. */
export function composeLacpPdu(actor: LacpInfo, partner: LacpInfo): Uint8Array {
  const p = new Uint8Array(LACP_PDU_LEN);
  p.set([1, 1, 1, 20]);
  writeInfo(p, 4, actor);
  p.set([2, 20], 22);
  writeInfo(p, 24, partner);
  p.set([3, 16], 42);
  return p;
}

/** A member's counters, in lacp_print_stats' order, with its labels. */
export const LACP_COUNTER_LABELS = [
  "TX PDUs",
  "RX PDUs",
  "RX Bad PDUs",
  "RX Marker Request PDUs",
  "Link Expired",
  "Link Defaulted",
  "Carrier Status Changed",
] as const;
export const C_TX = 0, C_RX = 1, C_RX_BAD = 2, C_RX_MARKER = 3, C_EXPIRED = 4;
export const C_DEFAULTED = 5, C_CARRIER = 6;

/** enum pdu_subtype's SUBTYPE_MARKER. */
const SUBTYPE_MARKER = 2;

/**
 * parse_lacp_packet's verdict on `p` (from the Ethernet payload on): a
 * LACPDU with actor and partner TLVs, a marker PDU, or unparsable.
 */
export function pduSubtype(p: Uint8Array): "lacp" | "marker" | "bad" {
  if (p.length < LACP_PDU_LEN) return "bad";
  if (p[0] === 1 && p[2] === 1 && p[3] === 20 && p[22] === 2 && p[23] === 20) return "lacp";
  return p[0] === SUBTYPE_MARKER ? "marker" : "bad";
}
