/**
 * ICMP connections, as OVS's lib/conntrack-icmp.c: an echo, timestamp or
 * information request (ICMPv6: echo request) may start one; it is
 * established once a reply is seen. The state is one word of the slot
 * (S_PSTATE). Allocates nothing.
 */
import { S_PSTATE } from "./_table.ts";
import { type CtTimeout, TM } from "./_timeouts.ts";
import { CT_UPDATE_VALID, CT_UPDATE_VALID_NEW } from "./tcp.ts";

const ICMPS_FIRST = 0, ICMPS_REPLY = 1;

/** icmp_conn_update: the slot at `b` sees a packet; returns CT_UPDATE_*. */
export function icmpConnUpdate(w: Int32Array, b: number, reply: boolean): number {
  if (reply && w[b + S_PSTATE] === ICMPS_FIRST) w[b + S_PSTATE] = ICMPS_REPLY;
  else if (w[b + S_PSTATE] === ICMPS_FIRST) return CT_UPDATE_VALID_NEW;
  return CT_UPDATE_VALID;
}

/** The timeout of the ICMP connection at slot base `b` in its state. */
export function icmpTimeout(w: Int32Array, b: number): CtTimeout {
  return w[b + S_PSTATE] === ICMPS_REPLY ? TM.ICMP_REPLY : TM.ICMP_FIRST;
}

/** icmp_valid_new / icmp6_valid_new: whether the ICMP message at `l4` may start a connection. */
export function icmpValidNew(p: Uint8Array, l4: number, v6: boolean): boolean {
  const type = p[l4];
  return v6 ? type === 128 : type === 8 || type === 15 || type === 13;
}
