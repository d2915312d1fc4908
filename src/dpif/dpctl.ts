/**
 * dpctl commands over a netdev datapath, printing exactly what OVS 3.1's
 * lib/dpctl.c prints for the userspace datapath. Each returns the reply
 * text; a failure throws DpctlError with OVS's message (the caller
 * replies with it as an error).
 */
import {
  type DpFlow,
  formatDumpFlow,
  formatUfid,
  miniflowBitsInfo,
  newKey,
  odpKeyAndMaskFit,
  odpKeyFit,
  OdpParseError,
  parseOdpActions,
  parseOdpKey,
  parseUfid,
} from "../flow/mod.ts";
import { timeMsec } from "../lib/mod.ts";
import {
  asLinuxNetdev,
  LinuxError,
  linuxNetdevStats,
  strerror as strerrorText,
} from "../netdev/mod.ts";
import { type DpifNetdev, snapshotActions } from "./dpif_netdev.ts";
// Flow commands go through the dpif wrapper, as OVS's dpctl does: counted and logged.
import { Dpif, logFlowDumpDestroy, logFlowDumpNext } from "./dpif.ts";
import { newDumpBatch } from "./flow_dump.ts";
import type { FlowSnapshot } from "./flow_table.ts";
import { NON_PMD_CORE_ID } from "./_shared.ts";
import { EINVAL, ENOENT, PUT_CREATE, PUT_MODIFY, PUT_ZERO_STATS, strerror } from "./protocol.ts";

export class DpctlError extends Error {}

function fail(errno: number, what: string): never {
  throw new DpctlError(`ovs-vswitchd: ${what} (${strerror(errno)})`);
}

function portNames(dp: DpifNetdev): Map<number, string> {
  return new Map(dp.portList().map((p) => [p.portNo, p.name]));
}

function portNumbers(dp: DpifNetdev): Map<string, number> {
  return new Map(dp.portList().map((p) => [p.name, p.portNo]));
}

/**
 * opt_dpif_open: when `args` holds more than `nonDp` arguments, the first
 * names the datapath, which must be this one. Returns the rest.
 */
function skipDp(dp: DpifNetdev, args: string[], nonDp: number): string[] {
  if (args.length <= nonDp) return args;
  const name = args[0];
  if (name !== dp.name && name !== `ovs-${dp.type}` && name !== `${dp.type}@ovs-${dp.type}`) {
    throw new DpctlError("ovs-vswitchd: datapath not found (Invalid argument)");
  }
  return args.slice(1);
}

/** odp_flow_from_string's message for a parse failure. */
function keyError(e: unknown): string {
  return e instanceof OdpParseError ? e.ovsMessage : (e as Error).message;
}

function toDpFlow(s: FlowSnapshot, now: number): DpFlow {
  return {
    ufid: formatUfid(s.ufid),
    key: s.key,
    mask: s.mask,
    stats: {
      packets: s.packets,
      bytes: s.bytes,
      usedAgoMs: s.used ? Math.max(0, now - s.used) : null,
      tcpFlags: s.tcpFlags,
    },
    dp: "ovs",
    actions: snapshotActions(s),
    extraInfo: miniflowBitsInfo(s.mask, s.key),
  };
}

/**
 * Parses an OpenFlow-style exact-flow filter (`tcp,in_port=1`, as OVS's
 * parse_ofp_exact_flow) into a key and a mask in the flow key layout;
 * throws an Error whose message OVS would print (`garbage: unknown field
 * garbage`). The OpenFlow match syntax lives above this layer, so the
 * caller supplies it.
 */
export type DumpFilterParser = (text: string) => { key: Uint32Array; mask: Uint32Array };

export interface DumpFlowsOptions {
  parseFilter?: DumpFilterParser;
}

/** Whether a dumped flow passes `filter=`: equal on the fields both match on. */
function passesFilter(s: FlowSnapshot, f: { key: Uint32Array; mask: Uint32Array }): boolean {
  for (let i = 0; i < s.key.length; i++) {
    if (((s.key[i] ^ f.key[i]) & f.mask[i] & s.mask[i]) !== 0) return false;
  }
  return true;
}

