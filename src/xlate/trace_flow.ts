/**
 * The flow text of `ofproto/trace`: reading a bridge flow in ovs-ofctl
 * syntax (parse_ofp_exact_flow: every field exact, prerequisites checked in
 * order) and printing flows and megaflows the way OVS's trace does
 * (flow_format, match_format).
 */
import {
  bytesOf,
  F,
  type FlowKey,
  getUint,
  maskKey,
  newKey,
  setUint,
  wildcardsForPacket,
} from "../flow/mod.ts";
import {
  formatMatch,
  isProtocolName,
  type Match,
  mfByName,
  mfGet,
  OFPP_NONE,
  parseKeyValues,
  parseMatchItem,
  prereqOk,
} from "../ofproto/mod.ts";
import { fixVlanPresence } from "./actions.ts";
import type { XBridge } from "./bridge.ts";

const DEFAULT_PRIORITY = 0x8000;

/**
 * Parses `in_port=1,tcp,nw_dst=10.0.0.2,...` as parse_ofp_exact_flow does:
 * the key, and a mask covering each field named (the Ethernet type and
 * protocol for a protocol name). `portNumber` resolves a port name given
 * for in_port. Throws with OVS's message (`garbage: unknown field garbage`).
 */
export function parseExactMatch(
  s: string,
  portNumber: (name: string) => number | undefined,
): Match {
  const m: Match = { key: newKey(), mask: newKey() };
  const k = bytesOf(m.key), w = bytesOf(m.mask);
  for (const { key, value } of parseKeyValues(s)) {
    if (isProtocolName(key)) {
      if (w[F.dl_type.off]) throw new Error(`${s}: Ethernet type set multiple times`);
      const hadProto = w[F.nw_proto.off] !== 0;
      parseMatchItem(m, key, "");
      if (hadProto && w[F.nw_proto.off]) {
        throw new Error(`${s}: network protocol set multiple times`);
      }
      continue;
    }
    const fl = mfByName(key);
    if (!fl) throw new Error(`${s}: unknown field ${key}`);
    if (!prereqOk(fl.prereq, k)) throw new Error(`${s}: prerequisites not met for setting ${key}`);
    if (mfGet(fl, m.key) !== 0n) throw new Error(`${s}: field ${key} set multiple times`);
    const port = fl.name === "in_port" ? portNumber(value) : undefined;
    try {
      parseMatchItem(m, key, port !== undefined ? String(port) : value);
    } catch (e) {
      throw new Error(`${s}: bad value for ${key} (${(e as Error).message})`);
    }
    fixVlanPresence(k, fl);
  }
  return m;
}

/**
 * Parses a bridge flow for ofproto/trace (in_port as an OpenFlow port, by
 * number or by the bridge's port name; OFPP_NONE when absent).
 */
export function parseExactFlow(s: string, bridge: XBridge): FlowKey {
  const { key } = parseExactMatch(s, (name) => bridge.portByName(name)?.ofport);
  if (!getUint(bytesOf(key), F.in_port.off, 4)) setUint(bytesOf(key), F.in_port.off, 4, OFPP_NONE);
  return key;
}

/** Context fields flow_format leaves out when they are zero. */
const CONTEXT_FIELDS = [
  F.in_port,
  F.skb_priority,
  F.pkt_mark,
  F.recirc_id,
  F.dp_hash,
  F.ct_state,
  F.ct_zone,
  F.ct_mark,
  F.ct_label,
  F.ct_nw_proto,
  F.ct_tp_src,
  F.ct_tp_dst,
  F.ct_nw_src,
  F.ct_nw_dst,
  F.ct_ipv6_src,
  F.ct_ipv6_dst,
];

/** flow_format: every field of the packet, zero context fields left out. */
export function formatFlow(flow: FlowKey): string {
  const mask = newKey();
  wildcardsForPacket(flow, mask);
  const k = bytesOf(flow), w = bytesOf(mask);
  for (const span of CONTEXT_FIELDS) {
    if (k.subarray(span.off, span.off + span.len).every((b) => b === 0)) {
      w.fill(0, span.off, span.off + span.len);
    }
  }
  for (let i = 0; i < 16; i++) {
    const off = F.regs.off + 4 * i;
    w.fill(getUint(k, off, 4) ? 0xff : 0, off, off + 4);
  }
  const md = k.subarray(F.metadata.off, F.metadata.off + 8).some((b) => b !== 0);
  w.fill(md ? 0xff : 0, F.metadata.off, F.metadata.off + 8);
  const key = newKey();
  maskKey(key, flow, mask);
  return formatMatch({ key, mask }, DEFAULT_PRIORITY);
}

/** match_format of a megaflow: its recirc_id and packet type come first. */
export function formatMegaflow(flow: FlowKey, wc: FlowKey): string {
  const key = newKey();
  maskKey(key, flow, wc);
  return formatMatch({ key, mask: wc }, DEFAULT_PRIORITY);
}
