/**
 * The datapath interface contract, in the spirit of OVS's
 * lib/dpif-provider.h: what any datapath offers the layers above.
 */
import type { OdpAction } from "../flow/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import type { FlowDump } from "./flow_dump.ts";
import type { FlowSnapshot } from "./flow_table.ts";
import type { DpifUpcall } from "./upcall.ts";

export interface DpifDpStats {
  hit: number;
  missed: number;
  lost: number;
  flows: number;
  masks: number;
}

export interface DpifPort {
  portNo: number;
  name: string;
  type: string;
}

export interface DpifFlowPut {
  /** PUT_CREATE | PUT_MODIFY | PUT_ZERO_STATS. */
  flags: number;
  key: Uint32Array;
  mask: Uint32Array;
  actions: readonly OdpAction[];
  /** Defaults to the hash of the key, as dpif_flow_hash() does. */
  ufid?: Uint32Array;
  /**
   * Fill the op's `flow` with the flow as the put left it, as
   * dpif_flow_put() fills its stats only when given somewhere to put them;
   * otherwise the reply is the error alone (a handler's installs).
   */
  wantFlow?: boolean;
  /** The PMD (index) whose flow table gets it; unset, every PMD's (PMD_ID_NULL). */
  pmd?: number;
}

/** One element of `operate`: in with the request, out with error and flow. */
export type DpifOp =
  & (
    | ({ type: "put" } & DpifFlowPut)
    | { type: "del"; ufid?: Uint32Array; key?: Uint32Array }
    | { type: "get"; ufid?: Uint32Array }
    | { type: "flush" }
    | {
      type: "execute";
      packet: Uint8Array;
      inPort: number;
      actions: readonly OdpAction[];
      /** A feature probe: checked, then dropped; its failure is not logged. */
      probe?: boolean;
      /**
       * A flow key whose metadata (recirc_id, dp_hash, ct_state, ct_zone,
       * ct_mark, ct_label, ct tuple) the packet carries, as an upcall's
       * execute does; none when absent.
       */
      md?: Uint32Array;
    }
  )
  & {
    error?: number;
    flow?: FlowSnapshot;
    /**
     * The PMD (index) the op is for, as OVS's pmd_id: a put, del or get
     * goes to that PMD's flow table. Unset, a put or del goes to every
     * PMD, a get answers from the first PMD that has the flow, and an
     * execute runs on the first PMD.
     */
    pmd?: number;
  };

export interface DpifProvider {
  readonly name: string;
  readonly type: string;
  close(): void;
  destroy(): void;
  getStats(): DpifDpStats;
  portAdd(netdev: Netdev, portNo?: number): number;
  portDel(portNo: number): void;
  portQueryByNumber(portNo: number): DpifPort | undefined;
  portQueryByName(name: string): DpifPort | undefined;
  portList(): DpifPort[];
  operate(ops: DpifOp[]): void;
  flowDumpCreate(shared?: SharedArrayBuffer): FlowDump;
  recvSet(enable: boolean): void;
  handlersSet(n: number): void;
  recv(handler: number, out: DpifUpcall): boolean;
  recvWait(handler: number, timeoutMs: number): boolean;
}
