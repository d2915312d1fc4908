/**
 * Binds udpif's datapath port (ports.ts) to the netdev datapath provider:
 * one binding per thread, over that thread's own DpifNetdev handle. The
 * flow dump's cursor lives in a SharedArrayBuffer handed to every
 * revalidator, so that their dump threads share one walk.
 *
 * A handler's flow installs and executes go straight to the provider, as
 * dpif-netdev's upcall callback does in OVS (no dpif_flow_put coverage or
 * log); the revalidators' modifies and deletes, and flushes, go through
 * the dpif layer, which counts and logs them as dpif_operate does.
 */
import type { OdpAction } from "../flow/mod.ts";
import {
  Dpif,
  type DpifNetdev,
  type DpifOp,
  DpifUpcall,
  FlowDump,
  type FlowDumpThread,
  FlowSnapshot,
  logFlowDumpDestroy,
  logFlowDumpNext,
  PUT_CREATE,
  PUT_MODIFY,
  snapshotActions,
} from "../dpif/mod.ts";
import { DP_OK, type DumpedFlow, type UdpifDpif, type UdpifOp, type UpcallIn } from "./ports.ts";

const NO_ACTIONS: OdpAction[] = [];

/** Bytes of the shared dump cursors (per PMD flow table, per lane). */
export { DUMP_CURSOR_BYTES } from "../dpif/mod.ts";

export class DpifBinding implements UdpifDpif {
  readonly name: string;
  readonly dp: DpifNetdev;
  readonly #dpif: Dpif;
  readonly #dump: FlowDump;
  #thread: FlowDumpThread | undefined;
  /** The dump leaves out keys, masks and actions (dpif_flow_dump_create's terse). */
  #terse = false;
  /** Op objects reused from batch to batch, one per position and type. */
  readonly #dops: DpifOp[] = [];
  readonly #puts: (DpifOp & { type: "put" })[] = [];
  readonly #dels: (DpifOp & { type: "del" })[] = [];
  readonly #execs: (DpifOp & { type: "execute" })[] = [];
  readonly #get: DpifOp = { type: "get" };

  constructor(dp: DpifNetdev, dumpCursor: SharedArrayBuffer) {
    this.dp = dp;
    this.#dpif = new Dpif(dp);
    this.name = dp.name;
    this.#dump = FlowDump.attach(dp.shared.pmds.map((p) => p.table), dumpCursor);
  }

  newUpcall(): UpcallIn {
    return new DpifUpcall();
  }

  newDumpedFlow(): DumpedFlow {
    return new FlowSnapshot();
  }

  flowActions(f: DumpedFlow): OdpAction[] {
    return snapshotActions(f as FlowSnapshot);
  }

  recv(handler: number, out: UpcallIn[], max: number): number {
    let n = 0;
    while (n < max && this.dp.recv(handler, out[n] as DpifUpcall, true)) n++;
    return n;
  }

  recvPosition(handler: number): number {
    return this.dp.recvPosition(handler);
  }

  recvRelease(handler: number): void {
    this.dp.recvRelease(handler);
  }

  recvWait(handler: number, timeoutMs: number): void {
    this.dp.recvWait(handler, timeoutMs);
  }

  operate(ops: UdpifOp[], n: number, upcall: boolean): void {
    const dops = this.#dops;
    dops.length = n;
    for (let i = 0; i < n; i++) {
      const o = ops[i];
      let d: DpifOp;
      if (o.type === "put") {
        const p =
          (this.#puts[i] ??= { type: "put", flags: 0, key: o.key, mask: o.mask, actions: [] });
        p.flags = o.modify ? PUT_MODIFY : PUT_CREATE;
        p.key = o.key;
        p.mask = o.mask;
        p.actions = o.actions;
        p.ufid = o.ufid;
        p.pmd = o.pmd;
        // Only a modify can land on another flow (otherFlow below).
        p.wantFlow = o.modify;
        d = p;
      } else if (o.type === "del") {
        const p = (this.#dels[i] ??= { type: "del" });
        p.ufid = o.ufid;
        p.pmd = o.pmd;
        d = p;
      } else {
        const p =
          (this.#execs[i] ??= { type: "execute", packet: o.packet, inPort: 0, actions: [] });
        p.packet = o.len === o.packet.length ? o.packet : o.packet.subarray(0, o.len);
        p.inPort = o.inPort;
        p.md = o.key.length ? o.key : undefined;
        p.pmd = o.pmd;
        p.actions = o.actions;
        d = p;
      }
      d.error = undefined;
      d.flow = undefined;
      dops[i] = d;
    }
    if (upcall) this.dp.operate(dops);
    else this.#dpif.operate(dops);
    for (let i = 0; i < n; i++) {
      const o = ops[i], d = dops[i];
      o.error = d.error ?? DP_OK;
      const u = d.flow?.ufid;
      o.otherFlow = o.type === "put" && u !== undefined &&
        (u[0] !== o.ufid[0] || u[1] !== o.ufid[1] || u[2] !== o.ufid[2] || u[3] !== o.ufid[3]);
      if (o.type === "del") {
        const f = d.flow;
        o.stats.packets = f?.packets ?? 0;
        o.stats.bytes = f?.bytes ?? 0;
        o.stats.used = f?.used ?? 0;
        o.stats.tcpFlags = f?.tcpFlags ?? 0;
      }
      d.flow = undefined;
      if (d.type === "put" || d.type === "execute") d.actions = NO_ACTIONS;
    }
  }

  async recvWaitAsync(handler: number, timeoutMs: number): Promise<void> {
    const w = this.dp.recvWaitWord(handler);
    const r = Atomics.waitAsync(w.array, w.index, w.value, timeoutMs);
    if (r.async) await r.value;
    this.dp.recvWaitDone(handler);
  }

  flowGet(ufid: Uint32Array, out: DumpedFlow): boolean {
    const op = this.#get as DpifOp & { type: "get" };
    op.ufid = ufid;
    op.pmd = out.pmd;
    op.error = undefined;
    op.flow = undefined;
    // OVS's sweep reads the flow from its ukey, not from the datapath: this
    // stand-in read is neither counted nor logged as a dpif_flow_get.
    this.dp.operate([op]);
    const f = (op as DpifOp).flow as FlowSnapshot | undefined;
    if (op.error || !f) return false;
    (out as FlowSnapshot).copyFrom(f);
    return true;
  }

  flowCount(): number {
    return this.dp.getStats().flows;
  }

  dumpStart(): void {
    for (let t = 0; t < this.#dump.cursor.length; t++) Atomics.store(this.#dump.cursor, t, 0);
  }

  dumpThreadStart(thread: number, terse: boolean): void {
    this.#thread = this.#dump.threadCreate(thread);
    this.#terse = terse;
  }

  dumpNext(_thread: number, out: DumpedFlow[], max: number): number {
    if (!this.#thread) return 0;
    const n = this.#thread.next(out as FlowSnapshot[], max, this.#terse);
    logFlowDumpNext(this.name, out as FlowSnapshot[], n, this.#terse);
    return n;
  }

  dumpFill(f: DumpedFlow): boolean {
    if (!this.#terse) return true;
    return this.#dump.tables[f.pmd].readRest(f as FlowSnapshot);
  }

  dumpDone(): void {
    this.#thread = undefined;
    logFlowDumpDestroy(this.name);
  }

  flush(): void {
    this.#dpif.flowFlush();
  }
}
