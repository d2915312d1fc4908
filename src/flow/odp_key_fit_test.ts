/**
 * odpKeyFit against Open vSwitch 3.1: every key below was given to
 * `ovs-appctl dpctl/add-flow KEY drop` on a dummy datapath; "ok" ones were
 * installed, the others refused with "updating flow table (Invalid
 * argument)" (fixtures/fuzz/odp_key/fit.txt holds the same list).
 */
import assert from "node:assert/strict";
import { newKey } from "./key.ts";
import { F } from "./layout.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { clearUnreadFields, odpKeyAndMaskFit, odpKeyFit } from "./odp_key_fit.ts";
import { parsePacketSpec } from "./packet_spec.ts";
import { flowExtract } from "./extract.ts";
import { OdpParseError } from "./_scan.ts";

const FIXTURE = new URL("../../fixtures/fuzz/odp_key/fit.txt", import.meta.url);
const CASES = Deno.readTextFileSync(FIXTURE)
  .split("\n")
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => {
    const [verdict, key] = l.split(" ");
    return { ok: verdict === "ok", key };
  });

Deno.test("dpctl/add-flow's fit check accepts and refuses the keys OVS 3.1 does", () => {
  assert.ok(CASES.length >= 40);
  for (const { ok, key } of CASES) {
    const k = newKey(), m = newKey();
    let level;
    try {
      level = parseOdpKey(key, k, m);
    } catch (e) {
      assert.fail(`${key}: ${e}`);
    }
    assert.equal(odpKeyAndMaskFit(level, k, m), ok, key);
  }
});

const ETH = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
const IP = (proto: number) =>
  `${ETH},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=${proto},tos=0,ttl=64,frag=no)`;

Deno.test("fitness names what is missing or extra, and OVS's message for an error", () => {
  const judge = (text: string) => {
    const k = newKey(), m = newKey();
    return odpKeyFit(parseOdpKey(text, k, m), k);
  };
  assert.deepEqual(judge(`${IP(17)},tcp(src=1,dst=2)`), {
    fitness: "too_little",
    error: null,
    unexpected: ["tcp"],
  });
  assert.deepEqual(judge(`${IP(17)},udp(src=1,dst=2),tcp_flags(syn)`).unexpected, ["tcp_flags"]);
  assert.equal(judge(`${ETH},eth_type(0x0806)`).fitness, "too_little");
  assert.equal(judge(`${IP(6)},tcp(src=1,dst=2)`).fitness, "perfect");
  assert.deepEqual(
    judge(`${ETH},eth_type(0x8100),vlan(vid=5,pcp=0,cfi=0),encap(eth_type(0x0800))`),
    {
      fitness: "error",
      error: "OVS_KEY_ATTR_VLAN 0x0005 is nonzero but CFI bit is not set",
      unexpected: [],
    },
  );
  assert.equal(judge(`${ETH},eth_type(0x0100)`).error, "invalid Ethertype 256 in flow key");
});

Deno.test("netdev-dummy/receive reads only what OVS reads, and refuses a key in error", () => {
  // OVS sends a UDP packet with ports 0 for tcp() under proto=17.
  const pkt = new Uint8Array(2048);
  const len = parsePacketSpec(`${IP(17)},tcp(src=1,dst=2)`, pkt);
  const k = newKey();
  flowExtract(pkt, len, 1, k);
  const b = new Uint8Array(k.buffer);
  assert.equal(b[F.nw_proto.off], 17);
  assert.deepEqual([...b.subarray(F.tp_src.off, F.tp_src.off + 4)], [0, 0, 0, 0]);
  // A read attribute keeps what it shares with an unread one.
  const both = newKey(), m = newKey();
  const text = `${IP(6)},tcp(src=1,dst=2),udp(src=3,dst=4)`;
  const level = parseOdpKey(text.replace(",udp(src=3,dst=4)", ""), both, m);
  clearUnreadFields(level, { fitness: "too_much", error: null, unexpected: ["udp"] }, both);
  assert.equal(new Uint8Array(both.buffer)[F.tp_src.off + 1], 1);
  const vlan = `${ETH},eth_type(0x8100),vlan(vid=5,pcp=0,cfi=0),encap(eth_type(0x0800))`;
  assert.throws(
    () => parsePacketSpec(vlan),
    (e: Error) =>
      e instanceof OdpParseError &&
      e.ovsMessage ===
        `OVS_KEY_ATTR_VLAN 0x0005 is nonzero but CFI bit is not set; the flow key in error is: ${vlan}`,
  );
});
