/**
 * userspace(...) actions and OVS's 48-byte user_action_cookie, whose
 * slow_path and controller forms print decoded and everything else as
 * userdata hex. The cookie is a native (little-endian) C struct:
 * type u16 @0, ofp_in_port u32 @4, ofproto uuid @8, then the union @24.
 */
import type { OdpAction } from "./odp_action.ts";
import { OdpParseError, parseIntC, splitCall, splitTop } from "./_scan.ts";

type Userspace = Extract<OdpAction, { type: "userspace" }>;

export const COOKIE_LEN = 48;
export const COOKIE_SFLOW = 1;
export const COOKIE_SLOW_PATH = 2;
export const COOKIE_FLOW_SAMPLE = 3;
export const COOKIE_IPFIX = 4;
export const COOKIE_CONTROLLER = 5;

/** Slow-path reasons (enum slow_path_reason), in bit order. */
export const SLOW_PATH_REASONS = ["cfm", "bfd", "lacp", "stp", "lldp", "action", "match"] as const;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function portName(p: number, names: ReadonlyMap<number, string> | null): string {
  return names?.get(p) ?? String(p);
}

export function formatUserspace(a: Userspace, names: ReadonlyMap<number, string> | null): string {
  let s = `userspace(pid=${a.pid >>> 0}`;
  const u = a.userdata;
  if (u) {
    let decoded = false;
    if (u.length === COOKIE_LEN) {
      const v = dv(u);
      const type = v.getUint16(0, true);
      decoded = true;
      if (type === COOKIE_SFLOW) {
        const tci = v.getUint16(24, false);
        s += `,sFlow(vid=${tci & 0xfff},pcp=${tci >>> 13},output=${v.getUint32(28, true)})`;
      } else if (type === COOKIE_SLOW_PATH) {
        const reason = v.getUint32(28, true);
        const names: string[] = [];
        let bad = 0;
        for (let bit = 0; bit < 32; bit++) {
          if (!(reason & (1 << bit))) continue;
          if (bit < SLOW_PATH_REASONS.length) names.push(SLOW_PATH_REASONS[bit]);
          else bad |= 1 << bit;
        }
        if (bad) names.push("0x" + (bad >>> 0).toString(16));
        s += `,slow_path(${reason === 0 ? "0" : names.join(",")})`;
      } else if (type === COOKIE_FLOW_SAMPLE) {
        const dir = v.getUint32(44, true);
        s += `,flow_sample(probability=${v.getUint16(24, true)}` +
          `,collector_set_id=${v.getUint32(28, true)},obs_domain_id=${v.getUint32(32, true)}` +
          `,obs_point_id=${v.getUint32(36, true)},output_port=${
            portName(v.getUint32(40, true), names)
          }` +
          (dir === 1 ? ",ingress" : dir === 2 ? ",egress" : "") + ")";
      } else if (type === COOKIE_IPFIX) {
        s += `,ipfix(output_port=${portName(v.getUint32(24, true), names)})`;
      } else if (type === COOKIE_CONTROLLER) {
        const cookie = v.getBigUint64(32, false);
        s += `,controller(reason=${v.getUint16(26, true)},dont_send=${v.getUint8(24) ? 1 : 0}` +
          `,continuation=${v.getUint8(25) ? 1 : 0},recirc_id=${v.getUint32(28, true)}` +
          `,rule_cookie=${cookie === 0n ? "0" : "0x" + cookie.toString(16)}` +
          `,controller_id=${v.getUint16(40, true)},max_len=${v.getUint16(42, true)})`;
      } else {
        decoded = false;
      }
    }
    if (!decoded) {
      s += ",userdata(" + Array.from(u, (x) => x.toString(16).padStart(2, "0")).join("") + ")";
    }
  }
  if (a.actions) s += ",actions";
  return s + ")";
}

function newCookie(type: number): [Uint8Array, DataView] {
  const u = new Uint8Array(COOKIE_LEN);
  const v = dv(u);
  v.setUint16(0, type, true);
  // ofp_in_port OFPP_NONE, as OVS's parser fills it.
  v.setUint32(4, 0xffff, true);
  return [u, v];
}

/** `k=v,...` with exactly the given numeric fields, in order. */
function numFields(arg: string, text: string, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const parts = splitTop(arg);
  if (parts.length !== names.length) throw new OdpParseError(text, "bad userspace() argument");
  parts.forEach((f, i) => {
    const n = f.startsWith(names[i] + "=") ? parseIntC(f.slice(names[i].length + 1)) : null;
    if (n === null) throw new OdpParseError(f, "bad userspace() argument");
    out[names[i]] = n;
  });
  return out;
}

