/**
 * The command line: `udpif SUBCOMMAND ...`.
 *
 * Each subcommand lives in its own file and is listed in `SUBCOMMANDS`
 * (subcommands.ts); program.ts builds the commander program from them.
 * This file only dispatches and maps what happened to an exit code:
 * 0 success, 1 a failed operation, 2 a usage error. Output formatting
 * belongs to the subcommand files.
 *
 * A first argument containing `/` is a control command sent as is
 * (`udpif upcall/show -t SOCK` = `udpif appctl -t SOCK upcall/show`), so
 * every command the daemon serves is also a subcommand. That path loads
 * only the control-socket client (src/unixctl), not commander nor the
 * switch: a script's `udpif upcall/show` costs about what starting the
 * runtime costs, as `ovs-appctl` does. Everything else is imported when
 * the command that needs it runs.
 *
 * Thread-safety: the CLI runs on the main thread of a short-lived process;
 * it talks to a daemon only through the control socket.
 */
import { SUBCOMMANDS } from "./subcommands.ts";
import { UsageError } from "./errors.ts";
import { directCommand } from "./appctl.ts";
import { DaemonUnreachable } from "./client.ts";
import { importOnDemand } from "./on_demand.ts";

export { UsageError } from "./errors.ts";
export type { Subcommand } from "./subcommand.ts";

/** Control commands without a "/" that are also subcommands. */
const DIRECT = new Set(["list-commands", "version", "exit"]);

/** Whether argv is a control command to send as is (`udpif upcall/show ...`). */
function isDirect(argv: string[]): boolean {
  const first = argv[0];
  if (first === undefined || first.startsWith("-")) return false;
  if (SUBCOMMANDS.some((s) => s.name === first)) return false;
  return first.includes("/") || DIRECT.has(first);
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    if (isDirect(argv)) return await directCommand(argv[0], argv.slice(1));
    const { runProgram } = await importOnDemand<typeof import("./program.ts")>("./program.ts");
    return await runProgram(argv);
  } catch (e) {
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
}
