/**
 * The OpenFlow endpoint (src/openflow decoders and src/daemon/ofconn.ts
 * handlers, OVS's vconn + ofpraw_pull + handle_openflow) on an arbitrary
 * byte stream after the hello, framed as connmgr.ts frames it, over real
 * OpenFlow tables. Properties: no message makes the connection throw;
 * every reply is one well-framed message; an OFPT_ERROR answers its
 * request (same xid, the request's bytes carried from the start); a
 * stream whose framing breaks (a length below the header's) is where OVS
 * closes, and nothing else ends the connection: after the stream a
 * barrier request still gets its barrier reply.
 */
import assert from "node:assert/strict";
import {
  decodeHeader,
  frameLength,
  OFP10_VERSION,
  OFPT10_BARRIER_REPLY,
  OFPT10_BARRIER_REQUEST,
  OFPT11_BARRIER_REPLY,
  OFPT11_BARRIER_REQUEST,
  OFPT_ERROR,
} from "../../../src/openflow/mod.ts";
import { Ofconn, SUPPORTED_VERSIONS } from "../../../src/daemon/ofconn.ts";
import { parseFlowMod } from "../../../src/ofproto/mod.ts";
import { TablesSwitch } from "../../support/openflow/tables_switch.ts";
import { mutateBytes, type Rng, type Target } from "../engine.ts";

/** The longest stream made: a few messages of the recorded sizes. */
const MAX_LEN = 4096;

function barrier(version: number): Uint8Array {
  const type = version === OFP10_VERSION ? OFPT10_BARRIER_REQUEST : OFPT11_BARRIER_REQUEST;
  return new Uint8Array([version, type, 0, 8, 0xba, 0x44, 0x1e, 0x55]);
}

function checkReplies(request: Uint8Array, replies: Uint8Array[]): void {
  const xid = decodeHeader(request).xid;
  for (const r of replies) {
    assert.equal(frameLength(r), r.length, "a reply's length field is not its size");
    if (r[1] !== OFPT_ERROR) continue;
    assert.equal(decodeHeader(r).xid, xid, "an error with another xid than its request's");
    const carried = r.subarray(12);
    assert.ok(carried.length > 0, "an error that carries nothing of its request");
    assert.deepEqual(carried, request.subarray(0, carried.length), "an error carries other bytes");
  }
}

/**
 * One switch for every input (making OpenFlow tables costs far more than
 * an input), emptied after each so that inputs stay independent. It
 * announces 8 tables: a table-features reply for OVS's 254 takes 100 ms,
 * and 8 exercise the same code.
 */
const sw = new TablesSwitch(8);
const deleteAll = parseFlowMod("", "delete");

export function checkOpenFlowStream(stream: Uint8Array): void {
  try {
    checkStream(stream);
  } finally {
    sw.flowMod(deleteAll);
  }
}

function checkStream(stream: Uint8Array): void {
  // The first message's version is negotiated when udpif speaks it.
  const version = SUPPORTED_VERSIONS.has(stream[0]) ? stream[0] : OFP10_VERSION;
  const c = new Ofconn("fuzz", sw, "service");
  c.hello();
  c.receive(new Uint8Array([version, 0, 0, 8, 0, 0, 0, 1]));
  assert.equal(c.state, "active");
  let rest = stream;
  for (;;) {
    const len = frameLength(rest);
    if (len < 0) return; // connmgr (and OVS's vconn) closes here
    if (len === 0) break; // an incomplete message waits for more bytes
    const msg = rest.slice(0, len);
    rest = rest.subarray(len);
    checkReplies(msg, c.receive(msg));
    assert.equal(c.state, "active", "a message ended the connection");
  }
  const fence = c.receive(barrier(version));
  const replyType = version === OFP10_VERSION ? OFPT10_BARRIER_REPLY : OFPT11_BARRIER_REPLY;
  assert.equal(fence.length, 1, "no barrier reply after the stream");
  assert.equal(fence[0][1], replyType, "the barrier got something else than its reply");
}

export const openflowTarget: Target<Uint8Array> = {
  name: "openflow",
  kind: "bytes",
  mutate(rng: Rng, corpus: readonly Uint8Array[]): Uint8Array {
    const b = mutateBytes(rng, corpus, MAX_LEN);
    // Mostly keep the first message's length true to its size, so that
    // mutations reach the decoders rather than only the framing.
    if (b.length >= 8 && !rng.chance(4)) {
      const len = Math.min(b.length, 0xffff);
      b[2] = len >> 8;
      b[3] = len & 0xff;
    }
    return b;
  },
  run: checkOpenFlowStream,
};
