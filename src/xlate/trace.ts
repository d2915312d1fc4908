/**
 * `ofproto/trace`: translates one flow with tracing on and explains it,
 * table by table and action by action, ending with the final flow, the
 * megaflow and the datapath actions, in OVS 3.1's words and layout
 * (ofproto/ofproto-dpif-trace.c). Nothing is learned and no packet is sent.
 */
import {
  bytesOf,
  F,
  type FlowKey,
  formatOdpActions,
  getUint,
  keysEqual,
  newKey,
  OdpParseError,
  parseOdpKey,
  parsePacketKey,
  setUint,
} from "../flow/mod.ts";
import { formatActions, formatMatch, type MacLearning } from "../ofproto/mod.ts";
import type { XBridge } from "./bridge.ts";
import type { RecircIds } from "./recirc.ts";
import type { TraceNode, TraceRecirc, XlateInput, XlateOutput, XlateTables } from "./context.ts";
import { parseCtNext, recircBanner } from "./trace_ct.ts";
import { SLOW_ACTION } from "./context.ts";
import { formatFlow, formatMegaflow, parseExactFlow } from "./trace_flow.ts";
import { xlate } from "./xlate.ts";

/** One bridge as the trace command sees it. */
export interface TraceBridge {
  bridge: XBridge;
  tables: XlateTables;
  ml: MacLearning | null;
  recircIds: RecircIds;
  /** The bridges patch ports lead to (XlateInput.patchPeer). */
  patchPeer?: XlateInput["patchPeer"];
  /** The bridge's id in its datapath backer. */
  bridgeId?: number;
  /** The backer's bridges by id (XlateInput.bridgeById). */
  bridgeById?: XlateInput["bridgeById"];
}

/** The switch the command runs in: its bridges and its one datapath. */
export interface TraceSwitch {
  bridge(name: string): TraceBridge | undefined;
  /** The datapath type (`dummy`): `ovs-dummy` or `dummy` names it. */
  dpType: string;
  /** The bridge that owns datapath port `odpPort`. */
  bridgeOfOdpPort(odpPort: number): TraceBridge | undefined;
  nowMs: number;
}

const DEFAULT_PRIORITY = 0x8000;

function printNodes(out: string[], nodes: TraceNode[], level: number): void {
  nodes.forEach((node, i) => {
    if (node.type === "bridge") out.push("");
    const terminal = node.type !== "bridge" && node.type !== "table" && node.type !== "thaw";
    const more = i < nodes.length - 1 || terminal ? 1 : 0;
    const indent = " ".repeat((level + more) * 4);
    switch (node.type) {
      case "detail":
        out.push(`${indent} -> ${node.text}`);
        break;
      case "warn":
        out.push(`${indent} >> ${node.text}`);
        break;
      case "error":
        out.push(`${indent} >>>> ${node.text} <<<<`);
        break;
      case "bridge":
        out.push(indent + node.text, indent + "-".repeat(node.text.length));
        break;
      default:
        out.push(indent + node.text);
    }
    printNodes(out, node.subs, level + 2 * more);
  });
}

const SLOW_EXPLANATIONS: [number, string][] = [
  [SLOW_ACTION, "Uses action(s) not supported by datapath"],
];

/** The trace text of a translation of `flow` (ofproto_trace__). */
export function formatTrace(flow: FlowKey, out: XlateOutput): string {
  const lines = [`Flow: ${formatFlow(flow)}`];
  printNodes(lines, out.trace ?? [], 0);
  lines.push("");
  lines.push(
    `Final flow: ${keysEqual(flow, out.finalFlow) ? "unchanged" : formatFlow(out.finalFlow)}`,
  );
  lines.push(`Megaflow: ${formatMegaflow(flow, out.wc)}`);
  let text = lines.join("\n") + `\nDatapath actions: ${formatOdpActions(out.actions)}`;
  if (out.error) {
    text += `\nTranslation failed (${out.error}), packet is dropped.\n`;
  } else if (out.slow) {
    text += "\nThis flow is handled by the userspace slow path because it:";
    for (const [bit, why] of SLOW_EXPLANATIONS) if (out.slow & bit) text += `\n  - ${why}.`;
  }
  return text;
}

