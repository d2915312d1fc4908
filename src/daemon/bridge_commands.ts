/**
 * The control commands that act on the bridge: OpenFlow table management
 * for `udpif ofctl` (hidden `ofctl/...` commands that take the rules as
 * text), `port/set`, `netdev-dummy/receive`, `fdb/show`, `dpif/show`,
 * `dpif/show-dp-features`, `dpif/dump-flows`, and (through dpctl_commands.ts)
 * the datapath's `dpctl/...` and `dpif-netdev/...` commands. They are
 * registered once and act on the current bridges, so a daemon restarted
 * in the same process (tests) keeps one registration. A command that
 * names a bridge acts on that one; the `dpctl/...` commands show the
 * one datapath the bridges share; a port command finds the port's bridge.
 *
 * Thread-safety: main thread.
 */
import { CommandError, registerCommand, timeMsec } from "../lib/mod.ts";
import { setPortWithAffinity } from "./port_rxq.ts";
import {
  FlowModRefused,
  formatFdbShow,
  formatFlowModRefused,
  OfctlError,
  parseFlowMod,
} from "../ofproto/mod.ts";
import { ofprotoTrace, type XlateTables } from "../xlate/mod.ts";
import { type BackerSupport, backerSupportJson, formatBackerSupport } from "./backer_support.ts";
import type { Bridge, PortModAction } from "./bridge.ts";
import { dpDumpFlows } from "./dump_flows.ts";
import { dpctlReply, registerDpctlCommands } from "./dpctl_commands.ts";
import { parseDumpFlows } from "./json_views.ts";
import { formatPortVlanConfig } from "./port_config.ts";
import { bridgeByIdOf, formatPatchPort, patchPeerOf } from "./patch_port.ts";
import { registerOfctlPortCommands } from "./ofctl_ports.ts";
import { receiveInOrder } from "./receive.ts";
import { registerGroupCommands } from "./group_commands.ts";
import { registerPacketOutCommand } from "./packet_out.ts";
import { registerBondCommands } from "./bond_commands.ts";
import { registerPortRuntimeCommands } from "./port_runtime.ts";

let current: Bridge[] = [];
let registered = false;

/** The first bridge (the daemon's default one), if one is running. */
export function currentBridge(): Bridge | undefined {
  return current[0];
}

function bridge(): Bridge {
  if (!current.length) throw new CommandError("no bridge is running");
  return current[0];
}

/** The bridge named `name`, as ovs-ofctl and fdb/show look it up. */
function named(name: string): Bridge {
  const b = bridge() && current.find((c) => c.name === name);
  if (!b) throw new CommandError(`${name} is not a bridge or a socket`);
  return b;
}

/** The bridge with a port or bond called `port` (the first bridge when none has, for its error). */
function bridgeOfPort(port: string): Bridge {
  return current.find((b) => b.portByName(port) || b.bonds.membersOf(port)) ?? bridge();
}

/** The VLAN settings of port or bond `name` (a bond's are its members'). */
function portVlanOf(b: Bridge, name: string) {
  return b.port(b.bonds.membersOf(name)?.[0] ?? name).vlan;
}

/** Runs an ofproto table change, turning its parse errors into error replies. */
function tableOp(
  b: Bridge,
  fn: (t: Bridge["tables"]) => ReturnType<Bridge["tables"]["addFlow"]>,
  version = 1,
): string {
  try {
    b.tablesChanged(fn(b.tables));
  } catch (e) {
    if (e instanceof FlowModRefused) throw new CommandError(formatFlowModRefused(e, version));
    if (e instanceof OfctlError) throw new CommandError(e.message);
    throw e;
  }
  return "";
}

/** Splits `[--strict] [--file TEXT | FLOW]`. */
function strictArgs(args: string[]): { strict: boolean; file?: string; flow?: string } {
  const strict = args[0] === "--strict";
  const rest = strict ? args.slice(1) : args;
  if (rest[0] === "--file") return { strict, file: rest[1] ?? "" };
  return { strict, flow: rest[0] };
}

/** The features probed on `br`'s datapath; OVS's error for any other name. */
function dpFeaturesOf(br: string): BackerSupport {
  const b = current.find((c) => c.name === br);
  if (!b) throw new CommandError("no such bridge");
  return b.support;
}

/**
 * `dpif/show`: the datapath's counters, then each bridge by name with
 * its ports as `name ofport/odpport: (type)`.
 */
