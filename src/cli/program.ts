/**
 * The `udpif` program for everything that is not a bare control command:
 * commander parses the subcommands' arguments and options, prints help
 * and usage errors, and runs the chosen action. Loaded on demand by
 * mod.ts, since commander alone costs a client more than its request.
 */
import { Command, CommanderError } from "commander";
import { SUBCOMMANDS } from "./subcommands.ts";
import { VERSION } from "../unixctl/mod.ts";

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

/**
 * Parses argv as a subcommand (or --help, --version) and runs it; returns
 * the exit code. Errors other than commander's own propagate to the caller.
 */
export async function runProgram(argv: string[]): Promise<number> {
  const program = new Command("udpif")
    .description("Open vSwitch's upcall and revalidation machinery, in TypeScript on Deno")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)) });
  program.addHelpText("after", HELP_AFTER);
  program.enablePositionalOptions();
  let exitCode = 0;
  for (const sub of SUBCOMMANDS) {
    sub.register(program.command(sub.name), (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    const shown = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return shown.includes(e.code) ? 0 : 2;
  }
  return exitCode;
}
