/**
 * Committing header changes (OVS commit_odp_actions): before each output,
 * the difference between the flow as the OpenFlow actions left it and the
 * "base" flow (what the packet looks like after the datapath actions
 * emitted so far) becomes datapath actions, in OVS's order: Ethernet, L3,
 * L4, VLAN, skb_priority, skb_mark. Then the base equals the flow.
 *
 * Per datapath key attribute, only the fields that changed are written. The
 * datapath supports masked sets, so a change is a `set_masked` whose mask
 * is the wildcard bits the actions set, unless those cover every writable
 * field exactly, which gives a plain `set` (and then every field of the
 * attribute becomes exact-match in the megaflow).
 */
import {
  F,
  type FieldSpan,
  FLOW_BYTES,
  FLOW_WORDS,
  type FlowKey,
  getUint,
  type OdpAction,
  type OdpSetAttr,
  VLAN_CFI,
  vlanOffset,
} from "../flow/mod.ts";
import { SLOW_ACTION } from "./context.ts";

interface AttrField {
  readonly span: FieldSpan;
  /** The datapath cannot rewrite it: never in a set's mask. */
  readonly readOnly?: boolean;
  /** Bits that count for "exact" (ipv6_label has 20 of 32). */
  readonly exact?: number;
}

const ro = (span: FieldSpan): AttrField => ({ span, readOnly: true });
const rw = (span: FieldSpan): AttrField => ({ span });

const ETH: readonly AttrField[] = [rw(F.dl_src), rw(F.dl_dst)];
const IPV4: readonly AttrField[] = [
  rw(F.nw_src),
  rw(F.nw_dst),
  ro(F.nw_proto),
  rw(F.nw_tos),
  rw(F.nw_ttl),
  ro(F.nw_frag),
];
const IPV6: readonly AttrField[] = [
  rw(F.ipv6_src),
  rw(F.ipv6_dst),
  { span: F.ipv6_label, exact: 0xfffff },
  ro(F.nw_proto),
  rw(F.nw_tos),
  rw(F.nw_ttl),
  ro(F.nw_frag),
];
const ARP: readonly AttrField[] = [
  rw(F.nw_src),
  rw(F.nw_dst),
  rw(F.nw_proto),
  rw(F.arp_sha),
  rw(F.arp_tha),
];
const ND: readonly AttrField[] = [rw(F.nd_target), rw(F.arp_sha), rw(F.arp_tha)];
const TP: readonly AttrField[] = [rw(F.tp_src), rw(F.tp_dst)];
/** ICMP type and code live in the low bytes of tp_src and tp_dst. */
const ICMP: readonly AttrField[] = [
  rw({ off: F.tp_src.off + 1, len: 1 }),
  rw({ off: F.tp_dst.off + 1, len: 1 }),
];
const PRIORITY: readonly AttrField[] = [rw(F.skb_priority)];
const MARK: readonly AttrField[] = [rw(F.pkt_mark)];

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;

