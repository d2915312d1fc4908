/**
 * `udpif appctl [-t SOCKET] [--format json] COMMAND [ARG...]`: sends any
 * control command, as `ovs-appctl` does, and prints the reply. The same
 * path serves direct subcommands such as `udpif upcall/show` (see
 * `directCommand`).
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { parseFormat, runAndPrint } from "./client.ts";
import { UsageError } from "./errors.ts";

export const appctl: Subcommand = {
  name: "appctl",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("send a control command to the daemon and print its reply (as ovs-appctl)")
      .argument("<command>", "control command, e.g. upcall/show (see: udpif appctl list-commands)")
      .argument("[args...]", "its arguments")
      .option(
        "-t, --target <socket>",
        "control socket (default $UDPIF_CTL, else $UDPIF_RUNDIR/udpif.ctl)",
      )
      .option("--format <format>", "text (default) or json")
      .passThroughOptions()
      .addHelpText(
        "after",
        "\nExit status: 0 success, 1 no daemon answered, 2 usage or error reply.\n" +
          "Example: udpif appctl -t /tmp/udpif.ctl upcall/set-flow-limit 5000",
      )
      .action(
        async (command: string, args: string[], opts: { target?: string; format?: string }) => {
          setExit(await runAndPrint(opts.target, command, args, parseFormat(opts.format)));
        },
      );
  },
};

/**
 * Splits the arguments of a direct subcommand (`udpif dpctl/dump-flows -m
 * -t SOCK`) into the client's own options (`-t`/`--target`, `--format`,
 * anywhere) and the command's arguments.
 */
export function splitDirectArgs(
  argv: string[],
): { target?: string; format?: string; args: string[] } {
  const out: { target?: string; format?: string; args: string[] } = { args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const take = (name: string): string => {
      if (i + 1 >= argv.length) throw new UsageError(`option '${name}' argument missing`);
      return argv[++i];
    };
    if (a === "-t" || a === "--target") out.target = take(a);
    else if (a.startsWith("--target=")) out.target = a.slice(9);
    else if (a === "--format") out.format = take(a);
    else if (a.startsWith("--format=")) out.format = a.slice(9);
    else out.args.push(a);
  }
  return out;
}

/** Runs `udpif COMMAND ...` where COMMAND is a control command such as `upcall/show`. */
export async function directCommand(command: string, argv: string[]): Promise<number> {
  const { target, format, args } = splitDirectArgs(argv);
  return await runAndPrint(target, command, args, parseFormat(format));
}
