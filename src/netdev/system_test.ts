import assert from "node:assert/strict";
import { interfaceIndex, interfaceMtu, SystemNetdev } from "./mod.ts";
import { udpif } from "../../tests/cli/_run.ts";

const linux = Deno.build.os === "linux";
const missing = `udpifno${Deno.pid % 100000}`;

Deno.test({
  name: "a missing interface is refused with a one-line error naming it",
  ignore: !linux,
  fn() {
    assert.throws(
      () => SystemNetdev.open(missing),
      new RegExp(`^Error: ${missing}: no such network interface$`),
    );
  },
});

Deno.test({
  name: "the ioctl helpers read the loopback interface",
  ignore: !linux,
  fn() {
    assert.ok(interfaceIndex("lo") > 0);
    assert.ok(interfaceMtu("lo") >= 1500);
  },
});

Deno.test({
  name: "udpif start stops on a missing system interface, naming it",
  ignore: !linux,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "udpif-sys-" });
    try {
      // The dummy datapath: a netdev one would first make a br0 tap here.
      const r = await udpif([
        "start",
        "--datapath-type",
        "dummy",
        "--port",
        `${missing},type=system`,
      ], {
        env: { UDPIF_RUNDIR: dir, UDPIF_CTL: "" },
      });
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr.trim().split("\n").at(-1),
        `udpif: ${missing}: no such network interface`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
