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
import { UsageError } from "./errors.ts";
import {
  type DpFlow,
  formatDumpFlow,
  formatOdpActions,
  formatOdpKey,
  OdpParseError,
  parseDumpFlow,
} from "../flow/mod.ts";

export { setVlanLimit } from "../flow/mod.ts";

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