function dpifShow(): string {
  const s = bridge().dp.getStats();
  let out = `${bridge().dp.name}: hit:${s.hit} missed:${s.missed}\n`;
  for (const b of [...current].sort((x, y) => x.name < y.name ? -1 : 1)) {
    out += `  ${b.name}:\n`;
    const lines: Array<[string, string]> = b.allPorts().map((p) => [
      p.name,
      `    ${p.name} ${p.ofport}/${p.odpPort}: (${p.netdev.type})\n`,
    ]);
    for (const p of b.patchPorts) lines.push([p.name, formatPatchPort(p)]);
    lines.sort((x, y) => x[0] < y[0] ? -1 : 1);
    for (const [, line] of lines) out += line;
  }
  return out;
}

/** `dpif/dump-flows [-m] BRIDGE`: dpctl's lines without the per-thread header. */
function dpifDumpFlows(args: string[]): string {
  const verbose = args.includes("-m");
  const names = args.filter((a) => !a.startsWith("-"));
  if (names.length !== 1) throw new CommandError("dpif/dump-flows: bridge name required");
  const b = named(names[0]);
  const text = dpctlReply(() => dpDumpFlows(b.dp, verbose ? ["-m", "--names"] : []));
  return text.split("\n").filter((l) => l && !l.startsWith("flow-dump from")).map((l) =>
    verbose
      ? l.replace(/^(ufid:[0-9a-f-]+), /, "$1 ").replace(/, dp:ovs/, "").replace(
        /, dp-extra-info:.*$/,
        "",
      )
      : l
  ).map((l) => l + "\n").join("");
}

/** What `ofproto/trace` translates through for bridge `b`. */
function traceBridge(b: Bridge) {
  return {
    bridge: b.xbridge(),
    tables: b.tables as XlateTables,
    ml: b.ml,
    recircIds: b.recircIds,
    bridgeId: b.id,
    patchPeer: (peer: string) => patchPeerOf(current, peer),
    bridgeById: (id: number) => bridgeByIdOf(current, id),
  };
}

/** `ofproto/trace`: the translation of one flow, step by step, without side effects. */
function trace(args: string[]): string {
  const b = bridge();
  try {
    return ofprotoTrace(args, {
      bridge: (name) => {
        const named = current.find((c) => c.name === name);
        return named && traceBridge(named);
      },
      dpType: b.datapathType,
      bridgeOfOdpPort: (odp) => {
        const owner = current.find((c) => c.allPorts().some((p) => p.odpPort === odp));
        return owner && traceBridge(owner);
      },
      nowMs: timeMsec(),
    });
  } catch (e) {
    throw new CommandError(e instanceof Error ? e.message : String(e));
  }
}

/** Splits off a leading `--ofp-version=V` (1 = OpenFlow 1.0 when absent). */
function ofpVersion(args: string[]): { version: number; rest: string[] } {
  const m = /^--ofp-version=([1-6])$/.exec(args[0] ?? "");
  return m ? { version: Number(m[1]), rest: args.slice(1) } : { version: 1, rest: args };
}

/**
 * `ofctl/mod-flows|del-flows BRIDGE [--strict] FLOW|--file TEXT`: a file
 * is checked line by line first (the error names the line), then applied
 * as one change, so a bad line changes nothing.
 */
function fileOp(
  b: Bridge,
  command: "modify" | "delete",
  rest: string[],
  version: number,
): string {
  const { strict, file, flow } = strictArgs(rest);
  const lines = file === undefined
    ? [flow ?? ""]
    : file.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const mods = lines.map((line, i) => {
    try {
      return parseFlowMod(line, command, strict, { version });
    } catch (e) {
      if (!(e instanceof OfctlError)) throw e;
      throw new CommandError(file === undefined ? e.message : `line ${i + 1}: ${e.message}`);
    }
  });
  try {
    b.tablesChanged(b.tables.flowMods(mods, strict, timeMsec()));
  } catch (e) {
    if (e instanceof FlowModRefused) throw new CommandError(formatFlowModRefused(e, version));
    if (e instanceof OfctlError) throw new CommandError(e.message);
    throw e;
  }
  return "";
}

/** `ofctl/dump-flows [--ofp-version=V] BRIDGE [FLOW]`: ovs-ofctl's text, with rule ages. */
function dumpFlows(all: string[]): string {
  const { version, rest: args } = ofpVersion(all);
  const [br, filter, extra] = args;
  if (br === undefined || extra !== undefined) {
    throw new CommandError("ofctl/dump-flows: expected BRIDGE [FLOW]");
  }
  const b = named(br);
  b.drainStats();
  try {
    return b.tables.dumpFlows({ filter, version, nowMs: timeMsec() });
  } catch (e) {
    if (e instanceof OfctlError) throw new CommandError(e.message);
    throw e;
  }
}

