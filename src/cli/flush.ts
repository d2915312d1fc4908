/**
 * `udpif flush [--purge]`: deletes every datapath flow (`dpctl/del-flows`);
 * with `--purge` also drops the udpif's ukeys (`revalidator/purge`), so
 * the same packets are installed again instead of being counted as
 * duplicate upcalls.
 */
import type { Command } from "commander";
import type { Subcommand } from "./subcommand.ts";
import { runAndPrint } from "./client.ts";

export const flush: Subcommand = {
  name: "flush",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("delete all datapath flows (dpctl/del-flows); --purge also drops the ukeys")
      .option("--purge", "also run revalidator/purge")
      .option("-t, --target <socket>", "control socket")
      .addHelpText("after", "\nExample: udpif flush --purge")
      .action(async (o: { purge?: boolean; target?: string }) => {
        let code = await runAndPrint(o.target, "dpctl/del-flows", []);
        if (code === 0 && o.purge) code = await runAndPrint(o.target, "revalidator/purge", []);
        setExit(code);
      });
  },
};
