/**
 * The conntrack actions in ovs-ofctl syntax (lib/ofp-actions.c: parse_CT,
 * format_CT, check_CT, parse_NAT, str_to_nat_range, format_NAT,
 * parse_CT_CLEAR, ofpacts_verify_nested): `ct(commit,force,table=N,
 * zone=N|FIELD[a..b],nat(...),exec(...),alg=ftp|tftp)`, `ct_clear`, and
 * the rules on what may nest inside ct() and what needs it, with OVS's
 * error wording.
 */
import {
  CT_RECIRC_NONE,
  type CtAction,
  type FieldRange,
  type NatAction,
  NX_NAT_F_DST,
  NX_NAT_F_PERSISTENT,
  NX_NAT_F_PROTO_HASH,
  NX_NAT_F_PROTO_RANDOM,
  NX_NAT_F_SRC,
  type OfAction,
} from "./of_action.ts";
import { CS_INVALID, F, getUint } from "../flow/mod.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseKeyValues } from "./key_value.ts";
import {
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  fieldRequiresCt,
  IPPROTO_TCP,
  IPPROTO_UDP,
  mfByName,
  type MfField,
} from "./meta_flow.ts";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parseUint } from "./field_value.ts";

export const IPPORT_FTP = 21;
export const IPPORT_TFTP = 69;

type ParseList = (text: string) => OfAction[];
type SubfieldParser = (s: string) => FieldRange;

/** The field an action writes (set_field, load, move), if any. */
function writtenField(a: OfAction): MfField | undefined {
  if (a.type === "set_field") return mfByName(a.field);
  if (a.type === "load" || a.type === "move") return mfByName(a.dst.field);
  return undefined;
}

/**
 * ofpacts_verify_nested for an action outside ct(): nat and writes of
 * ct_mark/ct_label exist only inside one.
 */
export function verifyOutsideCt(a: OfAction): void {
  if (a.type === "nat") throw new OfctlError(`Cannot have NAT action outside of "ct" action`);
  const fl = writtenField(a);
  if (fl && fieldRequiresCt(fl)) throw new OfctlError("cannot set CT fields outside of ct action");
}

/** ofpacts_verify_nested for an action inside ct(exec(...)). */
function verifyInsideCt(a: OfAction): void {
  if (a.type === "nat") return;
  const fl = writtenField(a);
  if (!fl) throw new OfctlError(`ct action doesn't support nested action ${a.type}`);
  if (!fieldRequiresCt(fl)) {
    throw new OfctlError(`ct action doesn't support nested modification of ${fl.name}`);
  }
}

/** str_to_nat_range: `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 optionally bracketed. */
function parseNatRange(s: string, nat: NatAction): void {
  const bad = () => new OfctlError(`invalid nat range "${s}"`);
  let n = 0;
  const scanV4 = (): bigint | undefined => {
    const m = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/.exec(s.slice(n));
    const v = m ? parseIpv4(m[0]) : undefined;
    if (m && v !== undefined) n += m[0].length;
    return v;
  };
  const scanV6 = (): bigint | undefined => {
    const m = /^(?:\[([0-9a-fA-F:.]{1,46})\]|([0-9a-fA-F:.]{1,46}))/.exec(s.slice(n));
    const v = m ? parseIpv6(m[1] ?? m[2]) : undefined;
    if (m && v !== undefined) n += m[0].length;
    return v;
  };
  const scanPort = (): number | undefined => {
    const m = /^\d+/.exec(s.slice(n));
    if (!m || Number(m[0]) > 0xffff) return undefined;
    n += m[0].length;
    return Number(m[0]);
  };
  const v4 = scanV4();
  if (v4 !== undefined) {
    nat.af = 4;
    nat.addrMin = v4;
    if (s[n] === "-") {
      n++;
      const max = scanV4();
      if (max === undefined || max < v4) throw bad();
      nat.addrMax = max;
    }
  } else {
    const v6 = scanV6();
    if (v6 !== undefined) {
      nat.af = 6;
      nat.addrMin = v6;
      if (s[n] === "-") {
        n++;
        const max = scanV6();
        if (max === undefined || max < v6) throw bad();
        nat.addrMax = max;
      }
    }
  }
  if (nat.af && s[n] === ":") {
    n++;
    const min = scanPort();
    if (min === undefined) throw bad();
    nat.protoMin = min;
    if (s[n] === "-") {
      n++;
      const max = scanPort();
      if (max === undefined || max < min) throw bad();
      nat.protoMax = max;
    }
  }
  if (n !== s.length) {
    throw new OfctlError(`garbage (${s.slice(n)}) after nat range "${s}" (pos: ${n})`);
  }
}

