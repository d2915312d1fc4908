/**
 * Registers the datapath's own commands, as lib/dpctl.c and
 * dpif-netdev.c's unixctl commands: `dpctl/...` (flows, ports,
 * conntrack) and `dpif-netdev/pmd-...`. They act on the one datapath the
 * bridges share, so they take no bridge; a DpctlError becomes the
 * command's error reply.
 *
 * Thread-safety: main thread.
 */
import {
  dpctlAddFlow,
  dpctlDelFlow,
  dpctlDelFlows,
  DpctlError,
  dpctlGetFlow,
  dpctlModFlow,
  dpctlShow,
  type DpifNetdev,
  pmdInfoCommand,
  pmdPerfShowCommand,
  pmdRxqRebalance,
  pmdRxqShow,
} from "../dpif/mod.ts";
import { CommandError, registerCommand } from "../lib/mod.ts";
import { dpDumpFlows } from "./dump_flows.ts";
import { registerConntrackCommands } from "./conntrack_commands.ts";

/** Runs a dpctl command, turning its DpctlError into the error reply. */
export function dpctlReply(fn: () => string): string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DpctlError) throw new CommandError(e.message);
    throw e;
  }
}

/** Registers the commands on the datapath `datapath()` returns when each runs. */
export function registerDpctlCommands(datapath: () => DpifNetdev): void {
  const dp = (
    name: string,
    usage: string,
    min: number,
    max: number,
    fn: (d: DpifNetdev, a: string[]) => string,
  ) =>
    registerCommand({
      name,
      usage,
      minArgs: min,
      maxArgs: max,
      handler: (args) => dpctlReply(() => fn(datapath(), args)),
    });
  dp(
    "dpctl/dump-flows",
    "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]",
    0,
    6,
    dpDumpFlows,
  );
  dp("dpctl/show", "[-s] [dp...]", 0, Number.MAX_SAFE_INTEGER, dpctlShow);
  dp("dpctl/add-flow", "[dp] flow actions", 2, 3, dpctlAddFlow);
  dp("dpctl/mod-flow", "[dp] flow actions", 2, 3, dpctlModFlow);
  dp("dpctl/del-flow", "[dp] flow", 1, 2, dpctlDelFlow);
  dp("dpctl/get-flow", "[dp] ufid", 1, 2, dpctlGetFlow);
  dp("dpctl/del-flows", "[dp] [file]", 0, 2, dpctlDelFlows);
  registerConntrackCommands(dp);
  dp("dpif-netdev/pmd-stats-show", "[-pmd core] [dp]", 0, 3, (d, a) => pmdInfoCommand(d, a, false));
  dp("dpif-netdev/pmd-stats-clear", "[-pmd core] [dp]", 0, 3, (d, a) => pmdInfoCommand(d, a, true));
  dp("dpif-netdev/pmd-rxq-show", "[-pmd core] [-secs secs] [dp]", 0, 5, pmdRxqShow);
  dp("dpif-netdev/pmd-rxq-rebalance", "[dp]", 0, 1, (d) => pmdRxqRebalance(d));
  dp(
    "dpif-netdev/pmd-perf-show",
    "[-nh] [-it iter-history-len] [-ms ms-history-len] [-pmd core] [dp]",
    0,
    8,
    pmdPerfShowCommand,
  );
}
