/**
 * `dpctl/dump-flows` as the daemon runs it: `filter=` takes an exact flow
 * in ovs-ofctl syntax (parse_ofp_exact_flow), whose in_port may name a
 * port by its datapath name, as OVS's dpctl resolves it.
 *
 * Thread-safety: main thread.
 */
import { dpctlDumpFlows, type DpifNetdev } from "../dpif/mod.ts";
import { parseExactMatch } from "../xlate/mod.ts";

/** The dump-flows reply for `args`; throws DpctlError with OVS's message. */
export function dpDumpFlows(dp: DpifNetdev, args: string[]): string {
  return dpctlDumpFlows(dp, args, {
    parseFilter: (text) => {
      const ports = new Map(dp.portList().map((p) => [p.name, p.portNo]));
      return parseExactMatch(text, (name) => ports.get(name));
    },
  });
}