/** `dpctl/dump-flows [-m] [--names|--no-names] [DP] [filter=FLOW] [type=TYPES] [pmd=N]`. */
export function dpctlDumpFlows(
  dp: DpifNetdev,
  args: string[],
  opts: DumpFlowsOptions = {},
): string {
  let verbose = false, names: boolean | undefined;
  const rest: string[] = [];
  for (const a of args) {
    if (a === "-m" || a === "--more") verbose = true;
    else if (a === "--names") names = true;
    else if (a === "--no-names") names = false;
    else rest.push(a);
  }
  // As in OVS, filter=, type= and pmd= are taken from the end only.
  let filterText: string | undefined, typeList: string | undefined, pmd: number | undefined;
  for (;;) {
    const last = rest[rest.length - 1];
    if (last === undefined) break;
    if (last.startsWith("filter=") && filterText === undefined) filterText = last.slice(7);
    else if (last.startsWith("type=") && typeList === undefined) typeList = last.slice(5);
    else if (last.startsWith("pmd=") && pmd === undefined) {
      if (!/^pmd=-?\d+/.test(last)) throw new DpctlError("ovs-vswitchd: (Invalid argument)");
      pmd = parseInt(last.slice(4), 10);
    } else break;
    rest.pop();
  }
  if (rest.length > 1) throw new DpctlError("ovs-vswitchd: usage: [dp]");
  skipDp(dp, rest, 0);
  // Every flow here lives in the userspace datapath ("ovs" layer, not offloaded).
  let ovsFlows = typeList === undefined;
  for (const t of typeList ? typeList.split(",").filter((x) => x) : []) {
    if (t === "ovs" || t === "non-offloaded" || t === "all") ovsFlows = true;
    else if (!["tc", "dpdk", "offloaded", "partially-offloaded"].includes(t)) {
      throw new DpctlError(`ovs-vswitchd: Failed to parse type (${t}) (Invalid argument)`);
    }
  }
  // pmd=-1 names the main thread (NON_PMD_CORE_ID); other numbers a PMD's core.
  const pmdCore = pmd === undefined ? undefined : pmd === -1 ? NON_PMD_CORE_ID : pmd >>> 0;
  let filter: { key: Uint32Array; mask: Uint32Array } | undefined;
  if (filterText !== undefined) {
    if (!opts.parseFilter) {
      throw new DpctlError(
        `ovs-vswitchd: Failed to parse filter (${filterText}: no filter parser)`,
      );
    }
    try {
      filter = opts.parseFilter(filterText);
    } catch (e) {
      throw new DpctlError(`ovs-vswitchd: Failed to parse filter (${(e as Error).message})`);
    }
  }
  const pn = (names ?? verbose) ? portNames(dp) : null;
  if (!ovsFlows) return "";
  const dump = dp.flowDumpCreate();
  const t = dump.threadCreate();
  const batch = newDumpBatch();
  const now = timeMsec();
  let out = "", shownPmd = -1;
  for (let n = t.next(batch);; n = t.next(batch)) {
    logFlowDumpNext(dp.name, batch, n, false);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const f = batch[i], core = dp.pmdCore(f.pmd);
      if (pmdCore !== undefined && core !== pmdCore) continue;
      if (filter && !passesFilter(f, filter)) continue;
      // As OVS: without pmd=, each PMD's flows come under a title line.
      if (pmdCore === undefined && f.pmd !== shownPmd) {
        out += core === NON_PMD_CORE_ID
          ? "flow-dump from the main thread:\n"
          : `flow-dump from pmd on cpu core: ${core}\n`;
        shownPmd = f.pmd;
      }
      out += formatDumpFlow(toDpFlow(f, now), { verbose, portNames: pn }) + "\n";
    }
  }
  logFlowDumpDestroy(dp.name);
  return out;
}