function portArg(
  s: string,
  prefix: string,
  text: string,
  names: ReadonlyMap<string, number> | null,
): number {
  if (!s.startsWith(prefix)) throw new OdpParseError(text, "bad userspace() argument");
  const v = s.slice(prefix.length);
  const n = parseIntC(v) ?? names?.get(v) ?? null;
  if (n === null) throw new OdpParseError(v, "unknown port");
  return n;
}

/** Parses the body of `userspace(...)`. */
export function parseUserspace(
  body: string,
  text: string,
  names: ReadonlyMap<string, number> | null = null,
): Userspace {
  const parts = splitTop(body);
  const pid = parts[0]?.startsWith("pid=") ? parseIntC(parts[0].slice(4)) : null;
  if (pid === null) throw new OdpParseError(text);
  const a: Userspace = { type: "userspace", pid };
  for (const p of parts.slice(1)) {
    if (p === "actions") {
      a.actions = true;
      continue;
    }
    const c = splitCall(p);
    if (!c) throw new OdpParseError(p, "bad userspace() argument");
    const [name, arg] = c;
    if (name === "userdata") {
      if (!/^([0-9a-fA-F]{2})*$/.test(arg)) throw new OdpParseError(p);
      a.userdata = new Uint8Array(arg.length / 2);
      for (let i = 0; i < a.userdata.length; i++) {
        a.userdata[i] = parseInt(arg.slice(2 * i, 2 * i + 2), 16);
      }
    } else if (name === "slow_path") {
      const [u, v] = newCookie(COOKIE_SLOW_PATH);
      let reason = 0;
      if (arg !== "0" && arg !== "") {
        for (const r of arg.split(",")) {
          const bit = SLOW_PATH_REASONS.indexOf(r as typeof SLOW_PATH_REASONS[number]);
          if (bit < 0) throw new OdpParseError(r, "unknown slow_path reason");
          reason |= 1 << bit;
        }
      }
      v.setUint32(28, reason, true);
      a.userdata = u;
    } else if (name === "sFlow") {
      const [u, v] = newCookie(COOKIE_SFLOW);
      const f = numFields(arg, p, ["vid", "pcp", "output"]);
      v.setUint16(24, (f.vid & 0xfff) | ((f.pcp & 7) << 13), false);
      v.setUint32(28, f.output, true);
      a.userdata = u;
    } else if (name === "ipfix") {
      const [u, v] = newCookie(COOKIE_IPFIX);
      v.setUint32(24, portArg(arg, "output_port=", p, names), true);
      a.userdata = u;
    } else if (name === "flow_sample") {
      const [u, v] = newCookie(COOKIE_FLOW_SAMPLE);
      const parts = splitTop(arg);
      const dir = parts.at(-1) === "ingress" ? 1 : parts.at(-1) === "egress" ? 2 : 0;
      if (dir) parts.pop();
      const port = parts.pop() ?? "";
      const f = numFields(parts.join(","), p, [
        "probability",
        "collector_set_id",
        "obs_domain_id",
        "obs_point_id",
      ]);
      v.setUint16(24, f.probability, true);
      v.setUint32(28, f.collector_set_id, true);
      v.setUint32(32, f.obs_domain_id, true);
      v.setUint32(36, f.obs_point_id, true);
      v.setUint32(40, portArg(port, "output_port=", p, names), true);
      v.setUint32(44, dir, true);
      a.userdata = u;
    } else if (name === "controller") {
      const [u, v] = newCookie(COOKIE_CONTROLLER);
      for (const f of splitTop(arg)) {
        const [k, x] = f.split("=");
        if (k === "rule_cookie") {
          if (!/^(0|0x[0-9a-fA-F]{1,16})$/.test(x)) throw new OdpParseError(f);
          v.setBigUint64(32, BigInt(x), false);
          continue;
        }
        const n = parseIntC(x ?? "");
        if (n === null) throw new OdpParseError(f);
        if (k === "reason") v.setUint16(26, n, true);
        else if (k === "dont_send") v.setUint8(24, n ? 1 : 0);
        else if (k === "continuation") v.setUint8(25, n ? 1 : 0);
        else if (k === "recirc_id") v.setUint32(28, n, true);
        else if (k === "controller_id") v.setUint16(40, n, true);
        else if (k === "max_len") v.setUint16(42, n, true);
        else throw new OdpParseError(f, "unknown controller() field");
      }
      a.userdata = u;
    } else {
      throw new OdpParseError(p, "bad userspace() argument");
    }
  }
  return a;
}
