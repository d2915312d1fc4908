/**
 * ofproto/trace across conntrack recirculations (ofproto-dpif-trace.c:
 * ofproto_trace_recirc_node, parse_ct_state, validate_ct_state): each
 * ct(table=N) the trace meets is followed by a second pass that resumes
 * at table N with the ct_state `--ct-next` gives (default trk|new), the
 * ct() zone, and, when the ct() did NAT, the first address and port of
 * its range in place of the packet's.
 */
import {
  bytesOf,
  CS_ESTABLISHED,
  CS_INVALID,
  CS_NEW,
  CS_REPLY_DIR,
  CS_TRACKED,
  CT_STATE_NAMES,
  F,
  formatFlags,
  getUint,
  setUint,
} from "../flow/mod.ts";
import {
  formatIpv4,
  formatIpv6,
  type NatAction,
  NX_NAT_F_DST,
  NX_NAT_F_SRC,
} from "../ofproto/mod.ts";
import type { TraceRecirc } from "./context.ts";

/** parse_ct_state and validate_ct_state for `--ct-next`: flag names separated by `,` or spaces. */
export function parseCtNext(s: string): number {
  let state = 0;
  for (const name of s.split(/[, ]+/).filter((n) => n !== "")) {
    const bit = CT_STATE_NAMES.find(([, n]) => n === name)?.[0];
    if (bit === undefined) throw new Error(`${name}: unknown connection tracking state flag`);
    state |= bit;
  }
  const text = formatFlags(CT_STATE_NAMES, state);
  const errors: string[] = [];
  if (state && !(state & CS_TRACKED)) {
    errors.push(`${text}: invalid connection state: If "trk" is unset, no other flags are set`);
  }
  if (state & CS_INVALID && state & ~(CS_TRACKED | CS_INVALID)) {
    errors.push(
      `${text}: invalid connection state: when "inv" is set, only "trk" may also be set`,
    );
  }
  if (state & CS_NEW && state & CS_ESTABLISHED) {
    errors.push(`${text}: invalid connection state: "new" and "est" are mutually exclusive`);
  }
  if (state & CS_NEW && state & CS_REPLY_DIR) {
    errors.push(`${text}: invalid connection state: "new" and "rpy" are mutually exclusive`);
  }
  if (errors.length) throw new Error(errors.join("\n"));
  return state;
}

/** oftrace_print_ip_flow: the addresses and ports NAT may change. */
function ipFlow(f: Uint8Array, af: number): string {
  const port = (span: { off: number }) => getUint(f, span.off, 2);
  if (af === 4) {
    const ip = (off: number) => formatIpv4(BigInt(getUint(f, off, 4)));
    return `nw_src=${ip(F.nw_src.off)},tp_src=${port(F.tp_src)},` +
      `nw_dst=${ip(F.nw_dst.off)},tp_dst=${port(F.tp_dst)}`;
  }
  if (af === 6) {
    const ip = (off: number) => {
      let v = 0n;
      for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(f[off + i]);
      return `[${formatIpv6(v)}]`;
    };
    return `ipv6_src=${ip(F.ipv6_src.off)},tp_src=${port(F.tp_src)},` +
      `ipv6_dst=${ip(F.ipv6_dst.off)},tp_dst=${port(F.tp_dst)}`;
  }
  return "";
}

function setAddr(f: Uint8Array, off: number, v: bigint, len: number): void {
  for (let i = len - 1; i >= 0; i--, v >>= 8n) f[off + i] = Number(v & 0xffn);
}

/** Rewrites the flow as the NAT would, to its range's first address and port. */
function simulateNat(f: Uint8Array, nat: NatAction): string {
  let text = "Replacing src/dst IP/ports to simulate NAT:\n";
  text += ` Initial flow: ${ipFlow(f, nat.af)}\n`;
  for (
    const [flag, v4, v6, tp] of [
      [NX_NAT_F_SRC, F.nw_src, F.ipv6_src, F.tp_src],
      [NX_NAT_F_DST, F.nw_dst, F.ipv6_dst, F.tp_dst],
    ] as const
  ) {
    if (!(nat.flags & flag)) continue;
    if (nat.af === 4) setAddr(f, v4.off, nat.addrMin, 4);
    else if (nat.af === 6) setAddr(f, v6.off, nat.addrMin, 16);
    if (nat.af && nat.protoMin) setUint(f, tp.off, 2, nat.protoMin);
  }
  return text + ` Modified flow: ${ipFlow(f, nat.af)}\n`;
}

const RULE = "=".repeat(79);

/**
 * The banner before a recirculation's pass; sets the node's flow up for
 * it (ct_state from `ctNext`, consumed in order, and the NAT).
 */
export function recircBanner(node: TraceRecirc, ctNext: number[]): string {
  const f = bytesOf(node.flow);
  let text = `\n\n${RULE}\nrecirc(0x${node.id.toString(16)})`;
  const next = ctNext.shift();
  if (next === undefined) {
    text += " - resume conntrack with default ct_state=trk|new (use --ct-next to customize)";
    f[F.ct_state.off] = CS_TRACKED | CS_NEW;
  } else {
    text += ` - resume conntrack with ct_state=${formatFlags(CT_STATE_NAMES, next)}`;
    f[F.ct_state.off] = next;
  }
  text += "\n";
  if (node.nat) text += simulateNat(f, node.nat);
  return text + `${RULE}\n\n`;
}
