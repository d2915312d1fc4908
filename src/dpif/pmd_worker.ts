/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The PMD worker: attaches the shared clock, coverage and log, loads
 * flow_extract, then runs PMD `index` of its datapath until told to stop.
 */
import { attachClock, attachCoverage, attachLog } from "../lib/mod.ts";
import {
  type DatapathBuffers,
  DatapathShared,
  PC_PMD_EXITED,
  PC_PMD_GEN,
  PC_PMD_RUNNING,
} from "./_shared.ts";
import { type FlowExtractFn, Pmd } from "./pmd.ts";

interface StartMessage {
  type: "start";
  buffers: DatapathBuffers;
  /** Which of the datapath's PMDs this worker runs. */
  index: number;
  clock: SharedArrayBuffer;
  coverage: SharedArrayBuffer;
  log: SharedArrayBuffer;
  extractModule: string;
  generation: number;
}

self.onmessage = async (e: MessageEvent<StartMessage>) => {
  const m = e.data;
  attachClock(m.clock);
  attachCoverage(m.coverage);
  attachLog(m.log);
  const mod = await import(m.extractModule);
  const extract = mod.flowExtract as FlowExtractFn;
  const shared = new DatapathShared(m.buffers);
  const ctl = shared.pmds[m.index].ctl;
  if (Atomics.load(ctl, PC_PMD_GEN) !== m.generation) return self.close();
  // A test extract module without setVlanLimit leaves the flow module's.
  const pmd = new Pmd(shared, extract, mod.setVlanLimit, m.index);
  Atomics.store(ctl, PC_PMD_RUNNING, 1);
  Atomics.notify(ctl, PC_PMD_RUNNING);
  pmd.run(m.generation);
  Atomics.store(ctl, PC_PMD_EXITED, m.generation + 1);
  self.close();
};
