/**
 * The churn's generators: seeded random OpenFlow rule changes (adds,
 * modifies and deletes, strict and not, over three tables, with conntrack
 * from _churn_ct.ts among them) and packets of many flows for
 * `netdev-dummy/receive`.
 */
import type { Rng } from "./_daemon.ts";
import { CT_L3, CT_STATES, ctAction } from "./_churn_ct.ts";

const PORTS = ["p1", "p2", "p3"];
const MACS = ["50:54:00:00:00:01", "50:54:00:00:00:02", "50:54:00:00:00:03", "50:54:00:00:01:04"];
const IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.1.0.1", "10.1.0.2", "11.0.0.1"];
const IP_MATCHES = ["10.0.0.1", "10.0.0.2", "10.0.0.0/24", "10.0.0.0/8", "10.1.0.0/16", "11.0.0.1"];
const L4_PORTS = [80, 81, 443, 1000, 1001];
const L4_MATCHES = ["80", "443", "1000", "0x50/0xfff0", "0x3e8/0xfffe", "0x1bb/0xff00"];
const VIDS = [10, 20];
const N_TABLES = 3;

type L3 = "any" | "ip" | "tcp" | "udp" | "icmp" | "arp" | "ipv6" | "tcp6";

/** One OpenFlow change: the unixctl method and its parameters. */
export interface RuleOp {
  method: string;
  params: string[];
}

/** A rule's identity for strict mods and deletes: table, priority and match. */
interface RuleId {
  table: number;
  priority: number;
  match: string;
}

/** Generates rule changes; remembers the rules it added so strict ops can name them. */
export class RuleGen {
  readonly #r: Rng;
  readonly #added: RuleId[] = [];

  constructor(r: Rng) {
    this.#r = r;
  }

