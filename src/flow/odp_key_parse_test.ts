/** Regression tests for inputs the fuzzer (tests/fuzz, odp_key target) found. */
import assert from "node:assert/strict";
import { bytesOf, newKey, setUint } from "./key.ts";
import { F } from "./layout.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { OdpParseError } from "./_scan.ts";

const TCP =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)";

Deno.test("numeric tcp_flags wider than TCP's 12 bits are refused as OVS refuses them", () => {
  // Accepted before, and printed with a `0xf000` part the parser refuses
  // (fixtures/fuzz/odp_key/crash-05d08574.txt).
  for (const flags of ["65535", "0x1010/0xffff", "0xf000/0xf000", "0x10/0x1fff"]) {
    assert.throws(
      () => parseOdpKey(`${TCP},tcp_flags(${flags})`, newKey(), newKey()),
      (e: Error) =>
        e instanceof OdpParseError && e.message === `syntax error at tcp_flags(${flags})`,
    );
  }
});

Deno.test("numeric tcp_flags within 12 bits print as ovs-appctl dpctl/dump-flows prints them", () => {
  for (
    const [flags, printed] of [
      ["0xfff", "fin|syn|rst|psh|ack|urg|ece|cwr|ns|[200]|[400]|[800]"],
      ["0x10/0xfff", "ack"],
      ["0", "0"],
    ]
  ) {
    const k = newKey(), m = newKey();
    parseOdpKey(`${TCP},tcp_flags(${flags})`, k, m);
    assert.equal(formatOdpKey(k, m).split(",tcp_flags")[1], `(${printed})`);
  }
});

const IPV6 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x86dd),ipv6(src=::1,dst=::2,LABEL,proto=17,tclass=0,hlimit=64,frag=no),udp(src=1,dst=2)";

Deno.test("ipv6 label: 20 bits in the text, a wider mask from OpenFlow printed whole", () => {
  // scan_ipv6_label: neither value nor mask may reach past the 20 bits.
  for (const label of ["label=1/0xfff00001", "label=0x100000", "label=0x1/0x100000"]) {
    const text = IPV6.replace("LABEL", label);
    assert.throws(
      () => parseOdpKey(text, newKey(), newKey()),
      (e: Error) =>
        e instanceof OdpParseError &&
        e.ovs === `syntax error at ${text.slice(text.indexOf("ipv6("))}`,
    );
  }
  // Printed as ovs-appctl dpctl/dump-flows printed them.
  for (
    const [label, printed] of [
      ["label=1/0x00001", "label=0x1/0x1"],
      ["label=0x12345/0xf0f0f", "label=0x12345/0xf0f0f"],
      ["label=0x12345", "label=0x12345"],
      ["label=0/0", ""],
    ]
  ) {
    const k = newKey(), m = newKey();
    parseOdpKey(IPV6.replace("LABEL", label), k, m);
    assert.equal(
      /ipv6\(src=::1,dst=::2,(label=[^,]*,)?/.exec(formatOdpKey(k, m))![1] ?? "",
      printed && `${printed},`,
    );
  }
  // A megaflow mask from ipv6_label=1/0xfff00001 (tests/conformance/cases/ip6-label-wide-mask).
  const k = newKey(), m = newKey();
  parseOdpKey(IPV6.replace("LABEL", "label=0x12341"), k, m);
  setUint(bytesOf(m), F.ipv6_label.off, 4, 0xfff00001);
  assert.match(formatOdpKey(k, m), /label=0x12341\/0xfff00001,/);
});

Deno.test("eth() makes the key Ethernet whatever packet_type() said, as odp_flow_key_to_flow does", () => {
  // fixtures/fuzz/odp_key/crash-d90d5186.txt: eth() was dropped from the print.
  const k = newKey(), m = newKey();
  parseOdpKey(
    "in_port(1),packet_type(ns=0,id=1),eth(src=50:54:00:00:00:05,dst=01:00:5e:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.1,dst=224.0.0.1)",
    k,
    m,
  );
  const printed = formatOdpKey(k, m);
  assert.match(
    printed,
    /packet_type\(ns=0,id=0\),eth\(src=50:54:00:00:00:05,dst=01:00:5e:00:00:01\)/,
  );
  // Without eth() the given packet type stays, as dump lines carry it.
  parseOdpKey("in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)", k, m);
  assert.match(formatOdpKey(k, m, { verbose: true }), /packet_type\(ns=0,id=0\)/);
});

Deno.test("frag takes no mask, as scan_frag reads it", () => {
  const text = TCP.replace("frag=no", "frag=no/0");
  assert.throws(
    () => parseOdpKey(text, newKey(), newKey()),
    (e: Error) =>
      e instanceof OdpParseError &&
      e.ovs === `syntax error at ${text.slice(text.indexOf("ipv4("))}`,
  );
});

Deno.test("ct key attributes read and print as OVS 3.1's dpctl/dump-flows shows them", () => {
  // Printed by OVS 3.1 for the same dpctl/add-flow text.
  const text =
    "ct_state(+new+trk),ct_zone(0x1),ct_mark(0x5/0xff),ct_label(0x1/0xf),ct_tuple4(src=10.0.0.1,dst=10.0.0.2,proto=17,tp_src=1,tp_dst=2),recirc_id(0x1),in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)";
  const key = newKey(), mask = newKey();
  parseOdpKey(text, key, mask);
  assert.equal(formatOdpKey(key, mask), text);
  // ct_tuple6 reads tp_src/tp_dst (as OVS's scanner) and prints src_port/dst_port (as its printer).
  const v6 =
    "ct_tuple6(src=fe80::1,dst=fe80::2,proto=6,tp_src=1,tp_dst=2),recirc_id(0x2),in_port(1),eth_type(0x86dd),ipv6(src=fe80::1,dst=fe80::2,proto=6,frag=no)";
  const k6 = newKey(), m6 = newKey();
  parseOdpKey(v6, k6, m6);
  assert.match(
    formatOdpKey(k6, m6),
    /ct_tuple6\(src=fe80::1,dst=fe80::2,proto=6,src_port=1,dst_port=2\)/,
  );
});
