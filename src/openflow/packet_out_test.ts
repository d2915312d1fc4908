import assert from "node:assert/strict";
import { formatActions } from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import { decodePacketOut } from "./packet_out.ts";

const FRAME = [0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 0, 0, 5, 0x08, 0x00];

/** OF1.0: buffer_id, in_port, actions_len, output:3, then the frame. */
function of10(bufferId = [0xff, 0xff, 0xff, 0xff], inPort = [0, 1]): Uint8Array {
  const body = [...bufferId, ...inPort, 0, 8, 0, 0, 0, 8, 0, 3, 0, 0, ...FRAME];
  return new Uint8Array([1, 13, 0, 8 + body.length, 0, 0, 0, 5, ...body]);
}

/** OF1.3: buffer_id, in_port CONTROLLER, actions_len, pad, output:3, then the frame. */
function of13(): Uint8Array {
  const action = [0, 0, 0, 16, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
  const body = [
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xfd,
    0,
    16,
    0,
    0,
    0,
    0,
    0,
    0,
    ...action,
    ...FRAME,
  ];
  return new Uint8Array([4, 13, 0, 8 + body.length, 0, 0, 0, 5, ...body]);
}

Deno.test("packet-out: port, actions and packet in OpenFlow 1.0 and 1.3", () => {
  const po = decodePacketOut(of10(), 1);
  assert.equal(po.inPort, 1);
  assert.equal(formatActions(po.actions), "output:3");
  assert.deepEqual([...po.packet], FRAME);
  const po13 = decodePacketOut(of13(), 4);
  assert.equal(po13.inPort, 0xfffd);
  assert.equal(formatActions(po13.actions), "output:3");
  assert.deepEqual([...po13.packet], FRAME);
});

Deno.test("packet-out: a buffered packet, a reserved in_port or short actions are refused", () => {
  const fails = (m: Uint8Array, version: number, name: string) =>
    assert.throws(
      () => decodePacketOut(m, version),
      (e) => e instanceof OfpError && e.errorName === name,
    );
  fails(of10([0, 0, 0, 1]), 1, "OFPBRC_BUFFER_UNKNOWN");
  fails(of10(undefined, [0xff, 0x05]), 1, "OFPBRC_BAD_PORT");
  const short = of10().slice(0, 20);
  short[3] = 20;
  // actions_len beyond the message: the message is too short (OVS: OFPBRC_BAD_LEN).
  fails(short, 1, "OFPBRC_BAD_LEN");
});