/** Splits an optional leading `ufid:UUID` (and a comma) off a flow key. */
function splitUfid(text: string): { ufid: Uint32Array | null; rest: string } {
  const m = /^ufid:([0-9a-f-]{36})(.*)$/i.exec(text);
  if (!m) {
    if (text.startsWith("ufid:")) fail(EINVAL, "parsing flow ufid");
    return { ufid: null, rest: text };
  }
  const ufid = parseUfid(m[1]);
  if (!ufid) fail(EINVAL, "parsing flow ufid");
  return { ufid, rest: m[2].replace(/^[,\s]+/, "") };
}

function parseKey(dp: DpifNetdev, text: string, what: string | null) {
  const key = newKey(), mask = newKey();
  try {
    const level = parseOdpKey(text, key, mask, portNumbers(dp));
    return { key, mask, level };
  } catch (e) {
    throw new DpctlError(
      `ovs-vswitchd: ${what ? `${what} (${keyError(e)})` : keyError(e)} (${strerror(EINVAL)})`,
    );
  }
}

function putFlow(dp: DpifNetdev, args: string[], flags: number): string {
  const clear = args.includes("--clear");
  const rest = skipDp(
    dp,
    args.filter((a) => a !== "--clear" && a !== "-s" && a !== "--statistics"),
    2,
  );
  if (rest.length !== 2) throw new DpctlError("ovs-vswitchd: usage: [dp] flow actions");
  const { ufid, rest: keyText } = splitUfid(rest[0]);
  const { key, mask, level } = parseKey(dp, keyText, "parsing flow key");
  let actions;
  try {
    actions = parseOdpActions(rest[1], portNumbers(dp));
  } catch {
    fail(EINVAL, "parsing actions");
  }
  // dpif_netdev_flow_put takes only a key and a mask that fit perfectly
  // (flow_from_nlattrs, mask_from_nlattrs).
  if (!odpKeyAndMaskFit(level, key, mask)) fail(EINVAL, "updating flow table");
  const op = new Dpif(dp).flowPut({
    flags: flags | (clear ? PUT_ZERO_STATS : 0),
    key,
    mask,
    actions,
    ufid: ufid ?? undefined,
  });
  if (op.error) fail(op.error, "updating flow table");
  return "";
}

/** `dpctl/add-flow [DP] [ufid:UUID,]FLOW ACTIONS`. */
export function dpctlAddFlow(dp: DpifNetdev, args: string[]): string {
  return putFlow(dp, args, PUT_CREATE);
}

/** `dpctl/mod-flow [DP] [ufid:UUID,]FLOW ACTIONS`. */
export function dpctlModFlow(dp: DpifNetdev, args: string[]): string {
  return putFlow(dp, args, PUT_MODIFY);
}

/** `dpctl/del-flow [DP] FLOW|ufid:UUID`. */
export function dpctlDelFlow(dp: DpifNetdev, args: string[]): string {
  const rest = skipDp(dp, args, 1);
  if (rest.length !== 1) throw new DpctlError("ovs-vswitchd: usage: [dp] flow");
  const { ufid, rest: keyText } = splitUfid(rest[0]);
  const { key, level } = parseKey(dp, keyText, null);
  // Without a UFID, a key that does not fit names no flow
  // (dp_netdev_pmd_find_flow).
  const fits = ufid !== null || odpKeyFit(level, key).fitness === "perfect";
  const op = fits ? new Dpif(dp).flowDel(ufid ?? undefined, key) : { error: ENOENT };
  if (op.error) {
    let msg = `ovs-vswitchd: deleting flow (${strerror(op.error)})`;
    if (op.error === ENOENT) msg += "\nPerhaps you need to specify a UFID?";
    throw new DpctlError(msg);
  }
  return "";
}

/** `dpctl/get-flow [-m] [--names|--no-names] [DP] ufid:UUID`. */
export function dpctlGetFlow(dp: DpifNetdev, args: string[]): string {
  let verbose = false, names: boolean | undefined;
  const plain: string[] = [];
  for (const a of args) {
    if (a === "-m" || a === "--more") verbose = true;
    else if (a === "--names") names = true;
    else if (a === "--no-names") names = false;
    else plain.push(a);
  }
  const rest = skipDp(dp, plain, 1);
  const text = rest[rest.length - 1] ?? "";
  if (!text.startsWith("ufid:")) return "ovs-vswitchd: parsing flow ufid\n";
  const { ufid } = splitUfid(text);
  const op = new Dpif(dp).flowGet(ufid!);
  if (op.error || !op.flow) fail(op.error || ENOENT, "getting flow");
  return formatDumpFlow(toDpFlow(op.flow, timeMsec()), {
    verbose,
    portNames: (names ?? verbose) ? portNames(dp) : null,
  }) + "\n";
}

