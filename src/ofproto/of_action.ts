/**
 * OpenFlow actions, as parsed from ovs-ofctl syntax and as translation
 * walks them. Each variant remembers the spelling needed to print it back
 * the way `ovs-ofctl dump-flows` does.
 */

/** Reserved OpenFlow 1.0 port numbers (OFPP_*), as 16-bit values. */
export const OFPP_MAX = 0xff00;
export const OFPP_IN_PORT = 0xfff8;
export const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
export const OFPP_FLOOD = 0xfffb;
export const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff;

/** A bit range of a field, as in `NXM_NX_REG0[0..15]` or `reg0[]`. */
export interface FieldRange {
  /** Field name in OVS's mf_field naming (e.g. "reg0", "eth_src", "ip_dst"). */
  field: string;
  ofs: number;
  nBits: number;
}

export type OfAction =
  | { type: "output"; port: number; maxLen?: number }
  | { type: "controller"; maxLen: number; reason?: string; id?: number }
  | { type: "enqueue"; port: number; queue: number }
  /** What enqueue becomes over OpenFlow 1.1+: set_queue, output, pop_queue. */
  | { type: "set_queue"; queue: number }
  | { type: "pop_queue" }
  /**
   * mod_dl_src, mod_nw_dst, mod_tp_src, mod_vlan_vid, ... (OF1.0 spellings).
   * `value` is in the OF1.0 action's units (mod_vlan_vid: the 12-bit VID;
   * mod_nw_tos: the whole TOS byte, ECN bits zero). `field` is the mf field
   * written (mod_tp_src on a UDP match writes "udp_src"; mod_nw_tos writes
   * "nw_tos"; mod_vlan_vid writes "dl_vlan" and, like OVS, pushes a VLAN
   * header first when the packet has none).
   */
  | { type: "mod"; name: string; field: string; value: bigint }
  | { type: "strip_vlan" }
  | { type: "push_vlan"; ethertype: number }
  | { type: "pop_vlan" }
  /** set_field:VALUE[/MASK]->FIELD */
  | { type: "set_field"; field: string; value: bigint; mask?: bigint }
  /** load:VALUE->DST[ofs..end] */
  | { type: "load"; dst: FieldRange; value: bigint }
  /** move:SRC[..]->DST[..] */
  | { type: "move"; src: FieldRange; dst: FieldRange }
  | { type: "dec_ttl" }
  /** No port: the packet's in_port (OFPP_IN_PORT); no table: the current table. */
  | { type: "resubmit"; port?: number; table?: number }
  | { type: "goto_table"; table: number }
  | { type: "write_metadata"; value: bigint; mask: bigint }
  | { type: "note"; bytes: Uint8Array }
  /** group:N (OFPACT_GROUP): the buckets of group N, as groups.ts defines them. */
  | { type: "group"; groupId: number };
