/**
 * VLAN settings on a bond: a bond is one Port (its members Interfaces),
 * so `set-port BOND` sets and shows them for every member, a member takes
 * none of its own, and a bond has no rx queues to pin. Bad settings
 * change nothing. The forwarding they give is conformance case
 * bond-vlan-trunk, recorded from OVS 3.1.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

Deno.test("set-port on a bond sets its members' VLANs; a member or a bad setting is refused", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"], {
    ports: ["p1:1", "p4:4", "p5:5", "bond0,type=bond,members=p4+p5,bond_mode=active-backup"],
  });
  try {
    assert.equal(await ok(d, ["set-port", "bond0", "trunks=10,20"]), "");
    assert.equal(
      await ok(d, ["port/set", "bond0"]),
      "bond0: tag=[] trunks=[10, 20] vlan_mode=[]\n",
    );
    assert.deepEqual(await d.run(["set-port", "p4", "tag=10"]), {
      code: 2,
      stdout: "",
      stderr: "p4: a member of bond bond0, whose port takes the VLAN settings\n",
    });
    assert.deepEqual(await d.run(["set-port", "bond0", "pmd-rxq-affinity=0:0"]), {
      code: 2,
      stdout: "",
      stderr: "bond0: a bond has no rx queues (pmd-rxq-affinity is set on a member)\n",
    });
    assert.deepEqual(await d.run(["set-port", "bond0", "tag=10", "trunks=x"]), {
      code: 2,
      stdout: "",
      stderr: 'trunks: "x" is not a VLAN (0 to 4095)\n',
    });
    assert.equal(
      await ok(d, ["port/set", "bond0"]),
      "bond0: tag=[] trunks=[10, 20] vlan_mode=[]\n",
    );
    // Frames tagged 20 on the active member reach access port p1 only when it is in VLAN 20.
    await ok(d, ["set-port", "p1", "tag=20"]);
    await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);
    const trace = await ok(d, [
      "ofproto/trace",
      "br0",
      "in_port=4,dl_src=50:54:00:00:00:09,dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=20,dl_type=0x0800",
    ]);
    assert.match(trace, /Datapath actions: pop_vlan,1/);
  } finally {
    await d.stop();
  }
});
