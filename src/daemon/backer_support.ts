/**
 * What a bridge's datapath can do, learned the way ofproto-dpif's
 * `check_support()` (ofproto/ofproto-dpif.c, OVS 3.1) learns it when it
 * opens a datapath backer: by asking the datapath, through the counted
 * dpif layer, to take test flows (`Dpif.probeFeature`: a put, and when
 * that works a get and a delete) and to execute test packets (a probe
 * execute, which the datapath checks and drops). The answers are whatever
 * our netdev datapath makes of those requests; nothing here decides them.
 *
 * The probes, in OVS's order, and what each one asks:
 *
 * - recirculation: a key with recirc_id 1 and dp_hash 1.
 * - VLAN headers: keys with 1, then 2 stacked 802.1Q headers, until one
 *   is refused. The datapath reads keys with its VLAN limit
 *   (other_config:vlan-limit, default 1), so by default 2 headers fail.
 * - MPLS depth: keys whose label stack has 1, 2, then 3 entries.
 * - masked set: execute `set(eth(...))` with a partial mask.
 * - truncate: execute `trunc(15),1`.
 * - UFID: a key put under its own UFID, which the get must give back.
 * - tunnel push/pop: not probed; userspace datapaths have it.
 * - clone: execute an empty `clone()`.
 * - sample nesting: keys with `sample` actions nested 3 to 9 deep.
 * - ct eventmask: execute `ct(eventmask=...)` on a UDP packet.
 * - ct_clear: a flow whose action is `ct_clear`.
 * - dp_hash algorithms: `hash(sym_l4(0))` (algorithm 1, the last one).
 * - check_pkt_len: a flow with an empty `check_pkt_len`.
 * - ct timeout policy: execute `ct(timeout=...)` on a UDP packet.
 * - explicit drop, balance-tcp output, all-zero SNAT: not probed; what
 *   the userspace datapath class offers.
 * - add_mpls: a flow with an `add_mpls` action.
 * - ct_state, ct_zone, ct_mark, ct_label, ct_state_nat, ct_orig_tuple,
 *   ct_orig_tuple6: keys with that conntrack field set.
 * - ND extensions: execute `set(nd_ext(...))` with a partial mask.
 *
 * Each probe logs its answer as OVS does (`ofproto_dpif|INFO|...`), so
 * coverage (dpif_flow_put/get/del, dpif_execute, flow_extract) and the
 * log read as ovs-vswitchd's after start-up.
 *
 * Thread-safety: main thread, once per bridge, before any port is added.
 */
import type { Dpif } from "../dpif/mod.ts";
import {
  bytesOf,
  F,
  FLOW_MAX_MPLS_LABELS,
  FLOW_MAX_VLAN_HEADERS,
  flowCompose,
  flowExtract,
  mplsOffset,
  newCtAction,
  newKey,
  type OdpAction,
  setField,
  setUint,
  ufidFromKey,
  vlanOffset,
} from "../flow/mod.ts";
import { coverageCounter, getLogger } from "../lib/mod.ts";

/** Counted per call of flow_extract, as the probes that build packets make. */
const covFlowExtract = coverageCounter("flow_extract");
const log = getLogger("ofproto_dpif");

/** OVS's FLOW_MAX_SAMPLE_NESTING. */
const FLOW_MAX_SAMPLE_NESTING = 10;
/** Algorithms after OVS_HASH_ALG_L4 (0): OVS_HASH_ALG_SYM_L4 (1). */
const MAX_HASH_ALG = 1;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_MPLS = 0x8847;
const VLAN_CFI = 0x1000;
const MPLS_BOS = 0x100;
const CS_NEW = 0x01, CS_TRACKED = 0x20, CS_SRC_NAT = 0x40;

/** `struct dpif_backer_support`: the datapath's runtime features. */
export interface BackerSupport {
  maskedSetAction: boolean;
  tnlPushPop: boolean;
  ufid: boolean;
  trunc: boolean;
  clone: boolean;
  sampleNesting: number;
  ctEventmask: boolean;
  ctClear: boolean;
  maxHashAlg: number;
  checkPktLen: boolean;
  ctTimeout: boolean;
  explicitDropAction: boolean;
  lbOutputAction: boolean;
  ctZeroSnat: boolean;
  addMpls: boolean;
  maxVlanHeaders: number;
  maxMplsDepth: number;
  recirc: boolean;
  ctState: boolean;
  ctZone: boolean;
  ctMark: boolean;
  ctLabel: boolean;
  ctStateNat: boolean;
  ctOrigTuple: boolean;
  ctOrigTuple6: boolean;
  ndExt: boolean;
}

