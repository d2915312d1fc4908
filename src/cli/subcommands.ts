/** Every subcommand, in the order `udpif --help` lists them. */
import type { Subcommand } from "./subcommand.ts";

export const SUBCOMMANDS: Subcommand[] = [];
