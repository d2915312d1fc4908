/**
 * The datapath's compact action encoding: an OdpAction list as words that
 * fit a flow table slot and that the PMD walks without allocating.
 *
 * Each action is a header word, `(type << 16) | words` (header included),
 * followed by its operands:
 *
 *     OUTPUT     port
 *     USERSPACE  pid, flags (1 = actions), userdata byte count, userdata bytes (LE-packed)
 *     PUSH_VLAN  tpid, tci
 *     POP_VLAN   -
 *     SET        attr, n, n x (key word index, value)
 *     SET_MASKED attr, n, n x (key word index, value, mask)
 *     RECIRC     id
 *     HASH       alg, basis
 *     TRUNC      max_len
 *     TEXT       kind, byte count, bytes      (ct/clone/sample: kept, not run)
 */
import { FLOW_WORDS } from "../flow/layout.ts";
import type { OdpAction, OdpSetAttr } from "../flow/odp_action.ts";

export const A_OUTPUT = 1;
export const A_USERSPACE = 2;
export const A_PUSH_VLAN = 3;
export const A_POP_VLAN = 4;
export const A_SET = 5;
export const A_SET_MASKED = 6;
export const A_RECIRC = 7;
export const A_HASH = 8;
export const A_TRUNC = 9;
export const A_TEXT = 10;

const SET_ATTRS: OdpSetAttr[] = [
  "skb_priority",
  "skb_mark",
  "eth",
  "mpls",
  "ipv4",
  "ipv6",
  "tcp",
  "udp",
  "sctp",
  "icmp",
  "icmpv6",
  "arp",
  "nd",
];
const TEXT_KINDS = ["ct", "clone", "sample"] as const;

export function setAttrCode(attr: OdpSetAttr): number {
  return SET_ATTRS.indexOf(attr);
}

export function setAttrName(code: number): OdpSetAttr {
  return SET_ATTRS[code];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function packBytes(out: Uint32Array, at: number, b: Uint8Array): number {
  const words = (b.length + 3) >> 2;
  for (let w = 0; w < words; w++) {
    let v = 0;
    for (let j = 0; j < 4 && w * 4 + j < b.length; j++) v |= b[w * 4 + j] << (8 * j);
    out[at + w] = v >>> 0;
  }
  return words;
}

export function unpackBytes(words: Uint32Array, at: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (words[at + (i >> 2)] >>> (8 * (i & 3))) & 0xff;
  return b;
}

/**
 * Encodes `actions` into `out` and returns the number of words used.
 * Throws a RangeError when they do not fit.
 */
const scratch = new Uint32Array(4 + 3 * FLOW_WORDS + 2048);

export function encodeActions(actions: readonly OdpAction[], out: Uint32Array): number {
  let n = 0;
  for (const a of actions) {
    let w = 1;
    let type: number;
    switch (a.type) {
      case "output":
        type = A_OUTPUT;
        scratch[w++] = a.port;
        break;
      case "userspace": {
        type = A_USERSPACE;
        const ud = a.userdata ?? new Uint8Array(0);
        scratch[w++] = a.pid;
        scratch[w++] = a.actions ? 1 : 0;
        scratch[w++] = ud.length;
        w += packBytes(scratch, w, ud);
        break;
      }
      case "push_vlan":
        type = A_PUSH_VLAN;
        scratch[w++] = a.tpid;
        scratch[w++] = a.tci;
        break;
      case "pop_vlan":
        type = A_POP_VLAN;
        break;
      case "set":
      case "set_masked": {
        type = a.type === "set" ? A_SET : A_SET_MASKED;
        scratch[w++] = setAttrCode(a.attr);
        const countAt = w++;
        let count = 0;
        for (let i = 0; i < FLOW_WORDS; i++) {
          const m = a.type === "set_masked" ? a.mask[i] : 0;
          if (a.key[i] === 0 && m === 0) continue;
          scratch[w++] = i;
          scratch[w++] = a.key[i];
          if (a.type === "set_masked") scratch[w++] = m;
          count++;
        }
        scratch[countAt] = count;
        break;
      }
      case "recirc":
        type = A_RECIRC;
        scratch[w++] = a.id;
        break;
      case "hash":
        type = A_HASH;
        scratch[w++] = a.alg;
        scratch[w++] = a.basis;
        break;
      case "trunc":
        type = A_TRUNC;
        scratch[w++] = a.maxLen;
        break;
      default: {
        type = A_TEXT;
        const b = enc.encode(a.text);
        scratch[w++] = TEXT_KINDS.indexOf(a.type);
        scratch[w++] = b.length;
        w += packBytes(scratch, w, b);
      }
    }
    scratch[0] = ((type << 16) | w) >>> 0;
    if (n + w > out.length) {
      throw new RangeError(`datapath actions need more than ${out.length} words`);
    }
    out.set(scratch.subarray(0, w), n);
    n += w;
  }
  return n;
}

/** Decodes `n` words of encoded actions (control plane; allocates). */
export function decodeActions(words: Uint32Array, n: number): OdpAction[] {
  const out: OdpAction[] = [];
  for (let p = 0; p < n;) {
    const type = words[p] >>> 16, len = words[p] & 0xffff;
    const o = p + 1;
    switch (type) {
      case A_OUTPUT:
        out.push({ type: "output", port: words[o] });
        break;
      case A_USERSPACE: {
        const a: OdpAction = { type: "userspace", pid: words[o] };
        if (words[o + 2] > 0) a.userdata = unpackBytes(words, o + 3, words[o + 2]);
        if (words[o + 1] & 1) a.actions = true;
        out.push(a);
        break;
      }
      case A_PUSH_VLAN:
        out.push({ type: "push_vlan", tpid: words[o], tci: words[o + 1] });
        break;
      case A_POP_VLAN:
        out.push({ type: "pop_vlan" });
        break;
      case A_SET:
      case A_SET_MASKED: {
        const key = new Uint32Array(FLOW_WORDS), mask = new Uint32Array(FLOW_WORDS);
        const step = type === A_SET ? 2 : 3;
        for (let j = 0, q = o + 2; j < words[o + 1]; j++, q += step) {
          key[words[q]] = words[q + 1];
          if (type === A_SET_MASKED) mask[words[q]] = words[q + 2];
        }
        const attr = setAttrName(words[o]);
        out.push(
          type === A_SET ? { type: "set", attr, key } : { type: "set_masked", attr, key, mask },
        );
        break;
      }
      case A_RECIRC:
        out.push({ type: "recirc", id: words[o] });
        break;
      case A_HASH:
        out.push({ type: "hash", alg: words[o], basis: words[o + 1] });
        break;
      case A_TRUNC:
        out.push({ type: "trunc", maxLen: words[o] });
        break;
      case A_TEXT:
        out.push({
          type: TEXT_KINDS[words[o]],
          text: dec.decode(unpackBytes(words, o + 2, words[o + 1])),
        });
        break;
      default:
        throw new RangeError(`bad encoded datapath action type ${type}`);
    }
    p += len;
  }
  return out;
}
