/**
 * The fd handover between the datapath's owner and its PMD worker
 * (_port_fd.ts): taking a port's fd back returns only once the PMD has
 * acknowledged the port change, so the fd can be closed under no one.
 * Uses a tap device of the test's own (unique name, removed in
 * `finally`). Needs root.
 */
import assert from "node:assert/strict";
import { TapNetdev } from "../netdev/mod.ts";
import { C_PORTS_SEQ, PC_PORTS_ACK } from "./_shared.ts";
import { DpifNetdev } from "./dpif_netdev.ts";

const ignore = Deno.build.os !== "linux" || Deno.uid() !== 0;
if (ignore) console.log("port_fd_test: skipped: needs root on Linux to create tap devices");

Deno.test({
  name: "taking a port's fd back waits for the PMD to acknowledge, and giving it again works",
  ignore,
  async fn() {
    const dp = DpifNetdev.create("netdev", { flowCapacity: 64 });
    let tap: TapNetdev | undefined;
    try {
      await dp.ready();
      tap = TapNetdev.open(`udpiffd${Deno.pid % 100000}`);
      dp.portAdd(tap);
      const ctl = dp.shared.ctl;
      for (let round = 0; round < 3; round++) {
        const seq = Atomics.load(ctl, C_PORTS_SEQ);
        tap.suspend();
        // The withdrawal was change seq + 1; the PMD has applied it or a later one.
        assert.ok(
          Atomics.load(dp.shared.pmds[0].ctl, PC_PORTS_ACK) - (seq + 1) >= 0,
          `round ${round}`,
        );
        assert.equal(tap.open, false);
        tap.resume();
        assert.equal(tap.open, true);
      }
    } finally {
      dp.destroy();
      tap?.close();
    }
  },
});
