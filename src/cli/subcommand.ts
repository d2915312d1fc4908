import type { Command } from "commander";

/**
 * One `udpif` subcommand. `name` is how it is invoked; `register` gives the
 * command its arguments, options and action, on a command the program
 * created under that name. Its action reports a non-zero exit code through
 * `setExit` (throwing a UsageError gives 2, any other error 1). Register
 * only describes: what the command runs is imported when it runs, so that
 * every command starts as fast as a client can.
 */
export interface Subcommand {
  name: string;
  register(command: Command, setExit: (code: number) => void): void;
}
