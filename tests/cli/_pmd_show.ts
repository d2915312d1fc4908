/**
 * Helpers of the PMD command tests (pmd_pin_test.ts, pmd_reconfig_test.ts):
 * a command that must succeed, and waiting for `pmd-rxq-show` to show a
 * reconfiguration, its usage figures masked as OVS's tests mask them.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import type { TestDaemon } from "./_run.ts";

/** Runs `args` on `d`; fails the test unless it exits 0; its stdout. */
export async function ok(d: TestDaemon, args: string[], stdin?: string): Promise<string> {
  const r = await d.run(args, stdin);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** pmd-rxq-show with its usage and overhead percentages as "NOT AVAIL". */
export const usageNotAvail = (s: string) =>
  s.replace(/pmd usage: +[0-9]+ %/g, "pmd usage: NOT AVAIL")
    .replace(/overhead: +[0-9]+ %/g, "overhead: NOT AVAIL");

/** Waits for a reconfiguration to show in pmd-rxq-show. */
export async function rxqShowBecomes(d: TestDaemon, want: string): Promise<void> {
  let last = "";
  await pollUntilAsync(async () => {
    last = usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"]));
    return last === want;
  }, `pmd-rxq-show to become\n${want}(last:\n${last})`);
}
