import assert from "node:assert/strict";
import { dummyOdpPort, includesVlan, XBridge } from "./bridge.ts";

const bridge = new XBridge("br0", [
  { name: "br0", ofport: 0xfffe, odpPort: 100 },
  { name: "p1", ofport: 1, odpPort: 1, tag: 10 },
  { name: "p2", ofport: 2, odpPort: 2, tag: 20, vlanMode: "native-untagged" },
  { name: "p3", ofport: 3, odpPort: 3, tag: 20, trunks: [30], vlanMode: "native-tagged" },
  { name: "p4", ofport: 4, odpPort: 4, trunks: [10, 20] },
]);

Deno.test("a tag without a mode makes an access port", () => {
  const p = bridge.port(1)!;
  assert.equal(p.vlanMode, "access");
  assert.equal(includesVlan(p, 10), true);
  assert.equal(includesVlan(p, 0), false);
});

Deno.test("a native port trunks its native VLAN and never VLAN 0", () => {
  const p2 = bridge.port(2)!, p3 = bridge.port(3)!;
  assert.equal(includesVlan(p2, 20), true);
  assert.equal(includesVlan(p2, 4000), true, "no trunks: every VLAN");
  assert.equal(includesVlan(p2, 0), false);
  assert.equal(includesVlan(p3, 20), true);
  assert.equal(includesVlan(p3, 30), true);
  assert.equal(includesVlan(p3, 40), false);
});

Deno.test("a trunk port carries its trunks, or every VLAN when it lists none", () => {
  assert.equal(includesVlan(bridge.port(4)!, 20), true);
  assert.equal(includesVlan(bridge.port(4)!, 0), false);
  assert.equal(includesVlan(bridge.port(0xfffe)!, 0), true);
});

Deno.test("ports are found by OpenFlow number, datapath number and name", () => {
  assert.equal(bridge.odpPort(0xfffe), 100);
  assert.equal(bridge.ofport(100), 0xfffe);
  assert.equal(bridge.portByName("LOCAL")!.name, "br0");
  assert.equal(bridge.ofport(77), -1);
});

Deno.test("the dummy datapath numbers ports after the digits in their names", () => {
  assert.equal(dummyOdpPort("p1", new Set()), 1);
  assert.equal(dummyOdpPort("br0", new Set()), 100);
  assert.equal(dummyOdpPort("p1", new Set([1])), 2);
  assert.equal(dummyOdpPort("eth", new Set([1, 2])), 3);
});

Deno.test("two ports with one OpenFlow number are refused", () => {
  assert.throws(
    () =>
      new XBridge("br1", [{ name: "a", ofport: 1, odpPort: 1 }, {
        name: "b",
        ofport: 1,
        odpPort: 2,
      }]),
    /duplicate ofport 1/,
  );
});