/** parse_NAT: the argument of nat(...). */
export function parseNat(arg: string): NatAction {
  const nat: NatAction = {
    type: "nat",
    flags: 0,
    af: 0,
    addrMin: 0n,
    addrMax: 0n,
    protoMin: 0,
    protoMax: 0,
  };
  for (const { key, value } of parseKeyValues(arg)) {
    if (key === "src" || key === "dst") {
      nat.flags |= key === "src" ? NX_NAT_F_SRC : NX_NAT_F_DST;
      if (value !== "") parseNatRange(value, nat);
    } else if (key === "persistent") nat.flags |= NX_NAT_F_PERSISTENT;
    else if (key === "hash") nat.flags |= NX_NAT_F_PROTO_HASH;
    else if (key === "random") nat.flags |= NX_NAT_F_PROTO_RANDOM;
    else throw new OfctlError(`invalid key "${key}" in "nat" argument`);
  }
  const srcDst = nat.flags & (NX_NAT_F_SRC | NX_NAT_F_DST);
  if (srcDst === (NX_NAT_F_SRC | NX_NAT_F_DST)) {
    throw new OfctlError(`May only specify one of "src" or "dst".`);
  }
  if (!srcDst && nat.flags) throw new OfctlError(`Flags allowed only with "src" or "dst".`);
  if (!srcDst && nat.af) throw new OfctlError(`Range allowed only with "src" or "dst".`);
  if (nat.flags & NX_NAT_F_PROTO_HASH && nat.flags & NX_NAT_F_PROTO_RANDOM) {
    throw new OfctlError(`Both "hash" and "random" are not allowed.`);
  }
  return nat;
}

/** parse_CT: the argument of ct(...); `parseList` parses exec()'s actions. */
export function parseCt(arg: string, parseList: ParseList, subfield: SubfieldParser): CtAction {
  const ct: CtAction = {
    type: "ct",
    commit: false,
    force: false,
    table: CT_RECIRC_NONE,
    zone: 0,
    alg: 0,
    actions: [],
  };
  for (const { key, value } of parseKeyValues(arg)) {
    switch (key) {
      case "commit":
        ct.commit = true;
        break;
      case "force":
        ct.force = true;
        break;
      case "table": {
        const t = parseUint(value);
        if (t === undefined || t > 255n) throw new OfctlError(`unknown table ${value}`);
        if (t === BigInt(CT_RECIRC_NONE)) throw new OfctlError(`invalid table 0xff`);
        ct.table = Number(t);
        break;
      }
      case "zone": {
        const z = parseUint(value);
        if (z !== undefined && z <= 0xffffn) ct.zone = Number(z);
        else ct.zone = subfield(value);
        break;
      }
      case "alg":
        if (value === "ftp") ct.alg = IPPORT_FTP;
        else if (value === "tftp") ct.alg = IPPORT_TFTP;
        else throw new OfctlError(`invalid conntrack helper "${value}"`);
        break;
      case "nat":
        ct.actions.push(parseNat(value));
        break;
      case "exec":
        for (const a of parseList(value)) {
          verifyInsideCt(a);
          ct.actions.push(a);
        }
        break;
      default:
        throw new OfctlError(`invalid argument to "ct" action: \`${key}'`);
    }
  }
  if (ct.force && !ct.commit) throw new OfctlError(`"force" flag requires "commit" flag.`);
  return ct;
}

/**
 * What decode_NXAST_RAW_CT refuses, so a switch would refuse the rule:
 * a zone taken from anything but 16 bits, and nested actions other than
 * a bare nat without commit.
 */
