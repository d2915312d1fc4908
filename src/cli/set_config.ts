/**
 * `udpif set-config KEY=VALUE...` (`config/set`) and `udpif set-port PORT
 * KEY=VALUE...` (`port/set`): run-time settings, as `ovs-vsctl set
 * Open_vSwitch . other_config:KEY=VALUE` and `ovs-vsctl set port` are.
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { runAndPrint } from "./client.ts";

export const setConfig: Subcommand = {
  name: "set-config",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("change other_config at run time (config/set)")
      .argument("<settings...>", "KEY=VALUE: flow-limit, max-idle, max-revalidator, ...")
      .option("-t, --target <socket>", "control socket")
      .addHelpText("after", "\nExample: udpif set-config flow-limit=1000 max-idle=500")
      .action(async (settings: string[], o: { target?: string }) => {
        setExit(await runAndPrint(o.target, "config/set", settings));
      });
  },
};

export const setPort: Subcommand = {
  name: "set-port",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description(
        "change a port's settings (port/set): tag, trunks, vlan_mode, pmd-rxq-affinity",
      )
      .argument("<port>", "port name or OpenFlow number")
      .argument(
        "<settings...>",
        "tag=VLAN, trunks=V1,V2,..., vlan_mode=access|trunk|..., pmd-rxq-affinity=Q:CORE,...",
      )
      .option("-t, --target <socket>", "control socket")
      .addHelpText("after", "\nExample: udpif set-port p1 tag=10 vlan_mode=access")
      .action(async (port: string, settings: string[], o: { target?: string }) => {
        setExit(await runAndPrint(o.target, "port/set", [port, ...settings]));
      });
  },
};
