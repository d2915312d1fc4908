/** Every fuzz target, in the order `make fuzz` runs them. */
import type { AnyTarget } from "../engine.ts";
import { flowExtractTarget } from "./flow_extract.ts";
import { odpKeyTarget } from "./odp_key.ts";
import { odpActionsTarget } from "./odp_actions.ts";
import { ofctlTarget } from "./ofctl.ts";
import { jsonRpcTarget } from "./jsonrpc.ts";
import { pcapTarget } from "./pcap.ts";
import { streamTarget } from "./stream.ts";
import { pmdTarget } from "./pmd.ts";
import { openflowTarget } from "./openflow.ts";

export const TARGETS: readonly AnyTarget[] = [
  flowExtractTarget,
  odpKeyTarget,
  odpActionsTarget,
  ofctlTarget,
  jsonRpcTarget,
  pcapTarget,
  streamTarget,
  pmdTarget,
  openflowTarget,
];
