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
  /** output(port=N,max_len=M): the packet truncated to M bytes (OFPACT_OUTPUT_TRUNC). */
  | { type: "output_trunc"; port: number; maxLen: number }
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
  /**
   * No port: the packet's in_port (OFPP_IN_PORT); no table: the current
   * table. `ct`: look the table up with the connection's original
   * direction tuple (resubmit(,N,ct)).
   */
  | { type: "resubmit"; port?: number; table?: number; ct?: boolean }
  | { type: "goto_table"; table: number }
  | { type: "write_metadata"; value: bigint; mask: bigint }
  | { type: "note"; bytes: Uint8Array }
  /** group:N (OFPACT_GROUP): the buckets of group N, as groups.ts defines them. */
  | { type: "group"; groupId: number }
  | CtAction
  | NatAction
  | { type: "ct_clear" }
  /** learn(...): adds or refreshes a flow built from the packet (learn_action.ts). */
  | { type: "learn"; learn: LearnAction }
  /** fin_timeout(idle_timeout=,hard_timeout=): shorter timeouts once a TCP FIN or RST is seen. */
  | { type: "fin_timeout"; idle: number; hard: number }
  /** clone(ACTIONS): the actions on a copy of the packet; the original continues unchanged. */
  | { type: "clone"; actions: OfAction[] }
  /** sample(...): flow sampling towards an IPFIX collector set. */
  | {
    type: "sample";
    probability: number;
    collectorSetId: number;
    obsDomainId: number;
    obsPointId: number;
    /** OFPP_NONE when not given. */
    samplingPort: number;
    direction: "default" | "ingress" | "egress";
  }
  /** multipath(FIELDS,BASIS,ALGORITHM,N_LINKS,ARG,DST): a link number into DST. */
  | {
    type: "multipath";
    fields: HashFields;
    basis: number;
    algorithm: "modulo_n" | "hash_threshold" | "hrw" | "iter_hash";
    maxLink: number;
    arg: number;
    dst: FieldRange;
  }
  /** bundle / bundle_load: a live member chosen by hash or first-live; bundle_load has `dst`. */
  | {
    type: "bundle";
    fields: HashFields;
    basis: number;
    algorithm: "hrw" | "active_backup";
    members: number[];
    dst?: FieldRange;
  }
  /** check_pkt_larger(LEN)->DST: DST (one bit) := packet length > LEN. */
  | { type: "check_pkt_larger"; pktLen: number; dst: FieldRange };

/** NX_CT_RECIRC_NONE: a ct() without table= does not recirculate. */
export const CT_RECIRC_NONE = 0xff;

/**
 * ct(...) (OFPACT_CT): send the packet through the connection tracker,
 * committing it when asked, and fork a copy that resumes at `table`.
 * `actions` are the nested ones: a leading nat and the exec() list (only
 * writes of ct_mark and ct_label), in the order OVS keeps them.
 */
export interface CtAction {
  type: "ct";
  commit: boolean;
  force: boolean;
  /** Recirculation table, or CT_RECIRC_NONE. */
  table: number;
  /** An immediate zone, or the 16 bits of a field holding it. */
  zone: number | FieldRange;
  /** ALG helper port (21 ftp, 69 tftp), 0 for none. */
  alg: number;
  actions: OfAction[];
}

/** nat(...) inside ct() (OFPACT_NAT). */
export interface NatAction {
  type: "nat";
  /** NX_NAT_F_* bits: src 1, dst 2, persistent 4, hash 8, random 16. */
  flags: number;
  /** 4 or 6 when a range was given, else 0 (AF_UNSPEC). */
  af: 0 | 4 | 6;
  addrMin: bigint;
  /** 0 when no upper address was given. */
  addrMax: bigint;
  protoMin: number;
  protoMax: number;
}

export const NX_NAT_F_SRC = 1;
export const NX_NAT_F_DST = 2;
export const NX_NAT_F_PERSISTENT = 4;
export const NX_NAT_F_PROTO_HASH = 8;
export const NX_NAT_F_PROTO_RANDOM = 16;

/** The flow fields multipath and bundle hash (enum nx_hash_fields). */
export type HashFields =
  | "eth_src"
  | "symmetric_l4"
  | "symmetric_l3l4"
  | "symmetric_l3l4+udp"
  | "nw_src"
  | "nw_dst"
  | "symmetric_l3";

/** NX_LEARN_F_* flags. */
export const LEARN_F_SEND_FLOW_REM = 1 << 0;
export const LEARN_F_DELETE_LEARNED = 1 << 1;
export const LEARN_F_WRITE_RESULT = 1 << 2;

/**
 * One flow_mod_spec of a learn action: where `nBits` bits come from (a
 * field of the packet's flow, or an immediate value) and what they
 * become in the learned flow (a match, a load action, an output).
 */
export interface LearnSpec {
  src: FieldRange | { imm: bigint };
  dst: "match" | "load" | "output";
  /** The matched or loaded bits; unset for output. */
  dstField?: FieldRange;
  nBits: number;
}

/** struct ofpact_learn. */
export interface LearnAction {
  tableId: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  finIdleTimeout: number;
  finHardTimeout: number;
  cookie: bigint;
  /** LEARN_F_* bits. */
  flags: number;
  /** 0: no limit on the flows with this cookie in the table. */
  limit: number;
  resultDst?: FieldRange;
  specs: LearnSpec[];
}