/** Makes `bridges` the bridges the commands act on, registering them the first time. */
export function registerBridgeCommands(bridges: Bridge[]): void {
  current = bridges;
  if (registered) return;
  registered = true;
  registerGroupCommands(named);
  registerPacketOutCommand(named);
  registerOfctlPortCommands(named);
  registerBondCommands(bridge);
  registerPortRuntimeCommands(() => current, named);
  const hidden = (
    name: string,
    min: number,
    max: number,
    handler: (args: string[]) => string,
  ) => registerCommand({ name, usage: undefined, minArgs: min, maxArgs: max, handler });
  const now = () => timeMsec();

  // Every ofctl/ command takes an optional leading --ofp-version=V (from ovs-ofctl's -O).
  const of = (name: string, min: number, max: number, fn: (v: number, a: string[]) => string) =>
    hidden(name, min, max + 1, (args) => {
      const { version, rest } = ofpVersion(args);
      if (rest.length < min) {
        throw new CommandError(`"${name}" command requires at least ${min} arguments`);
      }
      return fn(version, rest);
    });
  of(
    "ofctl/add-flow",
    2,
    2,
    (version, [br, flow]) =>
      tableOp(named(br), (t) => t.addFlow(flow, now(), { version }), version),
  );
  of(
    "ofctl/add-flows",
    2,
    2,
    (version, [br, text]) =>
      tableOp(named(br), (t) => t.addFlows(text, now(), { version }), version),
  );
  of(
    "ofctl/mod-flows",
    2,
    4,
    (version, [br, ...rest]) => fileOp(named(br), "modify", rest, version),
  );
  of(
    "ofctl/del-flows",
    1,
    4,
    (version, [br, ...rest]) => fileOp(named(br), "delete", rest, version),
  );
  registerCommand({
    name: "ofctl/dump-flows",
    usage: undefined,
    minArgs: 1,
    maxArgs: 3,
    handler: (args) => dumpFlows(args),
    json: (args) => dumpFlows(args).split("\n").slice(1).filter((l) => l).map((l) => l.trim()),
  });
  hidden("ofctl/mod-port", 3, 3, ([br, port, action]) => {
    if (!["flood", "no-flood", "up", "down"].includes(action)) {
      throw new CommandError(`unknown mod-port command '${action}' (flood, no-flood, up or down)`);
    }
    named(br).modPort(port, action as PortModAction);
    return "";
  });
  registerCommand({
    name: "port/set",
    usage: "port key=value...",
    minArgs: 1,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: ([name, ...settings]) => {
      const b = bridgeOfPort(name);
      if (settings.length) setPortWithAffinity(b, name, settings);
      return settings.length ? "" : formatPortVlanConfig(name, portVlanOf(b, name));
    },
    json: ([name, ...settings]) => {
      const b = bridgeOfPort(name);
      if (settings.length) setPortWithAffinity(b, name, settings);
      return { port: name, ...portVlanOf(b, name) };
    },
  });
  registerCommand({
    name: "netdev-dummy/receive",
    usage: "name [--qid queue_id] packet|flow [--len packet_len]",
    minArgs: 2,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: (args) => receiveInOrder(bridgeOfPort(args[0]), args),
  });
  registerCommand({
    name: "fdb/show",
    usage: "bridge",
    minArgs: 1,
    maxArgs: 1,
    handler: ([br]) => formatFdbShow(named(br).ml, now()),
  });
  registerCommand({ name: "dpif/show", usage: "", minArgs: 0, maxArgs: 0, handler: dpifShow });
  registerCommand({
    name: "dpif/show-dp-features",
    usage: "bridge",
    minArgs: 1,
    maxArgs: 1,
    handler: ([br]) => formatBackerSupport(dpFeaturesOf(br)),
    json: ([br]) => backerSupportJson(dpFeaturesOf(br)),
  });
  registerCommand({
    name: "ofproto/trace",
    usage: "{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet]",
    minArgs: 1,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: trace,
    json: (args) => {
      const lines = trace(args).trimEnd().split("\n");
      const after = (prefix: string) =>
        lines.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? null;
      return {
        flow: after("Flow: "),
        finalFlow: after("Final flow: "),
        megaflow: after("Megaflow: "),
        datapathActions: after("Datapath actions: "),
        lines,
      };
    },
  });
  registerCommand({
    name: "dpif/dump-flows",
    usage: "[-m] [--names | --no-names] bridge",
    minArgs: 1,
    maxArgs: 3,
    handler: dpifDumpFlows,
    json: (args) => parseDumpFlows(dpifDumpFlows(args)),
  });
  registerDpctlCommands(() => bridge().dp);
}
