/**
 * Registers `udpif odp/parse-flows` (see odp_parse_flows.ts for what it
 * does); the flow parser is loaded only when the command runs, so other
 * commands start without it.
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { UsageError } from "./errors.ts";
import { parseFormat } from "./client.ts";
import { importOnDemand } from "./on_demand.ts";

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}

export const odpParseFlows: Subcommand = {
  name: "odp/parse-flows",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("read datapath flows on stdin and print them back as dpctl/dump-flows does")
      .option("-m, --verbose", "print the verbose (-m) form: every attribute with its mask")
      .option("--port-names <list>", "port names for in_port and outputs, e.g. p1=1,p2=2")
      .option("--format <format>", "text (default) or json")
      .option("--vlan-limit <n>", "VLAN headers to read, as other_config:vlan-limit (default 1)")
      .addHelpText(
        "after",
        "\nInput lines: KEY[, packets:N, bytes:N, used:T][, actions:ACTIONS], terse or -m form.\n" +
          "Exit status: 0 all lines parsed, 1 some line did not (error on stderr), 2 usage.\n" +
          "Example: echo 'in_port(1),eth_type(0x0800),ipv4(frag=no), actions:2' | udpif odp/parse-flows -m",
      )
      .action(async (
        opts: { verbose?: boolean; portNames?: string; format?: string; vlanLimit?: string },
      ) => {
        const format = parseFormat(opts.format);
        const { parseFlowsText, parsePortNames, setVlanLimit } = await importOnDemand<
          typeof import("./odp_parse_flows.ts")
        >("./odp_parse_flows.ts");
        if (opts.vlanLimit !== undefined) {
          if (!/^[0-9]+$/.test(opts.vlanLimit)) {
            throw new UsageError(`--vlan-limit: not a number: ${opts.vlanLimit}`);
          }
          setVlanLimit(Number(opts.vlanLimit));
        }
        const portNames = opts.portNames ? parsePortNames(opts.portNames) : null;
        const r = parseFlowsText(await readStdin(), { verbose: opts.verbose ?? false, portNames });
        if (format === "json") console.log(JSON.stringify(r.flows, null, 2));
        else if (r.lines.length) console.log(r.lines.join("\n"));
        for (const e of r.errors) console.error(`udpif: odp/parse-flows: ${e}`);
        setExit(r.errors.length ? 1 : 0);
      });
  },
};
