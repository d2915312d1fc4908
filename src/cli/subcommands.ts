/** Every subcommand, in the order `udpif --help` lists them. */
import type { Subcommand } from "./subcommand.ts";
import { start } from "./start.ts";
import { appctl } from "./appctl.ts";
import { ofctl } from "./ofctl.ts";
import { flush } from "./flush.ts";
import { setConfig, setPort } from "./set_config.ts";
import { odpParseFlows } from "./odp_parse_flows_command.ts";
import { demo } from "./demo.ts";
import { CONTROLLER_SUBCOMMANDS } from "./controller.ts";

export const SUBCOMMANDS: Subcommand[] = [
  start,
  appctl,
  ofctl,
  flush,
  setConfig,
  setPort,
  ...CONTROLLER_SUBCOMMANDS,
  odpParseFlows,
  demo,
];
