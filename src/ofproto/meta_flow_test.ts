import assert from "node:assert/strict";
import { bytesOf, F, newKey } from "../flow/mod.ts";
import { MF_FIELDS, mfByName, mfGet, mfSet, mfSetMasked, prereqOk } from "./meta_flow.ts";

Deno.test("every field name, extra name and NXM name finds its field", () => {
  for (const f of MF_FIELDS) {
    assert.equal(mfByName(f.name), f);
    for (const a of f.aliases) assert.equal(mfByName(a), f);
    assert.ok(mfByName(f.nxm));
    assert.ok(f.off + f.nBytes <= 328 && f.shift + f.nBits <= 8 * f.nBytes, f.name);
  }
  assert.equal(mfByName("NXM_NX_REG3")?.name, "reg3");
  assert.equal(mfByName("dl_src")?.name, "eth_src");
});

Deno.test("sub-byte fields write only their own bits", () => {
  const k = newKey();
  mfSet(mfByName("vlan_tci")!, k, 0xffffn);
  mfSet(mfByName("vlan_vid")!, k, 0x1064n);
  assert.equal(mfGet(mfByName("vlan_tci")!, k), 0xf064n);
  mfSet(mfByName("nw_tos")!, k, 0x03n);
  mfSet(mfByName("ip_dscp")!, k, 8n);
  assert.equal(bytesOf(k)[F.nw_tos.off], 0x23);
  mfSetMasked(mfByName("reg1")!, k, 0x10n, 0xf0n);
  assert.equal(mfGet(mfByName("reg1")!, k), 0x10n);
  mfSet(mfByName("icmp_type")!, k, 8n);
  assert.equal(mfGet(mfByName("tcp_src")!, k), 8n);
});

Deno.test("prerequisites follow eth_type and nw_proto of the flow", () => {
  const k = newKey();
  mfSet(mfByName("eth_type")!, k, 0x86ddn);
  mfSet(mfByName("nw_proto")!, k, 6n);
  const b = bytesOf(k);
  assert.ok(prereqOk("tcp", b));
  assert.ok(prereqOk("ipv6", b));
  assert.ok(!prereqOk("ip", b));
  assert.ok(!prereqOk("udp", b));
  assert.ok(!prereqOk("vlan", b));
});
