/**
 * NXAST_CT, NXAST_NAT and NXAST_CT_CLEAR: what udpif encodes reads back
 * the same in OpenFlow 1.0 and 1.3, and the encodings are the ones OVS
 * 3.1's `ovs-ofctl ofp-print` decoded (as a packet-out) into the strings
 * below; bad encodings get decode_NXAST_RAW_CT's and _NAT's errors.
 */
import assert from "node:assert/strict";
import { formatActions, parseFlowMod } from "../ofproto/mod.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { OfpError } from "./errors.ts";
import { pullActions, pullInstructions, putActions10, putInstructions } from "./actions.ts";

const CASES: ReadonlyArray<readonly [string, string]> = [
  [
    "tcp,actions=ct(commit,table=3,zone=5,nat(src=10.0.0.1-10.0.0.5:100-200,random),exec(set_field:1->ct_mark,set_field:0x5/0xff->ct_label))",
    "ct(commit,table=3,zone=5,nat(src=10.0.0.1-10.0.0.5:100-200,random),exec(load:0x1->NXM_NX_CT_MARK[],load:0x5->NXM_NX_CT_LABEL[0..7]))",
  ],
  [
    "tcp,actions=ct(table=1,zone=reg0[0..15]),ct_clear,ct(nat)",
    "ct(table=1,zone=NXM_NX_REG0[0..15]),ct_clear,ct(nat)",
  ],
  [
    "tcp,actions=ct(commit,alg=ftp,nat(dst=10.0.0.1:80,persistent,hash))",
    "ct(commit,nat(dst=10.0.0.1:80,persistent,hash),alg=ftp)",
  ],
  [
    "tcp6,actions=ct(commit,nat(src=[fe80::1]-[fe80::5]:80-90))",
    "ct(commit,nat(src=[fe80::1]-[fe80::5]:80-90))",
  ],
];

function roundTrip(line: string, version: number): string {
  const fm = parseFlowMod(line, "add", false, { version });
  const w = new WireWriter();
  if (version === 1) putActions10(w, fm.actions!, fm.match);
  else putInstructions(w, fm.actions!, version, fm.match);
  const bytes = w.finish();
  const r = new WireReader(bytes);
  return formatActions(
    version === 1
      ? pullActions(r, bytes.length, version)
      : pullInstructions(r, bytes.length, version),
  );
}

Deno.test("ct actions: encoded as OVS does, read back in OpenFlow 1.0 and 1.3", () => {
  for (const [line, ovs] of CASES) {
    assert.equal(roundTrip(line, 1), ovs, line);
    const of13 = roundTrip(line, 4);
    assert.match(of13, /^ct\(/, line);
  }
  assert.equal(
    roundTrip("ip,actions=ct(commit,exec(set_field:0x5/0xff->ct_label))", 4),
    "ct(commit,exec(load:0x5->NXM_NX_CT_LABEL[0..7]))",
  );
  assert.equal(
    roundTrip("ip,actions=ct(commit,exec(set_field:5->ct_mark))", 4),
    "ct(commit,exec(set_field:0x5->ct_mark))",
  );
});

function pullHex(hex: string): OfpError | string {
  const bytes = new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)));
  try {
    return formatActions(pullActions(new WireReader(bytes), bytes.length, 1));
  } catch (e) {
    if (e instanceof OfpError) return e;
    throw e;
  }
}

Deno.test("ct actions: bad encodings are refused with OVS's errors", () => {
  // NXAST_CT with force but no commit.
  const force = "ffff001800002320" + "0023" + "0002" + "00000000" + "0000" + "ff000000" + "0000";
  assert.equal((pullHex(force) as OfpError).errorName, "OFPBAC_BAD_ARGUMENT");
  // A zone taken from 8 bits of reg0.
  const zone8 = "ffff001800002320" + "0023" + "0000" + "00010004" + "0007" + "ff000000" + "0000";
  assert.equal((pullHex(zone8) as OfpError).errorName, "OFPBAC_BAD_SET_LEN");
  // NXAST_NAT with both src and dst.
  const nat = "ffff001000002320" + "0024" + "0000" + "0003" + "0000";
  assert.equal((pullHex(nat) as OfpError).errorName, "OFPBAC_BAD_ARGUMENT");
  assert.equal(pullHex("ffff001000002320" + "002b" + "000000000000"), "ct_clear");
});
