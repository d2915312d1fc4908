/**
 * A compact binary form of a datapath action list, so that a flow's
 * actions can live in a SharedArrayBuffer and the PMD can run them by
 * walking bytes, with no objects.
 *
 * Layout: a sequence of records, each
 *
 *   u8 opcode | u16 payload length (big-endian) | payload
 *
 * Payloads (all integers big-endian):
 *   ACT_OUTPUT     u32 port
 *   ACT_USERSPACE  u32 pid, u8 flags (1 = actions, 2 = has userdata), userdata
 *   ACT_SET        u8 attr index (SET_ATTRS), key bytes (SET_ATTR_SPANS order)
 *   ACT_SET_MASKED u8 attr index, key bytes, then mask bytes
 *   ACT_PUSH_VLAN  u16 tpid, u16 tci
 *   ACT_POP_VLAN   (empty)
 *   ACT_RECIRC     u32 id
 *   ACT_HASH       u32 alg, u32 basis
 *   ACT_TRUNC      u32 max_len
 *   ACT_TEXT + i   the text of an ODP_TEXT_ACTIONS[i] action, UTF-8
 *   ACT_CT         the conntrack action, laid out at CT_OFF_* (_odp_ct.ts)
 *   ACT_CT_CLEAR   (empty)
 *   ACT_CHECK_PKT_LEN  u16 size, u16 length of the encoded gt list, the
 *                  encoded gt list, the encoded le list
 *   ACT_CLONE      the encoded nested list
 *
 * An empty encoding is an empty list: drop.
 */
import { newKey } from "./key.ts";
import { ODP_TEXT_ACTIONS, type OdpAction, type OdpSetAttr } from "./odp_action.ts";
import { SET_ATTR_SPANS, SET_ATTRS, setAttrBytes } from "./set_attr.ts";
import { ctPayloadLen, decodeCtAction, encodeCtAction } from "./_odp_ct.ts";

export const ACT_OUTPUT = 1;
export const ACT_USERSPACE = 2;
export const ACT_SET = 3;
export const ACT_SET_MASKED = 4;
export const ACT_PUSH_VLAN = 5;
export const ACT_POP_VLAN = 6;
export const ACT_RECIRC = 7;
export const ACT_HASH = 8;
export const ACT_TRUNC = 9;
/** First opcode of the text-kept actions, in ODP_TEXT_ACTIONS order. */
export const ACT_TEXT = 10;
export const ACT_CT = 32;
export const ACT_CT_CLEAR = 33;

/** Past the text-kept actions' opcodes. */
export const ACT_CHECK_PKT_LEN = 34;
export const ACT_CLONE = 35;

/** Bytes of a record header: opcode and payload length. */
export const ACT_HEADER_LEN = 3;

/**
 * The port of an encoded list `b[at..at+n)` that is one output and
 * nothing else (the commonest list, which a PMD sends without walking),
 * or -1.
 */