/** `dpctl/del-flows [DP]`. */
export function dpctlDelFlows(dp: DpifNetdev, args: string[]): string {
  const rest = skipDp(dp, args, 0);
  if (rest.length) throw new DpctlError("ovs-vswitchd: usage: [dp]");
  new Dpif(dp).flowFlush();
  return "";
}

/** `dpctl/show [-s] [DP]`. */
export function dpctlShow(dp: DpifNetdev, args: string[]): string {
  const stats = args.includes("-s") || args.includes("--statistics");
  for (const a of args) {
    if (a === "-s" || a === "--statistics" || a === dp.name || a === `ovs-${dp.type}`) continue;
    throw new DpctlError(
      `ovs-vswitchd: opening datapath ${a} failed (Address family not supported by protocol)`,
    );
  }
  const s = dp.getStats();
  let out =
    `${dp.name}:\n  lookups: hit:${s.hit} missed:${s.missed} lost:${s.lost}\n  flows: ${s.flows}\n`;
  for (const p of dp.portList()) {
    // show_dpif names the type of every port but a system one.
    out += `  port ${p.portNo}: ${p.name}${p.type === "system" ? "" : ` (${p.type})`}\n`;
    if (stats) out += portStatsText(dp, p.portNo, p.type);
  }
  return out;
}

/** print_human_size. */
function humanSize(n: number): string {
  const units: [number, string][] = [[2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [
    1024,
    "KiB",
  ]];
  for (const [size, unit] of units) if (n >= size) return ` (${(n / size).toFixed(1)} ${unit})`;
  return "";
}

/**
 * A port's netdev_get_stats lines in show_dpif's layout: a Linux
 * netdev's kernel counters (", could not retrieve stats (...)" without a
 * newline when its interface is gone, as OVS prints it); a dummy's
 * packet and byte counts with "?" for what it does not count. Port 0, the
 * datapath's own tap, is never up here: its counters are all zero.
 */
function portStatsText(dp: DpifNetdev, portNo: number, type: string): string {
  const [rxp, rxb, txp, txb, rxDropped, txDropped] = dp.portStats(portNo);
  const netdev = dp.netdevOf(portNo);
  const linux = asLinuxNetdev(netdev);
  let s: Record<string, number | "?">;
  if (linux) {
    try {
      s = { ...linuxNetdevStats(linux, rxDropped, txDropped) };
    } catch (e) {
      if (!(e instanceof LinuxError)) throw e;
      return `, could not retrieve stats (${strerrorText(e.errno)})`;
    }
  } else {
    const unknown = !netdev && type === "tap" ? 0 : "?";
    s = {
      rxPackets: rxp,
      rxBytes: rxb,
      txPackets: txp,
      txBytes: txb,
      rxErrors: unknown,
      rxDropped: unknown,
      rxOverErrors: unknown,
      rxFrameErrors: unknown,
      txErrors: unknown,
      txDropped: unknown,
      txAbortedErrors: unknown,
      txCarrierErrors: unknown,
      collisions: unknown,
    };
  }
  const size = (n: number | "?") => n === "?" ? "" : humanSize(n);
  return `    RX packets:${s.rxPackets} errors:${s.rxErrors} dropped:${s.rxDropped}` +
    ` overruns:${s.rxOverErrors} frame:${s.rxFrameErrors}\n` +
    `    TX packets:${s.txPackets} errors:${s.txErrors} dropped:${s.txDropped}` +
    ` aborted:${s.txAbortedErrors} carrier:${s.txCarrierErrors}\n` +
    `    collisions:${s.collisions}\n` +
    `    RX bytes:${s.rxBytes}${size(s.rxBytes)}  TX bytes:${s.txBytes}${size(s.txBytes)}\n`;
}
