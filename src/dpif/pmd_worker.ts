/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The PMD worker: attaches the shared clock, loads flow_extract, warms
 * up the flow setup path on a scratch datapath (_pmd_warmup.ts), attaches
 * the shared coverage and log, then runs PMD `index` of its datapath
 * until told to stop.
 */
import { attachClock, attachCoverage, attachLog, getLogger } from "../lib/mod.ts";
import {
  type DatapathBuffers,
  DatapathShared,
  PC_PMD_EXITED,
  PC_PMD_GEN,
  PC_PMD_RUNNING,
} from "./_shared.ts";
import { type FlowExtractFn, Pmd } from "./pmd.ts";
import { warmUpPmdSetupPath } from "./_pmd_warmup.ts";

const log = getLogger("dpif_netdev");

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
  const mod = await import(m.extractModule);
  const extract = mod.flowExtract as FlowExtractFn;
  const shared = new DatapathShared(m.buffers);
  const ctl = shared.pmds[m.index].ctl;
  if (Atomics.load(ctl, PC_PMD_GEN) !== m.generation) return self.close();
  // Before the daemon's coverage and log are attached, so that nothing it
  // counts or logs reaches them (_pmd_warmup.ts). A warm-up that fails
  // leaves the PMD cold, never stopped.
  let warmUpError: unknown;
  try {
    warmUpPmdSetupPath(extract);
  } catch (err) {
    warmUpError = err;
  }
  attachCoverage(m.coverage, true);
  attachLog(m.log);
  if (warmUpError !== undefined) log.warn(`PMD ${m.index} start-up warm-up failed: ${warmUpError}`);
  // A test extract module without setVlanLimit leaves the flow module's.
  const pmd = new Pmd(shared, extract, mod.setVlanLimit, m.index);
  Atomics.store(ctl, PC_PMD_RUNNING, 1);
  Atomics.notify(ctl, PC_PMD_RUNNING);
  pmd.run(m.generation);
  Atomics.store(ctl, PC_PMD_EXITED, m.generation + 1);
  self.close();
};
