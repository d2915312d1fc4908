/**
 * The command line: `udpif SUBCOMMAND ...`.
 *
 * Each subcommand lives in its own file and is listed in `SUBCOMMANDS`
 * below; this file only builds the commander program and maps what
 * happened to an exit code: 0 success, 1 a failed operation, 2 a usage
 * error. Output formatting belongs to the subcommand files.
 *
 * A first argument containing `/` is a control command sent as is
 * (`udpif upcall/show -t SOCK` = `udpif appctl -t SOCK upcall/show`), so
 * every command the daemon serves is also a subcommand.
 *
 * Thread-safety: the CLI runs on the main thread of a short-lived process;
 * it talks to a daemon only through the control socket.
 */
import { Command, CommanderError } from "commander";
import { SUBCOMMANDS } from "./subcommands.ts";
import { UsageError } from "./errors.ts";
import { directCommand } from "./appctl.ts";
import { DaemonUnreachable } from "./client.ts";
import { VERSION } from "../daemon/mod.ts";

export { UsageError } from "./errors.ts";
export type { Subcommand } from "./subcommand.ts";
export { VERSION } from "../daemon/mod.ts";

/** Control commands without a "/" that are also subcommands. */
const DIRECT = new Set(["list-commands", "version", "exit"]);

const HELP_AFTER = `
Control commands (anything with a "/") can also be given directly:
  udpif upcall/show [-t SOCKET] [--format json]
  udpif dpctl/dump-flows -m
  udpif list-commands             lists every command the daemon serves
  udpif version                   the daemon's version (udpif -V: this program's)
  udpif exit                      stops the daemon

The control socket is -t SOCKET, else $UDPIF_CTL, else $UDPIF_RUNDIR/udpif.ctl
(UDPIF_RUNDIR defaults to $XDG_RUNTIME_DIR/udpif or /tmp/udpif-UID).
Exit status: 0 success, 1 failed operation, 2 usage error or error reply.`;

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command("udpif")
    .description("Open vSwitch's upcall and revalidation machinery, in TypeScript on Deno")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)) });
  program.addHelpText("after", HELP_AFTER);
  program.enablePositionalOptions();
  let exitCode = 0;
  for (const sub of SUBCOMMANDS) {
    sub.register(program, (code) => {
      exitCode = code;
    });
  }
  try {
    const local = program.commands.some((c) => c.name() === argv[0]);
    if (
      argv.length && !local && (argv[0].includes("/") || DIRECT.has(argv[0])) &&
      !argv[0].startsWith("-")
    ) {
      return await directCommand(argv[0], argv.slice(1));
    }
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help") return 0;
      return 2;
    }
    if (e instanceof DaemonUnreachable) {
      console.error(`udpif: ${e.message}`);
      return 1;
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
