/** udpif entry point: argv to the CLI, the CLI's answer to an exit code. */
import { runCli } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