const supports = (yes: boolean) => yes ? "supports" : "does not support";

/** A key of zeros but for `fill`; in_port 0 is the datapath's own port. */
function probeKey(fill: (b: Uint8Array) => void): Uint32Array {
  const key = newKey();
  fill(bytesOf(key));
  return key;
}

function withDlType(dlType: number, field: typeof F[keyof typeof F], value: number) {
  return probeKey((b) => {
    setField(b, F.dl_type, dlType);
    // ct_label is 16 bytes, big-endian: its low 64 bits end the field.
    if (field.len > 4) setUint(b, field.off + field.len - 4, 4, value);
    else setField(b, field, value);
  });
}

/** A 14-byte Ethernet frame of zeros, type 0x1234, as flow_extract()ed by OVS's probes. */
function dummyEthernet(): Uint8Array {
  const pkt = new Uint8Array(14);
  pkt[12] = 0x12;
  pkt[13] = 0x34;
  flowExtract(pkt, pkt.length, 0, newKey());
  covFlowExtract.inc();
  return pkt;
}

/** A UDP packet between 127.255.255.255 and itself, ports 0: no real connection. */
function dummyUdp(): Uint8Array {
  const key = probeKey((b) => {
    setField(b, F.dl_type, ETH_TYPE_IP);
    setField(b, F.nw_proto, 17);
    setField(b, F.nw_ttl, 64);
    setField(b, F.nw_src, 0x7fffffff);
    setField(b, F.nw_dst, 0x7fffffff);
  });
  const out = new Uint8Array(256);
  return out.slice(0, flowCompose(key, out, 0, 64));
}

/** A masked set of `attr` whose key bytes are 0x53 and mask bytes 0x7f. */
function maskedSet(attr: "eth" | "nd_ext"): OdpAction {
  const key = newKey(), mask = newKey();
  bytesOf(key).fill(0x53);
  bytesOf(mask).fill(0x7f);
  return { type: "set_masked", attr, key, mask };
}

function sampleNested(n: number): OdpAction {
  let text = "1";
  for (let i = 0; i < n; i++) text = `sample(sample=100.0%,actions(${text}))`;
  return n === 0 ? { type: "output", port: 1 } : { type: "sample", text };
}

function execProbe(dpif: Dpif, packet: Uint8Array, actions: OdpAction[]): boolean {
  return dpif.execute(packet, 0, actions, true) === 0;
}

function checkVlanHeaders(dpif: Dpif): number {
  let n = 0;
  for (; n < FLOW_MAX_VLAN_HEADERS; n++) {
    const depth = n + 1;
    const key = probeKey((b) => {
      setField(b, F.dl_type, ETH_TYPE_IP);
      for (let i = 0; i < depth; i++) {
        setUint(b, vlanOffset(i), 2, ETH_TYPE_VLAN);
        setUint(b, vlanOffset(i) + 2, 2, 1 | VLAN_CFI);
      }
    });
    if (!dpif.probeFeature("VLAN", key, [])) break;
  }
  log.info(`${dpif.name}: VLAN header stack length probed as ${n}`);
  return n;
}

function checkMplsDepth(dpif: Dpif): number {
  let n = 0;
  for (; n < FLOW_MAX_MPLS_LABELS; n++) {
    const key = probeKey((b) => {
      setField(b, F.dl_type, ETH_TYPE_MPLS);
      setUint(b, mplsOffset(n), 4, MPLS_BOS);
    });
    if (!dpif.probeFeature("MPLS", key, [])) break;
  }
  log.info(`${dpif.name}: MPLS label stack length probed as ${n}`);
  return n;
}

