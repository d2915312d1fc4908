/**
 * `udpif ofctl show|dump-ports-desc|dump-ports`: the text the real
 * ovs-ofctl printed for OVS 3.1 over OpenFlow 1.0 for the same switch
 * (fixtures/openflow/NAME.out, recorded by scripts/capture-openflow.sh;
 * xids, port addresses and the datapath id normalised), before and after
 * mod-port. The same commands for two bridges with patch ports are the
 * conformance case patch-ports-stats.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);

function normalize(text: string): string {
  return text
    .replace(/ \(xid=0x[0-9a-f]+\)/g, "")
    .replace(/addr:[0-9a-f:]{17}/g, "addr:X")
    .replace(/dpid:[0-9a-f]{16}/g, "dpid:X")
    .replace(/## exit 0\n$/, "");
}

const fixture = (name: string) =>
  normalize(Deno.readTextFileSync(new URL(`${name}.out`, FIXTURES)));

Deno.test("udpif ofctl show, dump-ports-desc and dump-ports print what ovs-ofctl printed for OVS", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    assert.equal(normalize(await ok(d, ["ofctl", "show", "br0"])), fixture("show"));
    assert.equal(
      normalize(await ok(d, ["ofctl", "dump-ports-desc", "br0"])),
      fixture("dump_ports_desc"),
    );
    assert.equal(normalize(await ok(d, ["ofctl", "dump-ports", "br0"])), fixture("dump_ports"));
    assert.equal(
      normalize(await ok(d, ["ofctl", "dump-ports", "br0", "9"])),
      fixture("dump_ports_missing"),
    );
    await ok(d, ["ofctl", "mod-port", "br0", "p2", "down"]);
    await ok(d, ["ofctl", "mod-port", "br0", "p3", "no-flood"]);
    assert.equal(normalize(await ok(d, ["ofctl", "show", "br0"])), fixture("show_ports_modified"));
    const v13 = await d.run(["ofctl", "-O", "OpenFlow13", "show", "br0"]);
    assert.equal(v13.code, 2);
    assert.match(v13.stderr, /show: udpif ofctl prints OpenFlow 1\.0 only/);
    const bad = await d.run(["ofctl", "dump-ports", "br0", "nope"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /br0: nope: unknown port/);
  } finally {
    await d.stop();
  }
});