export function checkCtDecodable(ct: CtAction): void {
  if (typeof ct.zone !== "number" && ct.zone.nBits !== 16) {
    throw new OfctlError(
      `zone n_bits ${ct.zone.nBits} not within valid range [16..16] (OFPBAC_BAD_SET_LEN)`,
    );
  }
  if (ct.commit) return;
  for (const a of ct.actions) {
    if (a.type !== "nat" || a.flags || a.af) {
      throw new OfctlError(
        "CT action requires commit flag if actions other than NAT without arguments are " +
          "specified (OFPBAC_BAD_ARGUMENT)",
      );
    }
  }
}

/**
 * check_CT and check_NAT against the rule's match: conntrack needs IP
 * (the NAT range's family), no commit of a packet matched invalid, and
 * each ALG its transport. `match` is the rule's match key.
 */
export function ctActionFits(a: CtAction | NatAction, match: Uint8Array): boolean {
  const dlType = getUint(match, F.dl_type.off, 2);
  return ctConsistent(a, dlType, match[F.nw_proto.off], match[F.ct_state.off]);
}

function ctConsistent(
  a: CtAction | NatAction,
  dlType: number,
  proto: number,
  ctState: number,
): boolean {
  const ip = dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6;
  if (a.type === "nat") {
    return ip && !(a.af === 4 && dlType !== ETH_TYPE_IP) &&
      !(a.af === 6 && dlType !== ETH_TYPE_IPV6);
  }
  if (!ip || (ctState & CS_INVALID && a.commit)) return false;
  if (a.alg === IPPORT_FTP && proto !== IPPROTO_TCP) return false;
  if (a.alg === IPPORT_TFTP && proto !== IPPROTO_UDP) return false;
  return a.actions.every((n) => n.type !== "nat" || ctConsistent(n, dlType, proto, ctState));
}

function formatNatAddr(af: 0 | 4 | 6, v: bigint, bracket: boolean): string {
  if (af === 4) return formatIpv4(v);
  return bracket ? `[${formatIpv6(v)}]` : formatIpv6(v);
}

/** format_NAT. */
export function formatNat(a: NatAction): string {
  if (!(a.flags & (NX_NAT_F_SRC | NX_NAT_F_DST))) return "nat";
  let s = `nat(${a.flags & NX_NAT_F_SRC ? "src" : "dst"}`;
  if (a.af) {
    const bracket = a.protoMin !== 0;
    s += `=${formatNatAddr(a.af, a.addrMin, bracket)}`;
    if (a.addrMax && a.addrMax !== a.addrMin) s += `-${formatNatAddr(a.af, a.addrMax, bracket)}`;
    if (a.protoMin) {
      s += `:${a.protoMin}`;
      if (a.protoMax && a.protoMax !== a.protoMin) s += `-${a.protoMax}`;
    }
    if (a.flags & NX_NAT_F_PERSISTENT) s += ",persistent";
    if (a.flags & NX_NAT_F_PROTO_HASH) s += ",hash";
    if (a.flags & NX_NAT_F_PROTO_RANDOM) s += ",random";
  }
  return s + ")";
}

/** format_CT; `formatList` prints exec()'s actions, `subfield` the zone field. */
export function formatCt(
  a: CtAction,
  formatList: (actions: readonly OfAction[]) => string,
  subfield: (r: FieldRange) => string,
): string {
  const parts: string[] = [];
  if (a.commit) parts.push("commit");
  if (a.force) parts.push("force");
  if (a.table !== CT_RECIRC_NONE) parts.push(`table=${a.table}`);
  if (typeof a.zone !== "number") parts.push(`zone=${subfield(a.zone)}`);
  else if (a.zone) parts.push(`zone=${a.zone}`);
  let rest = a.actions;
  if (rest.length && rest[0].type === "nat") {
    parts.push(formatNat(rest[0]));
    rest = rest.slice(1);
  }
  if (rest.length) parts.push(`exec(${formatList(rest)})`);
  if (a.alg === IPPORT_FTP) parts.push("alg=ftp");
  else if (a.alg === IPPORT_TFTP) parts.push("alg=tftp");
  else if (a.alg) parts.push(`alg=${a.alg}`);
  return `ct(${parts.join(",")})`;
}
