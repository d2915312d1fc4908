/**
 * One line of `dpctl/dump-flows`, as OVS 3.1's format_dpif_flow writes
 * it, in the terse form and the verbose (`-m`) form:
 *
 *   [ufid:UUID, ]KEY, packets:N, bytes:N, used:never|S.SSSs[, flags:F][, dp:ovs],
 *   actions:ACTIONS[, dp-extra-info:...]
 *
 * The ufid, dp and dp-extra-info parts appear only in the verbose form.
 * `parseDumpFlow` reads either form (and bare `KEY[, actions:...]`
 * lines), keeping what it read so that printing it again gives the same
 * text.
 */
import { type FlowKey, newKey } from "./key.ts";
import type { OdpAction } from "./odp_action.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { formatOdpActions } from "./odp_action_format.ts";
import { parseOdpActions } from "./odp_action_parse.ts";
import { formatTcpFlagsStats, parseTcpFlagsStats } from "./_flags.ts";
import { OdpParseError } from "./_scan.ts";
import { formatUfid, parseUfid } from "./ufid.ts";

export interface DpFlowStats {
  packets: number;
  bytes: number;
  /** Milliseconds since the flow was last used; null if never. */
  usedAgoMs: number | null;
  /** TCP flags seen (OR of all packets). */
  tcpFlags: number;
  /**
   * The `used:` text as read, when it is not in OVS's own %.3f form (the
   * oracle's normalizer writes `0.0s`); printed back unchanged.
   */
  usedText?: string;
}

export interface DpFlow {
  /** The flow's UFID as UUID text, or null. */
  ufid: string | null;
  key: FlowKey;
  /** Null for an exact-match key printed without a mask. */
  mask: FlowKey | null;
  stats: DpFlowStats | null;
  /** Datapath layer (`ovs` for the userspace datapath), verbose only. */
  dp: string | null;
  actions: OdpAction[] | null;
  /** e.g. `miniflow_bits(4,2)`, verbose only. */
  extraInfo: string | null;
}

export interface DumpFormatOptions {
  verbose?: boolean;
  /** Port numbers to names; OVS uses names in the verbose form. */
  portNames?: ReadonlyMap<number, string> | null;
}

export function formatStats(s: DpFlowStats): string {
  let out = `packets:${s.packets}, bytes:${s.bytes}, used:`;
  out += s.usedText ?? (s.usedAgoMs === null ? "never" : (s.usedAgoMs / 1000).toFixed(3) + "s");
  if (s.tcpFlags) out += ", flags:" + formatTcpFlagsStats(s.tcpFlags);
  return out;
}

/** Formats a whole dump-flows line (without a trailing newline). */
export function formatDumpFlow(f: DpFlow, opts: DumpFormatOptions = {}): string {
  const verbose = opts.verbose ?? false;
  const names = opts.portNames ?? null;
  let s = verbose && f.ufid ? `ufid:${f.ufid}, ` : "";
  s += formatOdpKey(f.key, f.mask, { verbose, portNames: names });
  if (f.stats) s += ", " + formatStats(f.stats);
  if (verbose && f.dp) s += `, dp:${f.dp}`;
  if (f.actions) s += ", actions:" + formatOdpActions(f.actions, names);
  if (verbose && f.extraInfo) s += `, dp-extra-info:${f.extraInfo}`;
  return s;
}

/**
 * Splits at ", " outside parentheses: the separator between the key,
 * the stats fields and the actions (the key and actions use bare commas).
 */
function splitFields(line: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0 && line[i + 1] === " ") {
      out.push(line.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(line.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

function statNum(field: string, name: string): number {
  const v = field.slice(name.length + 1);
  if (!/^[0-9]+$/.test(v)) throw new OdpParseError(field, `bad ${name}`);
  return Number(v);
}

/** Parses a dump-flows line; throws OdpParseError naming the bad token. */
export function parseDumpFlow(
  line: string,
  portNames?: ReadonlyMap<string, number> | null,
): DpFlow {
  const f: DpFlow = {
    ufid: null,
    key: newKey(),
    mask: newKey(),
    stats: null,
    dp: null,
    actions: null,
    extraInfo: null,
  };
  let fields = splitFields(line.trim());
  if (fields[0]?.startsWith("ufid:")) {
    const u = parseUfid(fields[0]);
    if (!u) throw new OdpParseError(fields[0], "bad ufid");
    f.ufid = formatUfid(u);
    fields = fields.slice(1);
  }
  if (fields.length === 0) throw new OdpParseError(line, "empty flow");
  parseOdpKey(fields[0], f.key, f.mask!, portNames);
  for (const fld of fields.slice(1)) {
    const colon = fld.indexOf(":");
    const name = colon > 0 ? fld.slice(0, colon) : fld;
    const v = fld.slice(colon + 1);
    const stats =
      (): DpFlowStats => (f.stats ??= { packets: 0, bytes: 0, usedAgoMs: null, tcpFlags: 0 });
    switch (colon > 0 ? name : "") {
      case "packets":
        stats().packets = statNum(fld, name);
        break;
      case "bytes":
        stats().bytes = statNum(fld, name);
        break;
      case "used":
        if (v === "never") stats().usedAgoMs = null;
        else if (/^[0-9]+(\.[0-9]+)?s$/.test(v)) {
          stats().usedAgoMs = Math.round(parseFloat(v) * 1000);
          if (!/^[0-9]+\.[0-9]{3}s$/.test(v)) stats().usedText = v;
        } else throw new OdpParseError(fld, "bad used");
        break;
      case "flags": {
        const t = parseTcpFlagsStats(v);
        if (t === null) throw new OdpParseError(fld, "bad flags");
        stats().tcpFlags = t;
        break;
      }
      case "dp":
        f.dp = v;
        break;
      case "actions":
        f.actions = parseOdpActions(v, portNames);
        break;
      case "dp-extra-info":
        f.extraInfo = v;
        break;
      default:
        throw new OdpParseError(fld, "unknown field");
    }
  }
  return f;
}