function checkSampleNesting(dpif: Dpif): number {
  // Every datapath has taken 3 levels, so the probing starts there.
  let n = 3;
  for (; n < FLOW_MAX_SAMPLE_NESTING; n++) {
    if (!dpif.probeFeature("Sample action nesting", newKey(), [sampleNested(n)])) break;
  }
  log.info(`${dpif.name}: Max sample nesting level probed as ${n}`);
  return n;
}

function checkMaxHashAlg(dpif: Dpif): number {
  let max = 0;
  for (let alg = 1; alg <= MAX_HASH_ALG; alg++) {
    const hash: OdpAction = { type: "hash", alg, basis: 0 };
    if (!dpif.probeFeature("Max dp_hash algorithm", newKey(), [hash])) break;
    max = alg;
  }
  log.info(`${dpif.name}: Max dp_hash algorithm probed to be ${max}`);
  return max;
}

/** A probe whose answer OVS logs as "Datapath supports|does not support WHAT". */
function logged(dpif: Dpif, what: string, yes: boolean): boolean {
  log.info(`${dpif.name}: Datapath ${supports(yes)} ${what}`);
  return yes;
}

/** check_ct_state and friends: a key with one conntrack field set. */
function checkField(dpif: Dpif, name: string, key: Uint32Array): boolean {
  return logged(dpif, name, dpif.probeFeature(name, key, []));
}

/** check_support(): probes `dpif` (a userspace datapath) in OVS's order. */
export function checkSupport(dpif: Dpif): BackerSupport {
  const recirc = logged(
    dpif,
    "recirculation",
    dpif.probeFeature(
      "recirculation",
      probeKey((b) => {
        setField(b, F.recirc_id, 1);
        setField(b, F.dp_hash, 1);
      }),
      [],
    ),
  );
  const maxVlanHeaders = checkVlanHeaders(dpif);
  const maxMplsDepth = checkMplsDepth(dpif);
  const maskedSetAction = execProbe(dpif, dummyEthernet(), [maskedSet("eth")]);
  if (!maskedSetAction) {
    log.info(`${dpif.name}: datapath does not support masked set action feature.`);
  }
  const trunc = logged(
    dpif,
    "truncate action",
    execProbe(dpif, dummyEthernet(), [{ type: "trunc", maxLen: 15 }, { type: "output", port: 1 }]),
  );
  const ufidKey = probeKey((b) => setField(b, F.dl_type, 0x1234));
  const ufid = new Uint32Array(4);
  ufidFromKey(ufidKey, 0, ufid);
  const hasUfid = logged(dpif, "unique flow ids", dpif.probeFeature("UFID", ufidKey, [], ufid));
  const clone = logged(
    dpif,
    "clone action",
    execProbe(dpif, dummyEthernet(), [{ type: "clone", actions: [] }]),
  );
  const sampleNesting = checkSampleNesting(dpif);
  const ctEventmask = logged(
    dpif,
    "eventmask in conntrack action",
    execProbe(dpif, dummyUdp(), [{ ...newCtAction(), eventmask: 0xffffffff }]),
  );
  const ctClear = logged(
    dpif,
    "ct_clear action",
    dpif.probeFeature("ct_clear", newKey(), [{ type: "ct_clear" }]),
  );
  const maxHashAlg = checkMaxHashAlg(dpif);
  const checkPktLen = logged(
    dpif,
    "check_pkt_len action",
    dpif.probeFeature("check_pkt_len", newKey(), [
      { type: "check_pkt_len", size: 100, gt: [], le: [] },
    ]),
  );
  const ctTimeout = logged(
    dpif,
    "timeout policy in conntrack action",
    execProbe(dpif, dummyUdp(), [{ ...newCtAction(), timeout: "ovs_test_tp" }]),
  );
  // ct_dpif_get_features(): the userspace conntrack can SNAT to all-zero.
  const ctZeroSnat = logged(dpif, "ct_zero_snat", true);
  const addMpls = logged(
    dpif,
    "add_mpls action",
    dpif.probeFeature("add_mpls", newKey(), [
      { type: "add_mpls", text: "add_mpls(label=0,tc=0,ttl=0,bos=0,eth_type=0x8847)" },
    ]),
  );
  const ctState = checkField(dpif, "ct_state", withDlType(ETH_TYPE_IP, F.ct_state, CS_NEW));
  const ctZone = checkField(dpif, "ct_zone", withDlType(ETH_TYPE_IP, F.ct_zone, 1));
  const ctMark = checkField(dpif, "ct_mark", withDlType(ETH_TYPE_IP, F.ct_mark, 1));
  const ctLabel = checkField(dpif, "ct_label", withDlType(ETH_TYPE_IP, F.ct_label, 1));
  const ctStateNat = checkField(
    dpif,
    "ct_state_nat",
    withDlType(ETH_TYPE_IP, F.ct_state, CS_TRACKED | CS_SRC_NAT),
  );
  const ctOrigTuple = checkField(
    dpif,
    "ct_orig_tuple",
    withDlType(ETH_TYPE_IP, F.ct_nw_proto, 1),
  );
  const ctOrigTuple6 = checkField(
    dpif,
    "ct_orig_tuple6",
    withDlType(ETH_TYPE_IPV6, F.ct_nw_proto, 1),
  );
  const ndExt = logged(
    dpif,
    "IPv6 ND Extensions",
    execProbe(dpif, dummyEthernet(), [maskedSet("nd_ext")]),
  );
  return {
    maskedSetAction,
    // Userspace datapaths push and pop tunnel headers themselves, drop
    // explicitly, balance TCP in the datapath and SNAT to all-zero
    // addresses: OVS asks the datapath class, not the datapath.
    tnlPushPop: true,
    ufid: hasUfid,
    trunc,
    clone,
    sampleNesting,
    ctEventmask,
    ctClear,
    maxHashAlg,
    checkPktLen,
    ctTimeout,
    explicitDropAction: true,
    lbOutputAction: true,
    ctZeroSnat,
    addMpls,
    maxVlanHeaders,
    maxMplsDepth,
    recirc,
    ctState,
    ctZone,
    ctMark,
    ctLabel,
    ctStateNat,
    ctOrigTuple,
    ctOrigTuple6,
    ndExt,
  };
}

