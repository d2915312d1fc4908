/**
 * What `udpif start` sets for each bridge, beyond its ports: OpenFlow
 * rules to load (`--flows`), OpenFlow listeners (`--listen`), controllers
 * (`--controller`) and the fail mode (`--fail-mode`), as OVS keeps them
 * per bridge in the Bridge and Controller tables (ovs-vsctl
 * set-controller BRIDGE, set-fail-mode BRIDGE, and add-flows on the
 * bridge's management socket).
 *
 * Each option's value may end in `,bridge=NAME`, as a `--port` spec
 * names its bridge; without one it is the first bridge's. Then each
 * bridge gets its endpoints as ovs-vswitchd's bridge_configure_remotes
 * gives them: the BRIDGE.mgmt service socket in the run directory, its
 * `--listen` targets, and its controllers with its fail mode
 * (BridgeControllers). A value naming no bridge of the daemon, or a
 * bridge given two fail modes, is refused with a one-line error naming
 * it, before anything starts.
 *
 * Thread-safety: main thread (start-up).
 */
import type { Backer } from "./backer.ts";
import { BridgeControllers } from "./bridge_controllers.ts";
import { BridgeOpenFlow } from "./bridge_openflow.ts";
import { Connmgr } from "./connmgr.ts";
import { type FailMode, parseFailMode } from "./fail_open.ts";
import { type ListenTarget, parseControllerTarget, parseListenTarget } from "./of_target.ts";
import { OfctlError } from "../ofproto/mod.ts";
import { rundirPath } from "../unixctl/mod.ts";

/** The options as given, each value possibly ending in `,bridge=NAME`. */
export interface BridgeStartArgs {
  flows?: string[];
  listen?: string[];
  controllers?: string[];
  failModes?: string[];
}

/** One bridge's settings from the start options. */
export interface BridgeStartOptions {
  /** Each `--flows` file with its text, read at parse time, loaded in order. */
  flows: { file: string; text: string }[];
  listen: ListenTarget[];
  controllers: string[];
  failMode?: FailMode;
}

/** A start option refused: the message names the option and the bad value. */
export class BridgeStartError extends Error {
  override name = "BridgeStartError";
}

const BRIDGE_KEY = /^(.*),bridge=([^,]*)$/;

/**
 * Splits `VALUE[,bridge=NAME]` into the bridge and the value; without a
 * bridge key, the first of `bridges`. Throws naming an unknown bridge.
 */
export function splitBridgeKey(option: string, text: string, bridges: string[]): [string, string] {
  const m = BRIDGE_KEY.exec(text);
  if (!m) return [bridges[0], text];
  if (!bridges.includes(m[2])) {
    throw new BridgeStartError(`${option} ${text}: no bridge named ${m[2]}`);
  }
  return [m[2], m[1]];
}

/**
 * Each of `bridges`' settings from `args`, the flows files read; throws
 * BridgeStartError for the first bad value (nothing is applied yet).
 */
export async function parseBridgeStartOptions(
  bridges: string[],
  args: BridgeStartArgs,
): Promise<Map<string, BridgeStartOptions>> {
  const out = new Map<string, BridgeStartOptions>(
    bridges.map((b) => [b, { flows: [], listen: [], controllers: [] }]),
  );
  const each = (
    option: string,
    values: string[] | undefined,
    apply: (o: BridgeStartOptions, v: string) => void,
  ) => {
    for (const text of values ?? []) {
      const [bridge, value] = splitBridgeKey(option, text, bridges);
      try {
        apply(out.get(bridge)!, value);
      } catch (e) {
        if (e instanceof BridgeStartError) throw e;
        throw new BridgeStartError(`${option} ${e instanceof Error ? e.message : e}`);
      }
    }
  };
  each("--listen", args.listen, (o, v) => o.listen.push(parseListenTarget(v)));
  each("--controller", args.controllers, (o, v) => {
    parseControllerTarget(v);
    o.controllers.push(v);
  });
  for (const text of args.failModes ?? []) {
    const [bridge, value] = splitBridgeKey("--fail-mode", text, bridges);
    const o = out.get(bridge)!;
    if (o.failMode !== undefined) {
      throw new BridgeStartError(`--fail-mode ${text}: bridge ${bridge} has a fail mode already`);
    }
    try {
      o.failMode = parseFailMode(value);
    } catch (e) {
      throw new BridgeStartError(`--fail-mode ${e instanceof Error ? e.message : e}`);
    }
  }
  for (const text of args.flows ?? []) {
    const [bridge, file] = splitBridgeKey("--flows", text, bridges);
    let flowsText: string;
    try {
      flowsText = await Deno.readTextFile(file);
    } catch {
      throw new BridgeStartError(`--flows ${file}: cannot read the file`);
    }
    out.get(bridge)!.flows.push({ file, text: flowsText });
  }
  return out;
}

/** Loads each bridge's `--flows` files; throws BridgeStartError naming the file and line. */
export function loadBridgeFlows(backer: Backer, options: Map<string, BridgeStartOptions>): void {
  for (const bridge of backer.bridges) {
    for (const { file, text } of options.get(bridge.name)?.flows ?? []) {
      try {
        bridge.loadFlows(text);
      } catch (e) {
        if (e instanceof OfctlError) throw new BridgeStartError(`--flows ${file}: ${e.message}`);
        throw e;
      }
    }
  }
}

/** A bridge's OpenFlow endpoints and controllers, once opened. */
export interface BridgeEndpoints {
  connmgr: Connmgr;
  controllers: BridgeControllers;
}

/**
 * Opens every bridge's endpoints (BRIDGE.mgmt, its `--listen` targets,
 * its controllers with its fail mode), in bridge order. On a failure the
 * endpoints opened so far are in `opened`, for the caller to close.
 */
export async function openBridgeEndpoints(
  backer: Backer,
  options: Map<string, BridgeStartOptions>,
  opened: BridgeEndpoints[],
): Promise<void> {
  for (const b of backer.bridges) {
    const o = options.get(b.name) ?? { flows: [], listen: [], controllers: [] };
    const connmgr = new Connmgr(new BridgeOpenFlow(b));
    const controllers = new BridgeControllers(b, connmgr, o.failMode);
    opened.push({ connmgr, controllers });
    await connmgr.listen({ kind: "punix", path: `${rundirPath()}/${b.name}.mgmt` }, "service");
    for (const target of o.listen) await connmgr.listen(target, "primary");
    await controllers.setControllers(o.controllers);
  }
}