function bytesEqual(a: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fieldExact(m: Uint8Array, fl: AttrField): boolean {
  const { off, len } = fl.span;
  if (fl.exact !== undefined) return (getUint(m, off, len) & fl.exact) === fl.exact;
  for (let i = off; i < off + len; i++) if (m[i] !== 0xff) return false;
  return true;
}

/** Every key word that some attribute's commit compares, the VLAN headers' too, ascending. */
const COMMIT_WORDS: Int32Array = (() => {
  const words = new Set<number>();
  const add = (off: number, len: number) => {
    for (let w = off >> 2; w <= (off + len - 1) >> 2; w++) words.add(w);
  };
  for (const fields of [ETH, IPV4, IPV6, ARP, ND, TP, ICMP, PRIORITY, MARK]) {
    for (const fl of fields) add(fl.span.off, fl.span.len);
  }
  add(F.vlan0_tpid.off, F.vlan1_tci.off + 2 - F.vlan0_tpid.off);
  return Int32Array.from([...words].sort((a, b) => a - b));
})();

/** Where commit writes: the flow, base and wildcards as byte views. */
export interface CommitState {
  readonly f: Uint8Array;
  readonly b: Uint8Array;
  readonly w: Uint8Array;
  readonly actions: OdpAction[];
  /** The flow and base as words (the same memory as `f` and `b`), when the caller has them. */
  readonly flow?: FlowKey;
  readonly base?: FlowKey;
}

/**
 * Whether the flow is the base in every word a commit compares: then no
 * attribute differs and the VLAN headers are the same, so there is
 * nothing to emit or widen.
 */
function unchanged(s: CommitState): boolean {
  const flow = s.flow, base = s.base;
  if (flow === undefined || base === undefined) return false;
  for (let j = 0; j < COMMIT_WORDS.length; j++) {
    const w = COMMIT_WORDS[j];
    if (flow[w] !== base[w]) return false;
  }
  return true;
}

/**
 * Commits one attribute (OVS commit()). Returns true if an action was
 * emitted.
 */
function commitAttr(
  s: CommitState,
  attr: OdpSetAttr,
  fields: readonly AttrField[],
  useMasked: boolean,
): boolean {
  const { f, b, w } = s;
  let differ = false;
  for (const fl of fields) {
    if (!bytesEqual(f, b, fl.span.off, fl.span.len)) differ = true;
  }
  if (!differ) return false;
  // Key and mask share one buffer: allocating buffers dominates a commit.
  const buf = new ArrayBuffer(FLOW_BYTES * 2);
  const key = new Uint32Array(buf, 0, FLOW_WORDS);
  const mask = new Uint32Array(buf, FLOW_BYTES, FLOW_WORDS);
  const k = new Uint8Array(buf, 0, FLOW_BYTES);
  const m = new Uint8Array(buf, FLOW_BYTES, FLOW_BYTES);
  for (const fl of fields) {
    const { off, len } = fl.span;
    if (!fl.readOnly && !bytesEqual(f, b, off, len)) m.set(w.subarray(off, off + len), off);
  }
  // A read-only field in the attribute makes the mask inexact by itself.
  const fully = fields.every((fl) => !fl.readOnly && fieldExact(m, fl));
  if (useMasked && !fully) {
    for (const fl of fields) {
      const { off, len } = fl.span;
      for (let i = off; i < off + len; i++) k[i] = f[i] & m[i];
    }
    s.actions.push({ type: "set_masked", attr, key, mask });
  } else {
    for (const fl of fields) {
      const { off, len } = fl.span;
      k.set(f.subarray(off, off + len), off);
      w.fill(0xff, off, off + len);
    }
    if (fields === IPV4 || fields === IPV6) w[F.nw_frag.off] = 3;
    s.actions.push({ type: "set", attr, key });
  }
  for (const fl of fields) {
    const { off, len } = fl.span;
    b.set(f.subarray(off, off + len), off);
  }
  return true;
}

const tci = (x: Uint8Array, i: number) => getUint(x, vlanOffset(i) + 2, 2);
const qtagEqual = (a: Uint8Array, i: number, c: Uint8Array, j: number) =>
  bytesEqual4(a, vlanOffset(i), c, vlanOffset(j));

function bytesEqual4(a: Uint8Array, ao: number, c: Uint8Array, co: number): boolean {
  return a[ao] === c[co] && a[ao + 1] === c[co + 1] && a[ao + 2] === c[co + 2] &&
    a[ao + 3] === c[co + 3];
}

/** VLAN headers present (CFI set), outermost first (flow_count_vlan_headers). */
export function countVlans(x: Uint8Array): number {
  let n = 0;
  while (n < 2 && (tci(x, n) & VLAN_CFI)) n++;
  return n;
}

/** Pops base VLANs that differ from the flow's, then pushes the flow's. */
function commitVlan(s: CommitState): void {
  const { f, b, w } = s;
  let bn = countVlans(b) - 1;
  let fn = countVlans(f) - 1;
  // Headers shared from the inside out need not be touched.
  while (bn >= 0 && fn >= 0 && qtagEqual(b, bn, f, fn)) {
    bn--;
    fn--;
  }
  for (; bn >= 0; bn--) {
    s.actions.push({ type: "pop_vlan" });
    w.fill(0xff, vlanOffset(bn), vlanOffset(bn) + 4);
  }
  for (; fn >= 0; fn--) {
    const off = vlanOffset(fn);
    s.actions.push({ type: "push_vlan", tpid: getUint(f, off, 2), tci: getUint(f, off + 2, 2) });
  }
  // Byte by byte: a subarray per commit would be an allocation per output.
  for (let i = F.vlan0_tpid.off; i < F.vlan1_tci.off + 2; i++) b[i] = f[i];
}

/**
 * Emits the datapath actions that turn `base` into `flow` and widens the
 * wildcards as OVS does. Returns slow-path reasons (ARP and ND rewrites).
 */
export function commitOdpActions(s: CommitState, useMasked = true): number {
  // Most outputs follow no header rewrite: a compare of the words the
  // attributes cover then stands for their field by field compares.
  if (unchanged(s)) return 0;
  const { f, b } = s;
  let slow = 0;
  commitAttr(s, "eth", ETH, useMasked);
  // Without an L3 header (nw_proto 0) there is nothing to rewrite at L3/L4.
  if (f[F.nw_proto.off] !== 0) {
    const dlType = getUint(b, F.dl_type.off, 2);
    if (dlType === ETH_TYPE_IP) commitAttr(s, "ipv4", IPV4, useMasked);
    else if (dlType === ETH_TYPE_IPV6) {
      commitAttr(s, "ipv6", IPV6, useMasked);
      // commit_set_nd_action: the datapath cannot rewrite ND fields.
      if (b[F.nw_proto.off] === 58 && commitAttr(s, "nd", ND, useMasked)) slow |= SLOW_ACTION;
    } else if (dlType === ETH_TYPE_ARP && commitAttr(s, "arp", ARP, true)) slow |= SLOW_ACTION;
    if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
      const proto = f[F.nw_proto.off];
      const attr = proto === 6 ? "tcp" : proto === 17 ? "udp" : proto === 132 ? "sctp" : null;
      if (attr) commitAttr(s, attr, TP, useMasked);
    }
  }
  // ICMP rewrites are never masked and the datapath cannot do them.
  const flowType = getUint(f, F.dl_type.off, 2), proto = f[F.nw_proto.off];
  const icmp = flowType === ETH_TYPE_IP && proto === 1
    ? "icmp"
    : flowType === ETH_TYPE_IPV6 && proto === 58
    ? "icmpv6"
    : null;
  if (icmp && commitAttr(s, icmp, ICMP, false)) slow |= SLOW_ACTION;
  commitVlan(s);
  commitAttr(s, "skb_priority", PRIORITY, useMasked);
  commitAttr(s, "skb_mark", MARK, useMasked);
  return slow;
}

/** For tests and callers that hold keys rather than byte views. */
export function commitKeys(
  flow: FlowKey,
  base: FlowKey,
  wc: FlowKey,
  actions: OdpAction[],
  useMasked = true,
): number {
  const view = (k: FlowKey) => new Uint8Array(k.buffer, k.byteOffset, k.byteLength);
  return commitOdpActions(
    { f: view(flow), b: view(base), w: view(wc), actions, flow, base },
    useMasked,
  );
}
