/**
 * `actions:` text to datapath actions: the inverse of odp_action_format.ts
 * (OVS's odp_actions_from_string for the actions udpif produces). A set
 * whose fields are all given exactly becomes `set`, otherwise
 * `set_masked`, as OVS decides. sample and add_mpls keep their text.
 */
import { newKey } from "./key.ts";
import type { OdpAction, OdpSetAttr } from "./odp_action.ts";
import { parseOdpKeyAttr } from "./odp_key_parse.ts";
import { SET_ATTRS, setMaskIsExact } from "./set_attr.ts";
import { parseUserspace } from "./_userspace.ts";
import { parseCtAction } from "./_odp_ct.ts";
import { fieldsOf, OdpParseError, parseIntC, splitCall, splitTop } from "./_scan.ts";

/** OVS's MAX_ODP_NESTED: how deep actions may nest (clone, check_pkt_len). */
export const MAX_ODP_NESTED = 32;

export function parseOdpActions(
  text: string,
  portNames?: ReadonlyMap<string, number> | null,
): OdpAction[] {
  return parseList(text, portNames ?? null, 0);
}

/** The actions of a list whose enclosing actions nest `depth` deep. */
function parseList(
  text: string,
  portNames: ReadonlyMap<string, number> | null,
  depth: number,
): OdpAction[] {
  const out: OdpAction[] = [];
  const parts = splitTop(text.trim());
  if (parts.length === 1 && parts[0] === "drop") return out;
  for (const p of parts) out.push(parseOdpAction(p, portNames, depth + 1));
  return out;
}

function parseOdpAction(
  t: string,
  portNames: ReadonlyMap<string, number> | null,
  depth: number,
): OdpAction {
  if (depth >= MAX_ODP_NESTED) throw new OdpParseError(t, "actions nested too deeply");
  const port = parseIntC(t);
  if (port !== null) return { type: "output", port };
  if (t === "pop_vlan") return { type: "pop_vlan" };
  if (t === "ct") return parseCtAction("", t);
  if (t === "ct_clear") return { type: "ct_clear" };
  const named = portNames?.get(t);
  if (named !== undefined) return { type: "output", port: named };
  const c = splitCall(t);
  if (!c) throw new OdpParseError(t, "unknown action");
  const [name, body] = c;
  switch (name) {
    case "set": {
      const key = newKey(), mask = newKey();
      const attr = parseOdpKeyAttr(body, key, mask);
      if (!(SET_ATTRS as readonly string[]).includes(attr)) {
        throw new OdpParseError(body, "attribute cannot be set");
      }
      const a = attr as OdpSetAttr;
      const mb = new Uint8Array(mask.buffer);
      return setMaskIsExact(a, mb)
        ? { type: "set", attr: a, key }
        : { type: "set_masked", attr: a, key, mask };
    }
    case "push_vlan": {
      let tpid = 0x8100, tci = 0x1000;
      for (const [k, v] of fieldsOf(body)) {
        const n = parseIntC(v);
        if (n === null) throw new OdpParseError(`${k}=${v}`);
        if (k === "tpid" && n <= 0xffff) tpid = n;
        else if (k === "vid" && n <= 0xfff) tci = (tci & ~0xfff) | n;
        else if (k === "pcp" && n <= 7) tci = (tci & 0x1fff) | (n << 13);
        else if (k === "cfi" && n <= 1) tci = (tci & ~0x1000) | (n << 12);
        else throw new OdpParseError(`${k}=${v}`, "bad push_vlan() field");
      }
      return { type: "push_vlan", tpid, tci };
    }
    case "recirc": {
      const id = parseIntC(body);
      if (id === null) throw new OdpParseError(t);
      return { type: "recirc", id };
    }
    case "trunc": {
      const maxLen = parseIntC(body);
      if (maxLen === null) throw new OdpParseError(t);
      return { type: "trunc", maxLen };
    }
    case "hash": {
      const h = splitCall(body);
      const basis = h ? parseIntC(h[1]) : null;
      if (!h || basis === null || (h[0] !== "l4" && h[0] !== "sym_l4")) throw new OdpParseError(t);
      return { type: "hash", alg: h[0] === "l4" ? 0 : 1, basis };
    }
    case "userspace":
      return parseUserspace(body, t, portNames);
    case "check_pkt_len":
      return parseCheckPktLen(body, t, portNames, depth);
    case "ct":
      return parseCtAction(body, t);
    case "clone": {
      // OVS's parse_action_list: an empty list is an empty clone; `drop`
      // is no action (only a whole list may be written so).
      const parts = body.trim() === "" ? [] : splitTop(body.trim());
      return { type: "clone", actions: parts.map((p) => parseOdpAction(p, portNames, depth + 1)) };
    }
    case "sample":
    case "add_mpls":
      return { type: name, text: t };
    default:
      throw new OdpParseError(t, "unknown action");
  }
}

/** `size=N,gt(ACTIONS),le(ACTIONS)`. */
function parseCheckPktLen(
  body: string,
  t: string,
  portNames: ReadonlyMap<string, number> | null,
  depth: number,
): OdpAction {
  const [sizeText, gtText, leText, extra] = splitTop(body);
  const size = sizeText?.startsWith("size=") ? parseIntC(sizeText.slice(5)) : null;
  const gt = gtText ? splitCall(gtText) : null;
  const le = leText ? splitCall(leText) : null;
  if (size === null || size > 0xffff || !gt || gt[0] !== "gt" || !le || le[0] !== "le" || extra) {
    throw new OdpParseError(t, "bad check_pkt_len action");
  }
  return {
    type: "check_pkt_len",
    size,
    gt: gt[1].trim() === "" ? [] : parseList(gt[1], portNames, depth),
    le: le[1].trim() === "" ? [] : parseList(le[1], portNames, depth),
  };
}
