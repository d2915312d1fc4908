/**
 * `udpif set-controller BRIDGE TARGET...`, `del-controller BRIDGE`,
 * `get-controller BRIDGE`, and `set-fail-mode BRIDGE MODE`,
 * `get-fail-mode BRIDGE`, `del-fail-mode BRIDGE`: a running daemon's
 * controllers, as ovs-vsctl's commands of the same names (through the
 * `bridge/...-controller` and `bridge/...-fail-mode` control commands).
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { runAndPrint } from "./client.ts";

function bridgeCommand(
  name: string,
  description: string,
  example: string,
  withArgs?: { name: string; description: string },
): Subcommand {
  return {
    name,
    register(command: Command, setExit: (code: number) => void): void {
      command
        .description(`${description} (bridge/${name})`)
        .argument("<bridge>", "bridge name");
      if (withArgs) command.argument(withArgs.name, withArgs.description);
      command
        .option("-t, --target <socket>", "control socket")
        .addHelpText("after", `\nExample: udpif ${example}`)
        .action(async (bridge: string, ...rest: unknown[]) => {
          const args = withArgs ? [rest[0] as string[] | string].flat() : [];
          const o = rest[withArgs ? 1 : 0] as { target?: string };
          setExit(await runAndPrint(o.target, `bridge/${name}`, [bridge, ...args]));
        });
    },
  };
}

export const CONTROLLER_SUBCOMMANDS: Subcommand[] = [
  bridgeCommand(
    "set-controller",
    "set the bridge's OpenFlow controllers, replacing any",
    "set-controller br0 tcp:127.0.0.1:6653",
    {
      name: "<targets...>",
      description: "tcp:IP[:PORT], unix:PATH, ptcp:PORT[:IP] or punix:PATH",
    },
  ),
  bridgeCommand("del-controller", "remove the bridge's controllers", "del-controller br0"),
  bridgeCommand("get-controller", "print the bridge's controllers", "get-controller br0"),
  bridgeCommand(
    "set-fail-mode",
    "what the bridge does without a controller",
    "set-fail-mode br0 secure",
    { name: "<mode>", description: "standalone or secure" },
  ),
  bridgeCommand("get-fail-mode", "print the bridge's fail mode", "get-fail-mode br0"),
  bridgeCommand("del-fail-mode", "unset the fail mode (standalone)", "del-fail-mode br0"),
];