  /** The next change: an add, a modify or a delete; only deletes with `shrink` (a soak keeping its table size). */
  next(shrink = false): RuleOp {
    const r = this.#r;
    const roll = shrink ? 7 + r.int(3) : r.int(10);
    const known = this.#added.length > 0 ? r.pick(this.#added) : undefined;
    if ((roll < 5 || !known) && !shrink) {
      const id = this.#id();
      const [acts, of13] = this.#actions(id);
      this.#added.push(id);
      if (this.#added.length > 64) this.#added.splice(r.int(64), 1);
      return ofctl("ofctl/add-flow", of13, [text(id, true), `actions=${acts}`]);
    }
    if (roll < 7) {
      const strict = roll === 6 && known !== undefined;
      const id = strict && known ? known : { ...this.#id(), priority: -1 };
      const [acts, of13] = this.#actions(id);
      const flow = [text(id, strict), `actions=${acts}`];
      return ofctl("ofctl/mod-flows", of13, strict ? ["--strict", ...flow] : flow);
    }
    const strict = roll === 9 && known !== undefined;
    const id = strict && known ? known : { ...this.#id(), priority: -1 };
    return ofctl(
      "ofctl/del-flows",
      false,
      strict ? ["--strict", text(id, true)] : [text(id, false)],
    );
  }

  #id(): RuleId {
    const r = this.#r;
    const l3 = r.pick<L3>([
      "any",
      "any",
      "ip",
      "ip",
      "tcp",
      "tcp",
      "udp",
      "icmp",
      "arp",
      "ipv6",
      "tcp6",
    ]);
    const m: string[] = l3 === "any" ? [] : [l3];
    if (r.chance(0.3)) m.push(`in_port=${1 + r.int(3)}`);
    if (r.chance(0.2)) m.push(`dl_src=${r.pick(MACS)}${r.chance(0.5) ? "/ff:ff:ff:ff:ff:00" : ""}`);
    if (r.chance(0.2)) m.push(`dl_dst=${r.pick(MACS)}`);
    if (r.chance(0.15)) {
      m.push(r.chance(0.3) ? "vlan_tci=0x0000/0x1fff" : `dl_vlan=${r.pick(VIDS)}`);
    }
    if (l3 === "ip" || l3 === "tcp" || l3 === "udp" || l3 === "icmp") {
      if (r.chance(0.35)) m.push(`nw_src=${r.pick(IP_MATCHES)}`);
      if (r.chance(0.35)) m.push(`nw_dst=${r.pick(IP_MATCHES)}`);
      if (l3 === "ip" && r.chance(0.2)) m.push(`nw_proto=${r.pick([1, 6, 17])}`);
    }
    if (l3 === "tcp" || l3 === "udp" || l3 === "tcp6") {
      if (r.chance(0.3)) m.push(`tp_src=${r.pick(L4_MATCHES)}`);
      if (r.chance(0.4)) m.push(`tp_dst=${r.pick(L4_MATCHES)}`);
    }
    if (l3 === "arp" && r.chance(0.3)) m.push(`arp_tpa=${r.pick(IP_MATCHES)}`);
    if (CT_L3.includes(l3) && r.chance(0.3)) m.push(`ct_state=${r.pick(CT_STATES)}`);
    if (CT_L3.includes(l3) && r.chance(0.1)) m.push(r.pick(["ct_mark=0x1", "ct_zone=5"]));
    if (l3 === "ipv6" && r.chance(0.3)) m.push(`ipv6_src=${r.pick(["2001::1", "2001::/64"])}`);
    return { table: r.int(N_TABLES), priority: r.int(40), match: m.join(",") };
  }

  /** A valid action list for a rule matching `id` (prerequisites met), and whether it needs OpenFlow 1.3. */
  #actions(id: RuleId): [string, boolean] {
    const r = this.#r;
    if (r.chance(0.1)) return ["drop", false];
    const l3 = id.match.split(",")[0];
    const ip = ["ip", "tcp", "udp", "icmp"].includes(l3);
    const l4 = ["tcp", "udp"].includes(l3);
    const acts: string[] = [];
    let of13 = false;
    if (CT_L3.includes(l3) && r.chance(0.4)) acts.push(ctAction(r, id.table, N_TABLES));
    for (let n = 1 + r.int(3); n > 0; n--) {
      const kind = r.int(12);
      if (kind < 3) acts.push(`output:${1 + r.int(3)}`);
      else if (kind === 3) acts.push("NORMAL");
      else if (kind === 4) acts.push(r.pick(["IN_PORT", "FLOOD", "LOCAL"]));
      else if (kind === 5) acts.push(`mod_dl_${r.pick(["src", "dst"])}:${r.pick(MACS)}`);
      else if (kind === 6 && ip) {
        acts.push(r.pick([
          `mod_nw_src:${r.pick(IPS)}`,
          `mod_nw_dst:${r.pick(IPS)}`,
          "mod_nw_tos:8",
          "dec_ttl",
        ]));
      } else if (kind === 7 && l4) {
        acts.push(`mod_tp_${r.pick(["src", "dst"])}:${r.pick(L4_PORTS)}`);
      } else if (kind === 8) {
        if (r.chance(0.5)) {
          acts.push("push_vlan:0x8100", `set_field:${4096 + r.pick(VIDS)}->vlan_vid`);
          of13 = true;
        } else acts.push(r.pick(["strip_vlan", `mod_vlan_vid:${r.pick(VIDS)}`]));
      } else if (kind === 9 && id.table < N_TABLES - 1) {
        acts.push(`resubmit(,${id.table + 1 + r.int(N_TABLES - 1 - id.table)})`);
      } else if (kind === 10 && r.chance(0.6)) acts.push("controller");
      else if (kind === 11 && CT_L3.includes(l3)) acts.push(ctAction(r, id.table, N_TABLES));
      else acts.push(`output:${1 + r.int(3)}`);
    }
    return [acts.join(","), of13];
  }
}

function text(id: RuleId, withPriority: boolean): string {
  const parts = [`table=${id.table}`];
  if (withPriority && id.priority >= 0) parts.push(`priority=${id.priority}`);
  if (id.match) parts.push(id.match);
  return parts.join(",");
}

function ofctl(method: string, of13: boolean, args: string[]): RuleOp {
  const [first, ...rest] = args;
  const flow = first === "--strict" ? ["--strict", rest.join(",")] : [args.join(",")];
  return { method, params: [...(of13 ? ["--ofp-version=4"] : []), "br0", ...flow] };
}

/** One packet for `netdev-dummy/receive`: its port and its datapath flow text. */
export interface Packet {
  port: string;
  spec: string;
}

/** A packet of one of many flows: IPv4 TCP/UDP/ICMP, ARP or IPv6, sometimes VLAN-tagged. */
export function randomPacket(r: Rng): Packet {
  const src = r.pick(MACS), dst = r.chance(0.1) ? "ff:ff:ff:ff:ff:ff" : r.pick(MACS);
  let l3: string;
  const kind = r.int(10);
  const ip = (proto: number) =>
    `eth_type(0x0800),ipv4(src=${r.pick(IPS)},dst=${
      r.pick(IPS)
    },proto=${proto},tos=0,ttl=64,frag=no)`;
  if (kind < 4) l3 = `${ip(6)},tcp(src=${r.pick(L4_PORTS)},dst=${r.pick(L4_PORTS)})`;
  else if (kind < 6) l3 = `${ip(17)},udp(src=${r.pick(L4_PORTS)},dst=${r.pick(L4_PORTS)})`;
  else if (kind < 7) l3 = `${ip(1)},icmp(type=8,code=0)`;
  else if (kind < 8) {
    l3 = `eth_type(0x0806),arp(sip=${r.pick(IPS)},tip=${r.pick(IPS)},op=1,sha=${src},` +
      `tha=00:00:00:00:00:00)`;
  } else {
    l3 = `eth_type(0x86dd),ipv6(src=2001::${1 + r.int(3)},dst=2001::${1 + r.int(3)},label=0,` +
      `proto=6,tclass=0,hlimit=64,frag=no),tcp(src=${r.pick(L4_PORTS)},dst=${r.pick(L4_PORTS)})`;
  }
  if (r.chance(0.2)) l3 = `eth_type(0x8100),vlan(vid=${r.pick(VIDS)},pcp=0),encap(${l3})`;
  const port = r.pick(PORTS);
  return { port, spec: `in_port(${PORTS.indexOf(port) + 1}),eth(src=${src},dst=${dst}),${l3}` };
}
