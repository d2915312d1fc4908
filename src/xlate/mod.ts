/**
 * xlate: translation of a flow through a bridge's OpenFlow tables into
 * datapath actions and the megaflow mask (OVS ofproto/ofproto-dpif-xlate.c).
 *
 * `xlate(input)` is a function of the flow (in_port as an OpenFlow port), a
 * tables version, the bridge's port configuration (`XBridge`: OpenFlow and
 * datapath port numbers, VLAN modes) and its MAC learning table. It
 * returns the datapath actions (`OdpAction[]`, empty = drop), the wildcards
 * (`wc`, a flow-layout mask exactly as wide as OVS 3.1 makes it), slow-path
 * reasons (the upcall layer then installs `userspace(slow_path(...))`), an
 * error if translation failed (its actions are then dropped), the
 * recirculation ids it referenced (the ukey releases them), and an
 * `XlateCache`: the ids of the rules (and groups) that matched, the MACs NORMAL
 * learned from and the SLB bond buckets output went through (XC_BOND), which revalidators replay with `xlateCachePush` to credit
 * statistics and refresh learning without translating again, and each
 * table lookup with the rule it found and each group use with its bucket
 * (for `ofproto/detrace`; a group's entry starts with `XC_GROUP_MARK`).
 * `megaflowMask` turns `wc` into the mask the userspace datapath really
 * installs (its no-VLAN and VLAN-id rules).
 *
 * The pieces follow OVS: the action loop (actions.ts), table lookups and
 * recursion limits (table.ts), outputs and controller actions (output.ts),
 * NORMAL with 802.1Q VLAN modes (normal.ts) and bonds as one bundle
 * (bond.ts: admissibility and the output member, decided by the bond's
 * shared state that ports carry), LACPDUs consumed by a bond's LACP and
 * slow-pathed (special.ts, process_special), group actions with bucket
 * liveness and select methods (group.ts, group_select.ts; the tables give
 * groups through `XlateTables.group`, and group/bucket stats ride in the
 * cache as negative ids), committing header changes into
 * set/set_masked/push_vlan/pop_vlan before each output (commit.ts),
 * conntrack (conntrack.ts: the datapath `ct` action, and ct(table=N)
 * forking `recirc(N)`), freezing and thawing (freeze.ts: the state a
 * recirculated packet resumes from, its bridge included, found again by
 * its recirc_id; `XlateInput.bridgeById` reaches that bridge), and
 * `ofproto/trace` (trace.ts, trace_flow.ts, and trace_ct.ts for the passes
 * after each conntrack recirculation), which the daemon wires as a command
 * through `ofprotoTrace(args, switch)`. learn.ts has learn and
 * fin_timeout, ext_actions.ts and flow_hash.ts multipath and bundle (with
 * OVS's hashes), check_pkt_len.ts check_pkt_larger, clone.ts clone (in
 * line, or a datapath `clone(...)` when it holds conntrack and is not the
 * last action: each action list is translated knowing whether anything
 * follows it, OVS's is_last_action); sample sits in the action loop.
 * patch.ts follows output to a patch port into the peer's bridge in the
 * same translation (`XlateInput.patchPeer` names the bridges of the same
 * datapath backer, `PatchBridge`), the peer's rule translated as a
 * clone's actions; the xlate cache then records each rule, table lookup
 * and MAC under its bridge's id, and each crossing, which
 * patch_counters.ts counts as the ports' packets (`PatchCounters`, shared
 * memory added to with Atomics by any thread's translation). Controller
 * cookies carry the current bridge's ofproto UUID
 * (`XlateInput.ofprotoUuid`, swapped at a patch) so the packet-in reaches
 * that bridge.
 *
 * Thread-safety: translation runs in handler workers (upcalls) and
 * revalidator workers (re-translation), each on its own replica of the
 * tables and the bridge configuration; it allocates its own context (or,
 * given `XlateKeys`, reuses theirs: one set per thread, one translation
 * at a time) and shares nothing mutable except the MAC learning table,
 * which lives in a SharedArrayBuffer behind an Atomics lock
 * (src/ofproto/mac_learning.ts),
 * and the recirculation id pool the caller passes in (one per thread).
 * Learn and fin_timeout side effects leave through the caller's
 * `LearnSink` (XlateInput.learnSink), which decides how they reach the
 * master tables and answers, from the calling thread's replica, whether
 * a learned flow is there (a limited learn translated without side
 * effects sets `XlateOutput.avoidCaching` when it is not); translation
 * itself never writes to any tables.
 */
export {
  dummyOdpPort,
  includesVlan,
  type PortSpec,
  trunksVlan,
  type VlanMode,
  XBridge,
  type XPort,
} from "./bridge.ts";
export {
  type ControllerCookie,
  COOKIE_OFPROTO_UUID_OFFSET,
  decodeControllerCookie,
  encodeControllerCookie,
  encodeSlowPathCookie,
  USER_ACTION_COOKIE_LEN,
  XC_GROUP_MARK,
  type XcNormal,
  XlateCache,
  xlateCachePush,
} from "./cache.ts";
export { commitKeys } from "./commit.ts";
export { PatchCounters, type PatchPortCounts, xlateCachePushPatches } from "./patch_counters.ts";
export { type LearnSink, type XcFin, type XcLearn, xlateCachePushLearn } from "./learn.ts";
export { flowHashFields, flowMaskHashFields } from "./flow_hash.ts";
export {
  FROZEN_STATE_WORDS,
  FS_IN_PORT,
  FS_RESUME_ACTION,
  FS_TABLE,
  RecircIdPool,
  type RecircIds,
} from "./recirc.ts";
export {
  MAX_DEPTH,
  MAX_RESUBMITS,
  type PatchBridge,
  SLOW_ACTION,
  type TraceNode,
  type TraceNodeType,
  type XlateError,
  type XlateInput,
  XlateKeys,
  type XlateOutput,
  type XlateRule,
  type XlateTables,
} from "./context.ts";
export {
  formatTrace,
  ofprotoTrace,
  type TraceBridge,
  traceFlow,
  type TraceSwitch,
} from "./trace.ts";
export { formatFlow, formatMegaflow, parseExactFlow, parseExactMatch } from "./trace_flow.ts";
export { megaflowMask, xlate } from "./xlate.ts";
