/**
 * The dpif wrapper the upper layers call, after OVS's lib/dpif.c: it
 * forwards to a provider, counts each call under OVS's coverage names and
 * logs flow operations in OVS's wording (`dummy@ovs-dummy: failed to
 * put[create] (File exists) ufid:... KEY, actions:...`), failures other
 * than EEXIST at WARN, the rest at DBG.
 */
import {
  FLOW_WORDS,
  formatOdpActions,
  formatOdpKey,
  formatStats,
  type OdpAction,
  odpFormatUfid,
  ufidFromKey,
  wildcardsForPacket,
} from "../flow/mod.ts";
import { coverageCounter, getLogger, timeMsec, vlogDebugEnabled } from "../lib/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import { type DpifNetdev, snapshotActions } from "./dpif_netdev.ts";
import type { FlowSnapshot } from "./flow_table.ts";
import {
  EEXIST,
  EINVAL,
  PUT_CREATE,
  PUT_MODIFY,
  PUT_PROBE,
  PUT_ZERO_STATS,
  strerror,
} from "./protocol.ts";
import type { DpifDpStats, DpifFlowPut, DpifOp } from "./provider.ts";

const covPortAdd = coverageCounter("dpif_port_add");
const covPortDel = coverageCounter("dpif_port_del");
const covFlush = coverageCounter("dpif_flow_flush");
const covGet = coverageCounter("dpif_flow_get");
const covPut = coverageCounter("dpif_flow_put");
const covDel = coverageCounter("dpif_flow_del");
const covExecute = coverageCounter("dpif_execute");
const covDestroy = coverageCounter("dpif_destroy");
const log = getLogger("dpif");

/**
 * log_flow_message's text: `NAME: [failed to ]OPERATION [(ERROR) ]
 * [ufid:U ]KEY[, STATS][, actions:A]`, the key always in the verbose form
 * (a mask that is not exact prints as such: ct_state(0/0xff)); without a
 * key, as in a terse dump, `<empty>`.
 */
function flowMessage(
  name: string,
  operation: string,
  error: number,
  ufid?: Uint32Array,
  key?: Uint32Array,
  mask: Uint32Array | null = null,
  stats: string | null = null,
  actions?: readonly OdpAction[],
): string {
  let s = `${name}: ${error ? "failed to " : ""}${operation} `;
  if (error) s += `(${strerror(error)}) `;
  if (ufid) s += `${odpFormatUfid(ufid)} `;
  if (key) s += formatOdpKey(key, mask, { verbose: true });
  else if (operation === "flow_dump") s += "<empty>";
  if (stats) s += ", " + stats;
  if (actions) s += ", actions:" + formatOdpActions([...actions], null);
  return s;
}

/**
 * dpif_flow_dump_next's DBG lines for `n` dumped flows: one `flow_dump`
 * line each (a terse dump has only the UFID and stats), or `dumped all
 * flows` when a dump thread reaches the end.
 */
export function logFlowDumpNext(
  name: string,
  flows: readonly FlowSnapshot[],
  n: number,
  terse: boolean,
): void {
  if (!vlogDebugEnabled("dpif")) return;
  if (n === 0) {
    log.debug(`${name}: dumped all flows`);
    return;
  }
  const now = timeMsec();
  for (let i = 0; i < n; i++) {
    const f = flows[i];
    const stats = formatStats({
      packets: f.packets,
      bytes: f.bytes,
      usedAgoMs: f.used ? Math.max(0, now - f.used) : null,
      tcpFlags: f.tcpFlags,
    });
    log.debug(
      terse
        ? flowMessage(name, "flow_dump", 0, f.ufid, undefined, null, stats)
        : flowMessage(name, "flow_dump", 0, f.ufid, f.key, f.mask, stats, snapshotActions(f)),
    );
  }
}

/** dpif_flow_dump_destroy's DBG line (log_operation). */
export function logFlowDumpDestroy(name: string): void {
  if (vlogDebugEnabled("dpif")) log.debug(`${name}: flow_dump_destroy success`);
}

function putName(flags: number): string {
  let s = "put";
  if (flags & PUT_CREATE) s += "[create]";
  if (flags & PUT_MODIFY) s += "[modify]";
  if (flags & PUT_ZERO_STATS) s += "[zero]";
  return s;
}

export class Dpif {
  constructor(readonly provider: DpifNetdev) {}

  get name(): string {
    return this.provider.name;
  }

  getStats(): DpifDpStats {
    return this.provider.getStats();
  }

