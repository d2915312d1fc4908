/**
 * `udpif ofctl`: the OpenFlow tables with ovs-ofctl's commands, syntax and
 * output. Rules travel to the daemon as text (hidden `ofctl/...`
 * commands), where they are parsed and checked all together: a bad line
 * changes nothing.
 *
 *     udpif ofctl add-flow br0 "priority=10,tcp,tp_dst=80,actions=output:2"
 *     udpif ofctl add-flows br0 rules.txt        (or - for stdin)
 *     udpif ofctl mod-flows [--strict] br0 FLOW
 *     udpif ofctl del-flows [--strict] br0 [FLOW]
 *     udpif ofctl dump-flows br0 [FLOW]
 *     udpif ofctl mod-port br0 p1 no-flood
 *     udpif ofctl show br0; udpif ofctl dump-ports-desc br0   (OpenFlow 1.0's text)
 *     udpif ofctl dump-ports br0 [PORT]
 *     udpif ofctl packet-out br0 "in_port=1 packet=HEX actions=output:2"
 *     udpif ofctl -O OpenFlow13 add-group br0 "group_id=1,type=all,bucket=output:2,bucket=output:3"
 *     udpif ofctl add-groups br0 groups.txt; udpif ofctl mod-group br0 GROUP
 *     udpif ofctl del-groups br0 [group_id=N]; udpif ofctl dump-groups br0 [N]
 *     udpif ofctl dump-group-stats br0 [group_id=N]
 *     udpif ofctl -O OpenFlow15 insert-buckets|remove-buckets br0 GROUP
 *
 * `-O PROTOCOL` is accepted as ovs-ofctl does, so scripts run unchanged.
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { parseFormat, runAndPrint } from "./client.ts";
import { UsageError } from "./errors.ts";

const PROTOCOLS = new Set([
  "openflow10",
  "openflow11",
  "openflow12",
  "openflow13",
  "openflow14",
  "openflow15",
  "of1.0",
  "of1.1",
  "of1.2",
  "of1.3",
  "of1.4",
  "of1.5",
]);

/**
 * Checks `-O` the way ovs-ofctl does (a comma-separated list of known
 * versions) and returns the wire version the session would use: the
 * highest one allowed (1 = OpenFlow 1.0 when there is no `-O`).
 */
export function checkProtocols(value: string | undefined): number {
  if (value === undefined) return 1;
  let version = 0;
  for (const p of value.split(",")) {
    const name = p.trim().toLowerCase();
    if (!PROTOCOLS.has(name)) {
      throw new UsageError(`-O: unknown OpenFlow version "${p}" (OpenFlow10 to OpenFlow15)`);
    }
    version = Math.max(version, Number(name.at(-1)) + 1);
  }
  return version;
}

async function readRules(source: string): Promise<string> {
  try {
    if (source === "-") return await new Response(Deno.stdin.readable).text();
    return await Deno.readTextFile(source);
  } catch (e) {
    throw new UsageError(`${source}: cannot read (${e instanceof Error ? e.message : e})`);
  }
}

/** The group commands, which fail with ovs-ofctl's exit status 1. */
const GROUP_VERBS = [
  "add-group",
  "add-groups",
  "mod-group",
  "del-groups",
  "insert-buckets",
  "remove-buckets",
  "dump-groups",
  "dump-group-stats",
  "dump-group-features",
];

interface OfctlOptions {
  target?: string;
  protocols?: string;
  strict?: boolean;
  format?: string;
}

/** The daemon request for one ovs-ofctl command line. */
export async function ofctlRequest(
  verb: string,
  args: string[],
  strict: boolean,
  ofpVersion = 1,
): Promise<[string, string[]]> {
  const need = (min: number, max: number) => {
    if (args.length < min || args.length > max) {
      throw new UsageError(
        `'${verb}' command requires ${min === max ? min : `${min} to ${max}`} arguments`,
      );
    }
  };
  const flag = strict ? ["--strict"] : [];
  const [method, rest] = await request(verb, args, flag, need);
  // The daemon parses and prints as the negotiated OpenFlow version would.
  return [
    method,
    ofpVersion > 1 && method !== "ofctl/mod-port" ? [`--ofp-version=${ofpVersion}`, ...rest] : rest,
  ];
}

