/**
 * Datapath actions, as translation produces them and the datapath runs
 * them. `set` and `set_masked` carry the new header values in the flow key
 * layout, restricted to the fields of one datapath key attribute (`attr`);
 * the printer shows them the way OVS's format_odp_action does.
 *
 * An empty action list means drop (printed `drop`).
 */
import type { FlowKey } from "./key.ts";

/** Datapath key attributes that a set action can rewrite. */
export type OdpSetAttr =
  | "skb_priority"
  | "skb_mark"
  | "eth"
  | "mpls"
  | "ipv4"
  | "ipv6"
  | "tcp"
  | "udp"
  | "sctp"
  | "icmp"
  | "icmpv6"
  | "arp"
  | "nd"
  /** ND reserved field and option type (OVS_KEY_ATTR_ND_EXTENSIONS). */
  | "nd_ext";

export type OdpAction =
  | { type: "output"; port: number }
  | {
    type: "userspace";
    pid: number;
    /** OVS's user_action_cookie bytes, printed as userdata(...) or decoded. */
    userdata?: Uint8Array;
    /** `actions` flag: the upcall carries the actions (slow path). */
    actions?: boolean;
  }
  | { type: "set"; attr: OdpSetAttr; key: FlowKey }
  | { type: "set_masked"; attr: OdpSetAttr; key: FlowKey; mask: FlowKey }
  | { type: "push_vlan"; tpid: number; tci: number }
  | { type: "pop_vlan" }
  | { type: "recirc"; id: number }
  | { type: "hash"; alg: number; basis: number }
  | { type: "trunc"; maxLen: number }
  | OdpCtAction
  | { type: "ct_clear" }
  /** check_pkt_len(size=N,gt(...),le(...)): one branch by the packet's length. */
  | { type: "check_pkt_len"; size: number; gt: OdpAction[]; le: OdpAction[] }
  /**
   * clone(...): the nested actions run on a copy of the packet; the
   * actions after it see the packet as it was.
   */
  | { type: "clone"; actions: OdpAction[] }
  /**
   * Actions udpif passes through as their text: parsed, printed and
   * stored, not executed by the userspace datapath here.
   */
  | { type: OdpTextActionType; text: string };

/** The action kinds kept as text (see above). */
export const ODP_TEXT_ACTIONS = [
  "sample",
  "add_mpls",
] as const;
export type OdpTextActionType = typeof ODP_TEXT_ACTIONS[number];

/**
 * NAT of a datapath `ct` action (OVS_CT_ATTR_NAT). `kind` null is a bare
 * `nat`: keep whatever NAT the connection already has.
 */
export interface OdpCtNat {
  kind: "src" | "dst" | null;
  /** Bytes of the addresses: 0 (none given), 4 or 16. */
  addrLen: 0 | 4 | 16;
  /** The range's first address, network order (addrLen bytes used). */
  addrMin: Uint8Array;
  /** The range's last address; all zero when the range is one address. */
  addrMax: Uint8Array;
  /** Port range; 0 when not given (protoMax 0: one port). */
  protoMin: number;
  protoMax: number;
  persistent: boolean;
  hash: boolean;
  random: boolean;
}

/** The datapath conntrack action (OVS_ACTION_ATTR_CT). */
export interface OdpCtAction {
  type: "ct";
  commit: boolean;
  forceCommit: boolean;
  zone: number;
  mark: number;
  /** 0: the action sets no mark. */
  markMask: number;
  /** 16 value bytes then 16 mask bytes, big-endian; null: no label. */
  label: Uint8Array | null;
  helper: string | null;
  timeout: string | null;
  /** OVS_CT_ATTR_EVENTMASK: never printed; the userspace datapath ignores it. */
  eventmask: number | null;
  nat: OdpCtNat | null;
}
