/**
 * OfAction lists printed as `ovs-ofctl dump-flows` prints them after the
 * actions have made the round trip through the switch in a given OpenFlow
 * version: OpenFlow 1.0 shows OF1.0 actions (mod_*, strip_vlan) and NXM
 * loads, OpenFlow 1.3 shows set_field and pop_vlan.
 */
import { type FieldRange, type OfAction, OFPP_MAX } from "./of_action.ts";
import { mfByName, type MfField } from "./meta_flow.ts";
import { formatFieldValue, formatIpv4, formatMac, formatPort } from "./field_value.ts";

/** OpenFlow wire versions as ovs-ofctl's `-O` selects them. */
export const OFP10_VERSION = 0x01;
export const OFP13_VERSION = 0x04;

const altHex = (v: bigint): string => (v ? `0x${v.toString(16)}` : "0");

export function formatSubfield(r: FieldRange): string {
  const fl = mfByName(r.field);
  const name = fl ? fl.nxm : r.field;
  if (fl && r.ofs === 0 && r.nBits === fl.nBits) return `${name}[]`;
  if (r.nBits === 1) return `${name}[${r.ofs}]`;
  return `${name}[${r.ofs}..${r.ofs + r.nBits - 1}]`;
}

/** set_field as NXAST_REG_LOAD segments: contiguous mask runs, 64 bits at most. */
function loadSegments(fl: MfField, value: bigint, mask: bigint): string {
  const out: string[] = [];
  let bit = 0;
  while (bit < fl.nBits) {
    while (bit < fl.nBits && !((mask >> BigInt(bit)) & 1n)) bit++;
    if (bit >= fl.nBits) break;
    const start = bit;
    while (bit < fl.nBits && bit - start < 64 && (mask >> BigInt(bit)) & 1n) bit++;
    const n = bit - start;
    const v = (value >> BigInt(start)) & ((1n << BigInt(n)) - 1n);
    out.push(`load:${altHex(v)}->${formatSubfield({ field: fl.name, ofs: start, nBits: n })}`);
  }
  return out.join(",");
}

/** OF1.0 action spelling of a full-width set_field, when one exists. */
function of10Equivalent(fl: MfField, v: bigint): string | undefined {
  switch (fl.name) {
    case "eth_src":
      return `mod_dl_src:${formatMac(v)}`;
    case "eth_dst":
      return `mod_dl_dst:${formatMac(v)}`;
    case "ip_src":
      return `mod_nw_src:${formatIpv4(v)}`;
    case "ip_dst":
      return `mod_nw_dst:${formatIpv4(v)}`;
    case "ip_dscp":
      return `mod_nw_tos:${v << 2n}`;
    case "nw_tos":
      return `mod_nw_tos:${v}`;
    case "tcp_src":
    case "udp_src":
      return `mod_tp_src:${v}`;
    case "tcp_dst":
    case "udp_dst":
      return `mod_tp_dst:${v}`;
    case "vlan_vid":
      return v & 0x1000n ? `mod_vlan_vid:${v & 0xfffn}` : undefined;
    case "dl_vlan":
      return `mod_vlan_vid:${v}`;
    case "vlan_pcp":
    case "dl_vlan_pcp":
      return `mod_vlan_pcp:${v}`;
  }
  return undefined;
}

/** The OF1.3 set_field that an OF1.0 mod_* action becomes. */
function modAsSetField(a: OfAction & { type: "mod" }): string {
  switch (a.name) {
    case "mod_dl_src":
      return `set_field:${formatMac(a.value)}->eth_src`;
    case "mod_dl_dst":
      return `set_field:${formatMac(a.value)}->eth_dst`;
    case "mod_nw_src":
      return `set_field:${formatIpv4(a.value)}->ip_src`;
    case "mod_nw_dst":
      return `set_field:${formatIpv4(a.value)}->ip_dst`;
    case "mod_nw_tos":
      return `set_field:${a.value >> 2n}->ip_dscp`;
    case "mod_vlan_vid":
      return `set_field:${a.value | 0x1000n}->vlan_vid`;
    case "mod_vlan_pcp":
      return `set_field:${a.value}->vlan_pcp`;
    case "mod_nw_ttl":
      return `mod_nw_ttl:${a.value}`;
    default:
      return `set_field:${a.value}->${a.field}`;
  }
}