/** The titles dpif/show-dp-features prints, in OVS's order (DPIF_SUPPORT_FIELDS, ODP_SUPPORT_FIELDS). */
const TITLES: [keyof BackerSupport, string][] = [
  ["maskedSetAction", "Masked set action"],
  ["tnlPushPop", "Tunnel push pop"],
  ["ufid", "Ufid"],
  ["trunc", "Truncate action"],
  ["clone", "Clone action"],
  ["sampleNesting", "Sample nesting"],
  ["ctEventmask", "Conntrack eventmask"],
  ["ctClear", "Conntrack clear"],
  ["maxHashAlg", "Max dp_hash algorithm"],
  ["checkPktLen", "Check pkt length action"],
  ["ctTimeout", "Conntrack timeout policy"],
  ["explicitDropAction", "Explicit Drop action"],
  ["lbOutputAction", "Optimized Balance TCP mode"],
  ["ctZeroSnat", "Conntrack all-zero IP SNAT"],
  ["addMpls", "MPLS Label add"],
  ["maxVlanHeaders", "Max VLAN headers"],
  ["maxMplsDepth", "Max MPLS depth"],
  ["recirc", "Recirc"],
  ["ctState", "CT state"],
  ["ctZone", "CT zone"],
  ["ctMark", "CT mark"],
  ["ctLabel", "CT label"],
  ["ctStateNat", "CT state NAT"],
  ["ctOrigTuple", "CT orig tuple"],
  ["ctOrigTuple6", "CT orig tuple for IPv6"],
  ["ndExt", "IPv6 ND Extension"],
];

/** dpif_show_support(): `dpif/show-dp-features` text, one `Title: value` line each. */
export function formatBackerSupport(s: BackerSupport): string {
  let out = "";
  for (const [field, title] of TITLES) {
    const v = s[field];
    out += `${title}: ${typeof v === "boolean" ? (v ? "Yes" : "No") : v}\n`;
  }
  return out;
}

/** The same features for `--format json`: `{ "Masked set action": true, ... }`. */
export function backerSupportJson(s: BackerSupport): Record<string, boolean | number> {
  return Object.fromEntries(TITLES.map(([field, title]) => [title, s[field]]));
}
