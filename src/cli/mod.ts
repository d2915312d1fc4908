/**
 * The command line: `udpif SUBCOMMAND ...`.
 *
 * Each subcommand lives in its own file and is listed in `SUBCOMMANDS`
 * below; this file only builds the commander program and maps what
 * happened to an exit code: 0 success, 1 a failed operation, 2 a usage
 * error. Output formatting belongs to the subcommand files.
 *
 * Thread-safety: the CLI runs on the main thread of a short-lived process;
 * it talks to a daemon only through the control socket.
 */
import { Command, CommanderError } from "commander";
import { SUBCOMMANDS } from "./subcommands.ts";
import { UsageError } from "./errors.ts";

export { UsageError } from "./errors.ts";
export type { Subcommand } from "./subcommand.ts";

export const VERSION = "0.1.0";

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command("udpif")
    .description("Open vSwitch's upcall and revalidation machinery, in TypeScript on Deno")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)) });
  let exitCode = 0;
  for (const sub of SUBCOMMANDS) {
    sub.register(program, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help") return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(`udpif: ${e.message}`);
      return 2;
    }
    console.error(`udpif: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return exitCode;
}
