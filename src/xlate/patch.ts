/**
 * Output to a patch port (ofproto-dpif-xlate.c patch_port_output, OVS
 * 3.1): a patch port has no datapath port; the packet goes on, in the
 * same translation, into the peer port's bridge, as if it had come in on
 * the peer. That bridge's table 0 is looked up with in_port the peer's
 * OpenFlow number, metadata and registers zero and conntrack cleared; the
 * datapath actions it adds join the flow's, and its lookups un-wildcard
 * the same megaflow. Afterwards the calling bridge goes on with its flow
 * as it was: the peer's rewrites, exit, conntrack and errors stay there.
 * The trace shows the peer's steps under a `bridge("NAME")` heading.
 *
 * Rule credits, MAC learning, learn and fin_timeout in the peer bridge
 * are recorded in the xlate cache under the peer's id, so revalidation
 * pushes them to the peer's rules, MAC table and learn queue; learns made
 * while translating go to the peer's learn sink at once; the crossing itself is recorded too, and
 * each push counts its packets as tx on the port and rx on its peer
 * (patch_counters.ts).
 */
import { F, setUint } from "../flow/mod.ts";
import type { XPort } from "./bridge.ts";
import type { XlateCtx } from "./context.ts";
import { clearConntrack } from "./freeze.ts";
import { xlateTable } from "./table.ts";
import { xlateClone } from "./clone.ts";

/**
 * Continues the translation in the bridge of `port`'s peer; no peer bridge
 * means the output drops. The peer's rule is translated as a clone's
 * actions (clone.ts): with conntrack in it and actions after this output
 * (`isLast` false), inside a datapath clone(...).
 */
export function patchPortOutput(ctx: XlateCtx, port: XPort, isLast: boolean): void {
  const peerName = port.peer ?? "";
  const peer = ctx.xin.patchPeer?.(peerName);
  const outDev = peer?.bridge.portByName(peerName);
  if (!peer || !outDev) return;
  ctx.cache.addPatch(port.patchSlot, outDev.patchSlot);
  const xin = ctx.xin;
  const old = {
    bridge: xin.bridge,
    tables: xin.tables,
    ml: xin.ml,
    uuid: xin.ofprotoUuid,
    learnSink: xin.learnSink,
    cacheBridge: ctx.cache.bridge,
    trace: ctx.trace,
    conntracked: ctx.conntracked,
    flow: ctx.flow.slice(),
  };
  const f = ctx.f;
  setUint(f, F.in_port.off, 4, outDev.ofport);
  f.fill(0, F.metadata.off, F.metadata.off + F.metadata.len);
  f.fill(0, F.regs.off, F.regs.off + F.regs.len);
  clearConntrack(ctx);
  if (ctx.trace) ctx.trace = ctx.report("bridge", `bridge("${peer.bridge.name}")`);
  xin.bridge = peer.bridge;
  xin.tables = peer.tables;
  xin.ml = peer.ml;
  xin.ofprotoUuid = peer.uuid;
  xin.learnSink = peer.learnSink;
  ctx.cache.bridge = peer.id;
  xlateTable(ctx, outDev.ofport, 0, true, false, isLast, xlateClone);
  xin.bridge = old.bridge;
  xin.tables = old.tables;
  xin.ml = old.ml;
  xin.ofprotoUuid = old.uuid;
  xin.learnSink = old.learnSink;
  ctx.cache.bridge = old.cacheBridge;
  ctx.trace = old.trace;
  ctx.flow.set(old.flow);
  ctx.conntracked = old.conntracked;
  // The peer bridge stopping (exit, a freeze, an error) does not stop this one.
  ctx.exit = false;
  ctx.error = null;
}
