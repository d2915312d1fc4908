/**
 * OpenFlow 1.3 group messages: a group_mod laid out as ovs-ofctl 3.1's
 * `-O OpenFlow13 add-group` sends one (watch port and group ANY), bad
 * ones, and the desc and stats entries' layout.
 */
import assert from "node:assert/strict";
import { formatGroup, type GroupStats, parseGroupMod } from "../ofproto/mod.ts";
import { decodeGroupMod, putGroupDesc, putGroupStats } from "./group_mod.ts";
import { decodeGroupMod15, putGroupDesc15 } from "./group_mod15.ts";
import { OfpError } from "./errors.ts";
import { WireWriter } from "./_buf.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

// group_id=1,type=all,bucket=output:2,bucket=output:3 over OpenFlow 1.3.
const ADD_ALL = hex(
  "040f0040000000060000000000000001" +
    "00200000ffffffffffffffff00000000" + "00000010000000020000000000000000" +
    "00200000ffffffffffffffff00000000" + "00000010000000030000000000000000",
);

Deno.test("an OpenFlow 1.3 group_mod decodes to the group ovs-ofctl's text makes", () => {
  const gm = decodeGroupMod(ADD_ALL, 4);
  assert.equal(gm.command, "add");
  assert.equal(
    formatGroup(gm, 4),
    "group_id=1,type=all,bucket=actions=output:2,bucket=actions=output:3",
  );
  assert.deepEqual(gm.buckets.map((b) => b.id), [0, 1]);
});

Deno.test("bad group_mods are the errors OVS sends", () => {
  const badCommand = ADD_ALL.slice();
  badCommand[9] = 9;
  assert.throws(
    () => decodeGroupMod(badCommand, 4),
    (e) => e instanceof OfpError && e.errorName === "OFPGMFC_BAD_COMMAND",
  );
  const badType = ADD_ALL.slice();
  badType[10] = 7;
  assert.throws(
    () => decodeGroupMod(badType, 4),
    (e) => e instanceof OfpError && e.errorName === "OFPGMFC_BAD_TYPE",
  );
  const short = ADD_ALL.slice(0, 40);
  assert.throws(() => decodeGroupMod(short, 4), OfpError);
});

Deno.test("desc and stats entries carry their lengths and OpenFlow 1.3's duration", () => {
  const gm = decodeGroupMod(ADD_ALL, 4);
  const w = new WireWriter();
  putGroupDesc(w, gm, 4);
  const desc = w.finish();
  // The desc entry is the group_mod's body with the length in front.
  assert.equal(desc.length, ADD_ALL.length - 8);
  assert.deepEqual(desc.slice(8), ADD_ALL.slice(16));
  const st: GroupStats = {
    packets: 3,
    bytes: 354,
    buckets: [{ packets: 3, bytes: 354 }, { packets: 1, bytes: 60 }],
  };
  const s = new WireWriter();
  putGroupStats(s, 1, 2, st, 1500, 4);
  const stats = s.finish();
  assert.equal(stats.length, 40 + 2 * 16);
  assert.equal((stats[0] << 8) | stats[1], stats.length);
  assert.equal(new DataView(stats.buffer).getUint32(36), 500e6, "nsec of 1.5 s");
});

Deno.test("OpenFlow 1.5 layout (Nicira over 1.0): a group's desc entry decodes back as a group_mod", () => {
  const text = "group_id=5,type=select,selection_method=hash,fields(ip_src,nw_proto)," +
    "bucket=bucket_id:7,output:2,bucket=weight:3,watch_port:2,mod_nw_dst:10.0.0.9,output:3";
  const g = parseGroupMod(text, "add", 1);
  const w = new WireWriter();
  putGroupDesc15(w, g);
  const desc = w.finish();
  assert.equal((desc[0] << 8) | desc[1], desc.length);
  // ofp15_group_desc_stats and ofp15_group_mod share everything after their first 16 bytes.
  const msg = new Uint8Array(16 + desc.length);
  const v = new DataView(msg.buffer);
  v.setUint8(0, 1), v.setUint8(1, 4), v.setUint16(2, msg.length);
  v.setUint32(8, 0x2320), v.setUint32(12, 31);
  msg.set(desc, 16);
  v.setUint16(16, 0), v.setUint8(18, 1), v.setUint32(20, 5);
  v.setUint16(24, (desc[8] << 8) | desc[9]), v.setUint32(28, 0xffffffff);
  const gm = decodeGroupMod15(msg, 1);
  assert.equal(formatGroup(gm, 6), formatGroup(g, 6));
  assert.equal(gm.command, "add");
});
