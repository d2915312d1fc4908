import assert from "node:assert/strict";
import { newKey, type OdpAction } from "../flow/mod.ts";
import { actionsDigest, ActionsDigestMemo } from "./actions_digest.ts";

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

Deno.test("the memo's digests are actionsDigest's, whatever list came before", () => {
  const memo = new ActionsDigestMemo();
  const viaMemo = (a: OdpAction[]) => Array.from(memo.digest(a, new Uint32Array(3)));
  const out2: OdpAction = Object.freeze({ type: "output", port: 2 });
  const out3: OdpAction = Object.freeze({ type: "output", port: 3 });
  // Not frozen: the same object may say something else next time.
  const mutable = { type: "output" as const, port: 2 };
  const lists: OdpAction[][] = [
    [out2],
    [out2],
    [out2, out3],
    [out2, out3],
    [out3, out2],
    [out3],
    [],
    [],
    [out2],
    [mutable],
    [mutable],
    [{ type: "pop_vlan" }, out2],
    [out2],
  ];
  for (const [i, list] of lists.entries()) {
    assert.deepEqual(viaMemo(list), digest(list), `list ${i}`);
    if (i === 9) mutable.port = 5;
  }
});
