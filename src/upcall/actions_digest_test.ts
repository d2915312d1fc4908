import assert from "node:assert/strict";
import { newKey, type OdpAction } from "../flow/mod.ts";
import { actionsDigest } from "./actions_digest.ts";

const digest = (a: OdpAction[]) => Array.from(actionsDigest(a, new Uint32Array(3)));

Deno.test("equal action lists have equal digests, built separately", () => {
  const k1 = newKey(), k2 = newKey();
  k1[3] = k2[3] = 0xabcd;
  assert.deepEqual(
    digest([{ type: "set", attr: "ipv4", key: k1 }, { type: "output", port: 2 }]),
    digest([{ type: "set", attr: "ipv4", key: k2 }, { type: "output", port: 2 }]),
  );
});

Deno.test("a different port, order, field or count changes the digest", () => {
  const base = digest([{ type: "output", port: 2 }, { type: "output", port: 3 }]);
  assert.notDeepEqual(base, digest([{ type: "output", port: 3 }, { type: "output", port: 2 }]));
  assert.notDeepEqual(base, digest([{ type: "output", port: 2 }, { type: "output", port: 4 }]));
  assert.notDeepEqual(base, digest([{ type: "output", port: 2 }]));
  assert.notDeepEqual(digest([]), digest([{ type: "pop_vlan" }]));
  const k = newKey();
  const k2 = newKey();
  k2[40] = 1;
  assert.notDeepEqual(
    digest([{ type: "set", attr: "ipv4", key: k }]),
    digest([{ type: "set", attr: "ipv4", key: k2 }]),
  );
  assert.notDeepEqual(
    digest([{ type: "userspace", pid: 0, userdata: Uint8Array.of(1) }]),
    digest([{ type: "userspace", pid: 0, userdata: Uint8Array.of(2) }]),
  );
});