function formatMod(a: OfAction & { type: "mod" }): string {
  // OpenFlow 1.0 has no TTL or ECN action: they travel as NXM loads.
  if (a.name === "mod_nw_ttl") return `load:${altHex(a.value)}->NXM_NX_IP_TTL[]`;
  if (a.name === "mod_nw_ecn") return `load:${altHex(a.value)}->NXM_NX_IP_ECN[]`;
  if (a.name === "mod_dl_src" || a.name === "mod_dl_dst") return `${a.name}:${formatMac(a.value)}`;
  if (a.name === "mod_nw_src" || a.name === "mod_nw_dst") {
    return `${a.name}:${formatIpv4(a.value)}`;
  }
  return `${a.name}:${a.value}`;
}

function formatController(a: OfAction & { type: "controller" }): string {
  if (!a.reason && !a.id) return `CONTROLLER:${a.maxLen}`;
  const parts: string[] = [];
  if (a.reason) parts.push(`reason=${a.reason}`);
  if (a.maxLen !== 65535) parts.push(`max_len=${a.maxLen}`);
  if (a.id) parts.push(`id=${a.id}`);
  return `controller(${parts.join(",")})`;
}

function formatOne(a: OfAction, version: number, names?: ReadonlyMap<number, string>): string {
  const of10 = version === OFP10_VERSION;
  switch (a.type) {
    case "output":
      return a.port < OFPP_MAX ? `output:${formatPort(a.port, names)}` : formatPort(a.port);
    case "controller":
      return formatController(a);
    case "enqueue":
      return of10
        ? `enqueue:${formatPort(a.port, names)}:${a.queue}`
        : `set_queue:${a.queue},output:${formatPort(a.port, names)},pop_queue`;
    case "mod":
      return of10 ? formatMod(a) : modAsSetField(a);
    case "strip_vlan":
    case "pop_vlan":
      return of10 ? "strip_vlan" : "pop_vlan";
    case "push_vlan":
      return `push_vlan:0x${a.ethertype.toString(16)}`;
    case "set_field": {
      const fl = mfByName(a.field)!;
      const full = (1n << BigInt(fl.nBits)) - 1n;
      const mask = a.mask ?? full;
      if (mask !== full) return loadSegments(fl, a.value, mask);
      if (of10) return of10Equivalent(fl, a.value) ?? loadSegments(fl, a.value, full);
      return `set_field:${formatFieldValue(fl, a.value)}->${fl.name}`;
    }
    case "load":
      return `load:${altHex(a.value)}->${formatSubfield(a.dst)}`;
    case "move":
      return `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`;
    case "dec_ttl":
      return "dec_ttl";
    case "resubmit": {
      const port = a.port === undefined ? "" : formatPort(a.port, names);
      if (a.port !== undefined && a.table === undefined) return `resubmit:${port}`;
      return `resubmit(${port},${a.table ?? ""})`;
    }
    case "goto_table":
      return of10 ? `resubmit(,${a.table})` : `goto_table:${a.table}`;
    case "write_metadata":
      return `write_metadata:${altHex(a.value)}` +
        (a.mask === (1n << 64n) - 1n ? "" : `/${altHex(a.mask)}`);
    case "note":
      return `note:${[...a.bytes].map((b) => b.toString(16).padStart(2, "0")).join(".")}`;
  }
}

/** The text after `actions=`: `drop` for an empty list; `names` as with --names. */
export function formatActions(
  actions: readonly OfAction[],
  version = OFP10_VERSION,
  names?: ReadonlyMap<number, string>,
): string {
  if (actions.length === 0) return "drop";
  return actions.map((a) => formatOne(a, version, names)).join(",");
}