async function request(
  verb: string,
  args: string[],
  flag: string[],
  need: (min: number, max: number) => void,
): Promise<[string, string[]]> {
  switch (verb) {
    case "add-flow":
      need(2, 2);
      return args[1] === "-"
        ? ["ofctl/add-flows", [args[0], await readRules("-")]]
        : ["ofctl/add-flow", [args[0], args[1]]];
    case "add-flows":
      need(2, 2);
      return ["ofctl/add-flows", [args[0], await readRules(args[1])]];
    case "mod-flows":
      need(2, 2);
      return args[1] === "-"
        ? ["ofctl/mod-flows", [args[0], ...flag, "--file", await readRules("-")]]
        : ["ofctl/mod-flows", [args[0], ...flag, args[1]]];
    case "del-flows":
      need(1, 2);
      return args[1] === "-"
        ? ["ofctl/del-flows", [args[0], ...flag, "--file", await readRules("-")]]
        : ["ofctl/del-flows", [args[0], ...flag, ...args.slice(1)]];
    case "dump-flows":
      need(1, 2);
      return ["ofctl/dump-flows", args];
    case "mod-port":
      need(3, 3);
      return ["ofctl/mod-port", args];
    case "show":
    case "dump-ports-desc":
      need(1, 1);
      return [`ofctl/${verb}`, args];
    case "dump-ports":
      need(1, 2);
      return ["ofctl/dump-ports", args];
    case "packet-out":
      need(2, Number.MAX_SAFE_INTEGER);
      return ["ofctl/packet-out", args];
    case "add-group":
      need(2, 2);
      return args[1] === "-"
        ? ["ofctl/add-groups", [args[0], "-", await readRules("-")]]
        : ["ofctl/add-group", args];
    case "add-groups":
      need(2, 2);
      return ["ofctl/add-groups", [args[0], args[1], await readRules(args[1])]];
    case "mod-group":
    case "insert-buckets":
    case "remove-buckets":
      need(2, 2);
      return [`ofctl/${verb}`, args];
    case "dump-group-features":
      need(1, 1);
      return [`ofctl/${verb}`, args];
    case "del-groups":
    case "dump-groups":
    case "dump-group-stats":
      need(1, 2);
      return [`ofctl/${verb}`, args];
    default:
      throw new UsageError(
        `unknown ofctl command '${verb}' (add-flow, add-flows, mod-flows, del-flows, dump-flows, mod-port, show, dump-ports, dump-ports-desc, packet-out, ${
          GROUP_VERBS.join(", ")
        })`,
      );
  }
}

export const ofctl: Subcommand = {
  name: "ofctl",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("manage the OpenFlow tables as ovs-ofctl does")
      .argument(
        "<command>",
        "add-flow, add-flows, mod-flows, del-flows, dump-flows, mod-port, show, dump-ports, " +
          "dump-ports-desc, packet-out or a group command",
      )
      .argument("<bridge>", "the bridge (e.g. br0)")
      .argument("[args...]", "FLOW, FILE or - (stdin); for mod-port: PORT flood|no-flood|up|down")
      .option("-t, --target <socket>", "control socket")
      .option("-O, --protocols <versions>", "OpenFlow versions (accepted for ovs-ofctl scripts)")
      .option("--strict", "mod-flows/del-flows: match priority and fields exactly")
      .option("--format <format>", "dump-flows: text (default) or json")
      .addHelpText(
        "after",
        '\nExample: udpif ofctl add-flow br0 "priority=10,tcp,tp_dst=80,actions=output:2"',
      )
      .action(async (verb: string, bridge: string, rest: string[], o: OfctlOptions) => {
        const version = checkProtocols(o.protocols);
        const format = parseFormat(o.format);
        const [method, args] = await ofctlRequest(
          verb,
          [bridge, ...rest],
          o.strict ?? false,
          version,
        );
        const code = await runAndPrint(o.target, method, args, format, (error) =>
          // ovs-ofctl exits 1 on a switch's OFPT_ERROR and on group text errors.
          GROUP_VERBS.includes(verb) || error.startsWith("OFPT_ERROR") ? 1 : 2);
        setExit(code);
      });
  },
};
