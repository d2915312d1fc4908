/**
 * The dpif wrapper the upper layers call, after OVS's lib/dpif.c: it
 * forwards to a provider, counts each call under OVS's coverage names and
 * logs flow operations in OVS's wording (`dummy@ovs-dummy: failed to
 * put[create] (File exists) ufid:... KEY, actions:...`), failures other
 * than EEXIST at WARN, the rest at DBG.
 */
import { formatOdpActions, formatOdpKey, type OdpAction, odpFormatUfid } from "../flow/mod.ts";
import { coverageCounter, getLogger } from "../lib/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import type { DpifNetdev } from "./dpif_netdev.ts";
import { EEXIST, PUT_CREATE, PUT_MODIFY, PUT_ZERO_STATS, strerror } from "./protocol.ts";
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
          this.logFlow(op, putName(op.flags));
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
          if (op.error) log.warn(`${this.name}: execute failed (${strerror(op.error)})`);
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

  /** dpif_execute: runs `actions` on `packet` as if received on `inPort`. */
  execute(packet: Uint8Array, inPort: number, actions: readonly OdpAction[]): number {
    const op: DpifOp = { type: "execute", packet, inPort, actions };
    this.operate([op]);
    return op.error ?? 0;
  }

  private logFlow(op: DpifOp, operation: string): void {
    const error = op.error ?? 0;
    const warn = error !== 0 && error !== EEXIST;
    if (!warn && !log.isEnabledFor("debug")) return;
    let s = `${this.name}: ${error ? "failed to " : ""}${operation} `;
    if (error) s += `(${strerror(error)}) `;
    const ufid = op.type === "put" || op.type === "del" || op.type === "get"
      ? op.ufid ?? op.flow?.ufid
      : undefined;
    if (ufid) s += `${odpFormatUfid(ufid)} `;
    if (op.type === "put") {
      s += formatOdpKey(op.key, op.mask, { verbose: true });
      s += ", actions:" + formatOdpActions([...op.actions], null);
    } else if (op.type === "del" && op.key) {
      s += formatOdpKey(op.key, null, { verbose: true });
    }
    if (warn) log.warn(s);
    else log.debug(s);
  }

  destroy(): void {
    covDestroy.inc();
    this.provider.destroy();
  }
}
