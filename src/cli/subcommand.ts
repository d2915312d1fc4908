import type { Command } from "commander";

/**
 * One `udpif` subcommand. `register` adds it to the program; its action
 * reports a non-zero exit code through `setExit` (throwing a UsageError
 * gives 2, any other error 1).
 */
export interface Subcommand {
  register(program: Command, setExit: (code: number) => void): void;
}