  portAdd(netdev: Netdev, portNo?: number): number {
    covPortAdd.inc();
    return this.provider.portAdd(netdev, portNo);
  }

  portDel(portNo: number): void {
    covPortDel.inc();
    this.provider.portDel(portNo);
  }

  flowFlush(): void {
    covFlush.inc();
    this.provider.flowFlush();
  }

  /** `dpif_operate`: counts and logs each op, then runs the batch. */
  operate(ops: DpifOp[]): void {
    this.provider.operate(ops);
    for (const op of ops) {
      switch (op.type) {
        case "put":
          covPut.inc();
          if (!(op.flags & PUT_PROBE)) this.logFlow(op, putName(op.flags));
          break;
        case "del":
          covDel.inc();
          this.logFlow(op, "flow_del");
          break;
        case "get":
          covGet.inc();
          this.logFlow(op, "flow_get");
          break;
        case "execute":
          covExecute.inc();
          if (op.error && !op.probe) {
            log.warn(`${this.name}: execute failed (${strerror(op.error)})`);
          }
          break;
        case "flush":
          covFlush.inc();
      }
    }
  }

  /** dpif_flow_put: one put, counted and logged; the op's flow is the flow it left. */
  flowPut(put: DpifFlowPut): DpifOp {
    const op: DpifOp = { type: "put", ...put, wantFlow: true };
    this.operate([op]);
    return op;
  }

  /** dpif_flow_del: by UFID, or by key; the op's flow holds the final stats. */
  flowDel(ufid?: Uint32Array, key?: Uint32Array): DpifOp {
    const op: DpifOp = { type: "del", ufid, key };
    this.operate([op]);
    return op;
  }

  /** dpif_flow_get by UFID. */
  flowGet(ufid: Uint32Array): DpifOp {
    const op: DpifOp = { type: "get", ufid };
    this.operate([op]);
    return op;
  }

  /**
   * dpif_execute: runs `actions` on `packet` as if received on `inPort`;
   * a `probe` is only checked by the datapath, then dropped.
   */
  execute(
    packet: Uint8Array,
    inPort: number,
    actions: readonly OdpAction[],
    probe = false,
  ): number {
    const op: DpifOp = { type: "execute", packet, inPort, actions, probe };
    this.operate([op]);
    return op.error ?? 0;
  }

  /**
   * dpif_probe_feature: whether the datapath takes the exact-match flow
   * `key` with `actions` (and, when given, keeps its `ufid`). Puts the
   * flow (create or modify, in case a previous run left it there), reads
   * it back and deletes it: one dpif_flow_put, and when the put worked one
   * dpif_flow_get and one dpif_flow_del. A refusal with EINVAL is the
   * datapath's answer "no"; another error is worth a warning.
   */
  probeFeature(
    name: string,
    key: Uint32Array,
    actions: readonly OdpAction[],
    ufid?: Uint32Array,
  ): boolean {
    const mask = new Uint32Array(FLOW_WORDS);
    wildcardsForPacket(key, mask);
    const put = this.flowPut({
      flags: PUT_CREATE | PUT_MODIFY | PUT_PROBE,
      key,
      mask,
      actions,
      ufid,
    });
    if (put.error) {
      if (put.error !== EINVAL) {
        log.warn(`${this.name}: ${name} flow probe failed (${strerror(put.error)})`);
      }
      return false;
    }
    // Without a UFID of its own the flow is known by its key's hash.
    let id = ufid;
    if (!id) ufidFromKey(key, 0, id = new Uint32Array(4));
    const got = this.flowGet(id);
    const flowUfid = got.flow?.ufid;
    const ok = !got.error &&
      (!ufid || (flowUfid !== undefined && flowUfid.every((w, i) => w === ufid[i])));
    if (this.flowDel(id).error) {
      log.warn(`${this.name}: failed to delete ${name} feature probe flow`);
    }
    return ok;
  }

  private logFlow(op: DpifOp, operation: string): void {
    const error = op.error ?? 0;
    const warn = error !== 0 && error !== EEXIST;
    if (!warn && !vlogDebugEnabled("dpif")) return;
    const ufid = op.type === "put" || op.type === "del" || op.type === "get"
      ? op.ufid ?? op.flow?.ufid
      : undefined;
    const s = op.type === "put"
      ? flowMessage(this.name, operation, error, ufid, op.key, op.mask, null, op.actions)
      : flowMessage(this.name, operation, error, ufid, op.type === "del" ? op.key : undefined);
    if (warn) log.warn(s);
    else log.debug(s);
  }

  destroy(): void {
    covDestroy.inc();
    this.provider.destroy();
  }
}
