/**
 * Helpers of the PMD command tests (pmd_pin_test.ts, pmd_reconfig_test.ts):
 * waiting for `pmd-rxq-show` to show a
 * reconfiguration, its usage figures masked as OVS's tests mask them.
 */
import { pollUntilAsync } from "../poll.ts";
import { ok, type TestDaemon } from "./_run.ts";

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