/** One pass of the trace: translates `flow` on `tb` and explains it. */
function tracePass(tb: TraceBridge, flow: FlowKey, nowMs: number, queue: TraceRecirc[]): string {
  const out = xlate({
    flow,
    tables: tb.tables,
    bridge: tb.bridge,
    ml: tb.ml,
    nowMs,
    recircIds: tb.recircIds,
    patchPeer: tb.patchPeer,
    bridgeId: tb.bridgeId,
    bridgeById: tb.bridgeById,
    sideEffects: false,
    trace: true,
    formatMatch: (rule) => formatMatch(rule.match, DEFAULT_PRIORITY),
    formatAction: (a) => formatActions([a]),
  });
  for (const id of out.recircs) tb.recircIds.release(id);
  queue.push(...out.traceRecircs);
  return formatTrace(flow, out);
}

/**
 * Translates `flow` (in_port an OpenFlow port) on `tb` with tracing on,
 * then each conntrack recirculation it forked, with the ct_states of
 * `ctNext` in turn (ofproto_trace).
 */
export function traceFlow(
  tb: TraceBridge,
  flow: FlowKey,
  nowMs: number,
  ctNext: number[] = [],
): string {
  const queue: TraceRecirc[] = [];
  let text = tracePass(tb, flow, nowMs, queue);
  for (let node = queue.shift(); node; node = queue.shift()) {
    text += recircBanner(node, ctNext);
    text += tracePass(tb, node.flow, nowMs, queue);
    tb.recircIds.release(node.id);
  }
  return text;
}

/**
 * `ofproto/trace {[dp_name] odp_flow | bridge br_flow} [-generate]`:
 * returns the reply, or throws an Error whose message is OVS's error reply.
 */
export function ofprotoTrace(argv: readonly string[], sw: TraceSwitch): string {
  const args: string[] = [];
  const ctNext: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-generate" || a === "--generate") continue;
    if (a === "--ct-next") {
      if (i + 1 >= argv.length) throw new Error(`Missing argument for option ${a}`);
      ctNext.push(parseCtNext(argv[++i]));
      continue;
    }
    if (a.startsWith("-")) throw new Error(`${a}: unknown option`);
    if (args.length >= 3) throw new Error("too many arguments");
    args.push(a);
  }
  if (args.length < 1 || args.length > 2) throw new Error("Syntax error");
  const text = args[args.length - 1];
  const key = newKey();
  let odpError: string | null = null;
  try {
    parseOdpKey(text, key, newKey());
  } catch (e) {
    odpError = e instanceof OdpParseError ? e.ovsMessage : (e as Error).message;
  }
  if (odpError === null) {
    // A datapath flow is read as odp_flow_key_to_flow reads it: refused
    // when in error, without the attributes it does not read.
    try {
      parsePacketKey(text, key);
    } catch (e) {
      throw new Error(e instanceof OdpParseError ? e.ovsMessage : (e as Error).message);
    }
    if (args.length === 2) {
      const dpType = args[0].startsWith("ovs-") ? args[0].slice(4) : args[0];
      if (dpType !== sw.dpType) throw new Error("Cannot find the datapath");
    }
    const odpPort = getUint(bytesOf(key), F.in_port.off, 4);
    const tb = sw.bridgeOfOdpPort(odpPort);
    if (!tb) throw new Error("no OpenFlow port for datapath port " + odpPort);
    setUint(bytesOf(key), F.in_port.off, 4, tb.bridge.ofport(odpPort));
    return traceFlow(tb, key, sw.nowMs, ctNext);
  }
  if (args.length !== 2) throw new Error(`${odpError} (or the bridge name was omitted)`);
  const tb = sw.bridge(args[0]);
  if (!tb) throw new Error(`${args[0]}: unknown bridge`);
  let flow: FlowKey;
  try {
    flow = parseExactFlow(text, tb.bridge);
  } catch (e) {
    throw new Error(`Bad openflow flow syntax: ${(e as Error).message}`);
  }
  return traceFlow(tb, flow, sw.nowMs, ctNext);
}
