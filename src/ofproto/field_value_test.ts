import assert from "node:assert/strict";
import { formatTcpFlagsMasked, TCP_FLAG_NAMES } from "../flow/mod.ts";
import { formatIpv6, parseFieldValue, parseIpv6 } from "./field_value.ts";
import { mfByName } from "./meta_flow.ts";
import { OfctlError } from "./ofctl_error.ts";

Deno.test("IPv6 addresses print in RFC 5952 form and parse back", () => {
  for (
    const s of [
      "::",
      "::1",
      "2001:db8::",
      "fe80::1",
      "2001:db8:0:1:1:1:1:1",
      "::ffff:1.2.3.4",
      "1::2:0:0:3",
    ]
  ) {
    assert.equal(formatIpv6(parseIpv6(s)!), s);
  }
  assert.equal(formatIpv6(parseIpv6("2001:0db8:0000:0000:0000:0000:0000:0001")!), "2001:db8::1");
  assert.equal(parseIpv6("1:2:3"), undefined);
  assert.equal(parseIpv6("1::2::3"), undefined);
});

Deno.test("field values take masks, prefixes and flag names as ovs-ofctl does", () => {
  assert.deepEqual(parseFieldValue(mfByName("nw_dst")!, "10.0.0.0/8"), {
    value: 0x0a000000n,
    mask: 0xff000000n,
  });
  assert.deepEqual(parseFieldValue(mfByName("tp_src")!, "0x100/0xff00"), {
    value: 0x100n,
    mask: 0xff00n,
  });
  assert.deepEqual(parseFieldValue(mfByName("tcp_flags")!, "+syn-ack"), {
    value: 2n,
    mask: 0x12n,
  });
  assert.deepEqual(parseFieldValue(mfByName("nw_frag")!, "later"), { value: 3n, mask: 3n });
  assert.deepEqual(parseFieldValue(mfByName("in_port")!, "LOCAL"), {
    value: 0xfffen,
    mask: 0xffffn,
  });
  assert.throws(() => parseFieldValue(mfByName("nw_ttl")!, "256"), OfctlError);
  assert.throws(() => parseFieldValue(mfByName("nw_ttl")!, "1/1"), OfctlError);
});

Deno.test("tcp_flags: ofctl text and the datapath text name the same 12 bits", () => {
  const field = mfByName("tcp_flags")!;
  for (const [bit, name] of TCP_FLAG_NAMES) {
    assert.deepEqual(parseFieldValue(field, name), { value: BigInt(bit), mask: 0xfffn });
    assert.deepEqual(parseFieldValue(field, `-${name}`), { value: 0n, mask: BigInt(bit) });
    assert.equal(formatTcpFlagsMasked(bit, bit), `+${name}`);
  }
  assert.equal(formatTcpFlagsMasked(0x012, 0xfff), "syn|ack");
  assert.equal(formatTcpFlagsMasked(0x002, 0x012), "+syn-ack");
  assert.throws(() => parseFieldValue(field, "+syn-bogus"), /bogus: unknown TCP flag/);
});
