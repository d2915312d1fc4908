/**
 * The controller settings of a bridge at run time, as ovs-vsctl's
 * set-controller, del-controller, get-controller, set-fail-mode,
 * get-fail-mode and del-fail-mode change the Bridge and Controller
 * tables (and as ovs-vswitchd's bridge_configure_remotes applies them):
 *
 *     bridge/set-controller BRIDGE TARGET...
 *         Replaces the controllers: tcp:IP[:PORT] and unix:PATH are
 *         connected to (and reconnected, rconn.ts), ptcp:PORT[:IP] and
 *         punix:PATH listened on. A bad target is refused, named, and
 *         nothing changes.
 *     bridge/del-controller BRIDGE
 *     bridge/get-controller BRIDGE      one target per line
 *     bridge/controller-status BRIDGE   each target's connection state,
 *         as the Controller table's is_connected, role and status columns
 *     bridge/set-fail-mode BRIDGE standalone|secure
 *     bridge/get-fail-mode BRIDGE       (empty when never set)
 *     bridge/del-fail-mode BRIDGE
 *
 * Thread-safety: main thread.
 */
import { CommandError, registerCommand } from "../lib/mod.ts";
import type { Connmgr } from "./connmgr.ts";
import { type FailMode, parseFailMode } from "./fail_open.ts";

export const CONTROLLER_COMMANDS = [
  "bridge/set-controller",
  "bridge/del-controller",
  "bridge/get-controller",
  "bridge/controller-status",
  "bridge/set-fail-mode",
  "bridge/get-fail-mode",
  "bridge/del-fail-mode",
];

/** What the commands change: the bridge's connection manager and its fail mode. */
export interface ControllerSettings {
  bridgeName: string;
  connmgr: Connmgr;
  /** The fail mode as set (undefined: never set, standalone in effect). */
  failMode: FailMode | undefined;
  /** Replaces the controllers, fail-open following; throws naming a bad target. */
  setControllers(targets: string[]): Promise<void>;
  setFailMode(mode: FailMode | undefined): void;
}

/** Registers the commands over `bridges`' settings, each command finding its BRIDGE among them. */
export function registerControllerCommands(bridges: readonly ControllerSettings[]): void {
  const bridgeOf = (cmd: string, args: string[]): ControllerSettings => {
    const s = bridges.find((b) => b.bridgeName === args[0]);
    if (!s) throw new CommandError(`${cmd}: no bridge named ${args[0]}`);
    return s;
  };
  registerCommand({
    name: "bridge/set-controller",
    usage: "BRIDGE TARGET...",
    minArgs: 2,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: async (args) => {
      const s = bridgeOf("set-controller", args);
      try {
        await s.setControllers(args.slice(1));
      } catch (e) {
        throw new CommandError(`set-controller: ${e instanceof Error ? e.message : e}`);
      }
      return "";
    },
  });
  registerCommand({
    name: "bridge/del-controller",
    usage: "BRIDGE",
    minArgs: 1,
    maxArgs: 1,
    handler: async (args) => {
      const s = bridgeOf("del-controller", args);
      await s.setControllers([]);
      return "";
    },
  });
  registerCommand({
    name: "bridge/get-controller",
    usage: "BRIDGE",
    minArgs: 1,
    maxArgs: 1,
    handler: (args) => {
      const s = bridgeOf("get-controller", args);
      return s.connmgr.controllers().map((t) => `${t}\n`).join("");
    },
    json: (args) => {
      const s = bridgeOf("get-controller", args);
      return s.connmgr.controllers();
    },
  });
  registerCommand({
    name: "bridge/controller-status",
    usage: "BRIDGE",
    minArgs: 1,
    maxArgs: 1,
    handler: (args) => {
      const s = bridgeOf("controller-status", args);
      return s.connmgr.controllerStatus().map((c) => {
        const parts = [
          `is_connected=${c.connected}`,
          `role=${c.role}`,
          `state=${c.state}`,
        ];
        if (c.secSinceConnect !== undefined) parts.push(`sec_since_connect=${c.secSinceConnect}`);
        if (c.secSinceDisconnect !== undefined) {
          parts.push(`sec_since_disconnect=${c.secSinceDisconnect}`);
        }
        if (c.lastError) parts.push(`last_error="${c.lastError}"`);
        return `${c.target}: ${parts.join(" ")}\n`;
      }).join("");
    },
    json: (args) => {
      const s = bridgeOf("controller-status", args);
      return s.connmgr.controllerStatus();
    },
  });
  registerCommand({
    name: "bridge/set-fail-mode",
    usage: "BRIDGE standalone|secure",
    minArgs: 2,
    maxArgs: 2,
    handler: (args) => {
      const s = bridgeOf("set-fail-mode", args);
      let mode: FailMode;
      try {
        mode = parseFailMode(args[1]);
      } catch (e) {
        throw new CommandError(`set-fail-mode: ${e instanceof Error ? e.message : e}`);
      }
      s.setFailMode(mode);
      return "";
    },
  });
  registerCommand({
    name: "bridge/get-fail-mode",
    usage: "BRIDGE",
    minArgs: 1,
    maxArgs: 1,
    handler: (args) => {
      const s = bridgeOf("get-fail-mode", args);
      return s.failMode ? `${s.failMode}\n` : "";
    },
  });
  registerCommand({
    name: "bridge/del-fail-mode",
    usage: "BRIDGE",
    minArgs: 1,
    maxArgs: 1,
    handler: (args) => {
      const s = bridgeOf("del-fail-mode", args);
      s.setFailMode(undefined);
      return "";
    },
  });
}
