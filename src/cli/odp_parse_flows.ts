/**
 * `udpif odp/parse-flows [--verbose] [--port-names NAME=N,...]`: reads
 * datapath-flow lines on stdin (`KEY[, actions:ACTIONS]`, with or without
 * the stats fields, terse or `-m` form) and prints each back as
 * `dpctl/dump-flows` would, in the `-m` form with --verbose. This is OVS's
 * `ovstest test-odp parse-keys` as a user command, so that flow specs can
 * be validated in pipelines.
 *
 * Blank lines and `#` comments are skipped; `flow-dump from ...` headers
 * pass through, so `udpif dpctl/dump-flows | udpif odp/parse-flows` works.
 * A line that does not parse gets a one-line error naming the bad token on
 * stderr, and the command exits 1 after reading everything.
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { UsageError } from "./errors.ts";
import { parseFormat } from "./client.ts";
import {
  type DpFlow,
  formatDumpFlow,
  formatOdpActions,
  formatOdpKey,
  OdpParseError,
  parseDumpFlow,
  setVlanLimit,
} from "../flow/mod.ts";

export interface ParseFlowsOptions {
  verbose: boolean;
  /** Port names to numbers; numbers print back as names when given. */
  portNames: ReadonlyMap<string, number> | null;
}

export interface ParseFlowsResult {
  lines: string[];
  /** The parsed flows, for `--format json`. */
  flows: FlowJson[];
  errors: string[];
}

/** One flow in `--format json` output. */
export interface FlowJson {
  ufid: string | null;
  /** The key in the terse and verbose forms. */
  key: string;
  keyVerbose: string;
  packets: number | null;
  bytes: number | null;
  /** Seconds since last use; null for never (or no stats). */
  used: number | null;
  actions: string | null;
  dp: string | null;
  extraInfo: string | null;
}

function toJson(f: DpFlow, numbers: ReadonlyMap<number, string> | null): FlowJson {
  return {
    ufid: f.ufid,
    key: formatOdpKey(f.key, f.mask, { portNames: null }),
    keyVerbose: formatOdpKey(f.key, f.mask, { verbose: true, portNames: numbers }),
    packets: f.stats?.packets ?? null,
    bytes: f.stats?.bytes ?? null,
    used: f.stats?.usedAgoMs != null ? f.stats.usedAgoMs / 1000 : null,
    actions: f.actions ? formatOdpActions(f.actions, numbers) : null,
    dp: f.dp,
    extraInfo: f.extraInfo,
  };
}

export function parseFlowsText(input: string, opts: ParseFlowsOptions): ParseFlowsResult {
  const out: ParseFlowsResult = { lines: [], flows: [], errors: [] };
  const numbers = opts.portNames
    ? new Map([...opts.portNames].map(([n, p]) => [p, n] as [number, string]))
    : null;
  input.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("flow-dump from ")) {
      out.lines.push(line);
      return;
    }
    try {
      const f = parseDumpFlow(line, opts.portNames);
      out.lines.push(formatDumpFlow(f, { verbose: opts.verbose, portNames: numbers }));
      out.flows.push(toJson(f, numbers));
    } catch (e) {
      if (!(e instanceof OdpParseError)) throw e;
      out.errors.push(`line ${i + 1}: ${e.message}`);
    }
  });
  return out;
}

/** `p1=1,p2=2` -> map; a malformed entry is a usage error naming it. */
export function parsePortNames(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of s.split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq);
    const num = part.slice(eq + 1);
    if (eq <= 0 || !/^[0-9]+$/.test(num) || /^[0-9]/.test(name)) {
      throw new UsageError(`bad --port-names entry '${part}' (expected NAME=NUMBER)`);
    }
    m.set(name, Number(num));
  }
  return m;
}

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
  register(program: Command, setExit: (code: number) => void): void {
    program
      .command("odp/parse-flows")
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