export function loneOutputPort(b: Uint8Array, at: number, n: number): number {
  if (n !== ACT_HEADER_LEN + 4 || b[at] !== ACT_OUTPUT) return -1;
  const p = at + ACT_HEADER_LEN;
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function payloadLen(a: OdpAction): number {
  switch (a.type) {
    case "output":
    case "recirc":
    case "trunc":
    case "push_vlan":
      return 4;
    case "pop_vlan":
    case "ct_clear":
      return 0;
    case "ct":
      return ctPayloadLen(a);
    case "hash":
      return 8;
    case "userspace":
      return 5 + (a.userdata?.length ?? 0);
    case "set":
      return 1 + setAttrBytes(a.attr);
    case "set_masked":
      return 1 + 2 * setAttrBytes(a.attr);
    case "check_pkt_len":
      return 4 + encodedLength(a.gt) + encodedLength(a.le);
    case "clone":
      return encodedLength(a.actions);
    default:
      return new TextEncoder().encode(a.text).length;
  }
}

const FIXED_OPS: Record<string, number> = {
  output: ACT_OUTPUT,
  userspace: ACT_USERSPACE,
  set: ACT_SET,
  set_masked: ACT_SET_MASKED,
  push_vlan: ACT_PUSH_VLAN,
  pop_vlan: ACT_POP_VLAN,
  recirc: ACT_RECIRC,
  hash: ACT_HASH,
  trunc: ACT_TRUNC,
  ct: ACT_CT,
  ct_clear: ACT_CT_CLEAR,
  check_pkt_len: ACT_CHECK_PKT_LEN,
  clone: ACT_CLONE,
};

function opcodeOf(a: OdpAction): number {
  return FIXED_OPS[a.type] ?? ACT_TEXT + (ODP_TEXT_ACTIONS as readonly string[]).indexOf(a.type);
}

/** Bytes `encodeActions` needs for this list. */
export function encodedLength(actions: readonly OdpAction[]): number {
  let n = 0;
  for (const a of actions) n += ACT_HEADER_LEN + payloadLen(a);
  return n;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function get32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function putSpans(out: Uint8Array, o: number, attr: OdpSetAttr, src: Uint32Array): number {
  const b = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  for (const sp of SET_ATTR_SPANS[attr]) {
    out.set(b.subarray(sp.off, sp.off + sp.len), o);
    o += sp.len;
  }
  return o;
}

/**
 * Encodes into `out` (a fresh array by default; pass a slot of shared
 * memory to write in place) and returns the bytes written.
 */
export function encodeActions(
  actions: readonly OdpAction[],
  out: Uint8Array = new Uint8Array(encodedLength(actions)),
): Uint8Array {
  let o = 0;
  for (const a of actions) {
    const len = payloadLen(a);
    if (len > 0xffff) throw new RangeError(`action payload too long: ${len} bytes`);
    const op = opcodeOf(a);
    out[o] = op;
    out[o + 1] = len >>> 8;
    out[o + 2] = len;
    const p = o + ACT_HEADER_LEN;
    switch (a.type) {
      case "output":
        put32(out, p, a.port);
        break;
      case "recirc":
        put32(out, p, a.id);
        break;
      case "trunc":
        put32(out, p, a.maxLen);
        break;
      case "push_vlan":
        put32(out, p, ((a.tpid << 16) | a.tci) >>> 0);
        break;
      case "pop_vlan":
      case "ct_clear":
        break;
      case "ct":
        encodeCtAction(a, out, p);
        break;
      case "hash":
        put32(out, p, a.alg);
        put32(out, p + 4, a.basis);
        break;
      case "userspace":
        put32(out, p, a.pid);
        out[p + 4] = (a.actions ? 1 : 0) | (a.userdata ? 2 : 0);
        if (a.userdata) out.set(a.userdata, p + 5);
        break;
      case "set":
        out[p] = SET_ATTRS.indexOf(a.attr);
        putSpans(out, p + 1, a.attr, a.key);
        break;
      case "set_masked":
        out[p] = SET_ATTRS.indexOf(a.attr);
        putSpans(out, putSpans(out, p + 1, a.attr, a.key), a.attr, a.mask);
        break;
      case "check_pkt_len": {
        const gt = encodeActions(a.gt, out.subarray(p + 4)).length;
        encodeActions(a.le, out.subarray(p + 4 + gt));
        out[p] = a.size >>> 8;
        out[p + 1] = a.size;
        out[p + 2] = gt >>> 8;
        out[p + 3] = gt;
        break;
      }
      case "clone":
        encodeActions(a.actions, out.subarray(p));
        break;
      default:
        out.set(new TextEncoder().encode(a.text), p);
        break;
    }
    o = p + len;
  }
  return out.subarray(0, o);
}

function getSpans(b: Uint8Array, o: number, attr: OdpSetAttr): [Uint32Array, number] {
  const key = newKey();
  const kb = new Uint8Array(key.buffer);
  for (const sp of SET_ATTR_SPANS[attr]) {
    kb.set(b.subarray(o, o + sp.len), sp.off);
    o += sp.len;
  }
  return [key, o];
}

/**
 * Decodes an encoded list back into objects (for printing and tests; the
 * fast path walks the bytes itself). Throws RangeError on corrupt input.
 */
export function decodeActions(b: Uint8Array): OdpAction[] {
  const out: OdpAction[] = [];
  let o = 0;
  while (o < b.length) {
    if (o + ACT_HEADER_LEN > b.length) throw new RangeError("truncated action header");
    const op = b[o];
    const len = (b[o + 1] << 8) | b[o + 2];
    const p = o + ACT_HEADER_LEN;
    if (p + len > b.length) throw new RangeError("truncated action");
    const body = b.subarray(p, p + len);
    const need = (n: number) => {
      if (len !== n) throw new RangeError(`action ${op}: length ${len}, expected ${n}`);
    };
    switch (op) {
      case ACT_OUTPUT:
        need(4);
        out.push({ type: "output", port: get32(body, 0) });
        break;
      case ACT_RECIRC:
        need(4);
        out.push({ type: "recirc", id: get32(body, 0) });
        break;
      case ACT_TRUNC:
        need(4);
        out.push({ type: "trunc", maxLen: get32(body, 0) });
        break;
      case ACT_PUSH_VLAN:
        need(4);
        out.push({ type: "push_vlan", tpid: get32(body, 0) >>> 16, tci: get32(body, 0) & 0xffff });
        break;
      case ACT_POP_VLAN:
        need(0);
        out.push({ type: "pop_vlan" });
        break;
      case ACT_CT:
        out.push(decodeCtAction(body));
        break;
      case ACT_CT_CLEAR:
        need(0);
        out.push({ type: "ct_clear" });
        break;
      case ACT_HASH:
        need(8);
        out.push({ type: "hash", alg: get32(body, 0), basis: get32(body, 4) });
        break;
      case ACT_USERSPACE: {
        if (len < 5) throw new RangeError("short userspace action");
        const a: OdpAction = { type: "userspace", pid: get32(body, 0) };
        if (body[4] & 1) a.actions = true;
        if (body[4] & 2) a.userdata = body.slice(5);
        out.push(a);
        break;
      }
      case ACT_SET:
      case ACT_SET_MASKED: {
        const attr = SET_ATTRS[body[0]];
        if (attr === undefined) throw new RangeError(`bad set attribute ${body[0]}`);
        const n = setAttrBytes(attr);
        need(1 + (op === ACT_SET ? n : 2 * n));
        const [key, next] = getSpans(body, 1, attr);
        if (op === ACT_SET) out.push({ type: "set", attr, key });
        else out.push({ type: "set_masked", attr, key, mask: getSpans(body, next, attr)[0] });
        break;
      }
      case ACT_CHECK_PKT_LEN: {
        const gt = (body[2] << 8) | body[3];
        if (len < 4 || 4 + gt > len) throw new RangeError("bad check_pkt_len action");
        out.push({
          type: "check_pkt_len",
          size: (body[0] << 8) | body[1],
          gt: decodeActions(body.subarray(4, 4 + gt)),
          le: decodeActions(body.subarray(4 + gt)),
        });
        break;
      }
      case ACT_CLONE:
        out.push({ type: "clone", actions: decodeActions(body) });
        break;
      default: {
        const type = ODP_TEXT_ACTIONS[op - ACT_TEXT];
        if (op < ACT_TEXT || type === undefined) {
          throw new RangeError(`unknown action opcode ${op}`);
        }
        out.push({ type, text: new TextDecoder().decode(body) });
      }
    }
    o = p + len;
  }
  return out;
}
