/**
 * Rule churn against the real daemon: seeded random OpenFlow adds,
 * modifies and deletes (strict and not), conntrack matches and actions
 * among them, interleaved with many flows of traffic, and the check revalidation exists for: once `revalidator/wait`
 * has run twice, every datapath flow's actions equal a fresh translation
 * of its key (`ofproto/trace` of the dumped key) and its mask covers every
 * bit that translation's megaflow un-wildcards.
 *
 * Why through the daemon and `ofproto/trace` rather than the xlate layer
 * in-process: the property is about the whole path (rule replicas in each
 * worker, reval_seq, MAC learning moves, the PMD's flow table), and the
 * trace is the switch's own fresh translation on the master tables.
 *
 * The key traced is the flow's full key as `dpctl/dump-flows -m` shows it
 * (the packet the flow was set up from, the ukey's key), not the masked
 * key: megaflows are not canonical (a classifier trie un-wildcards only
 * the prefix bits that rule out the point looked up), so another point of
 * the same megaflow may un-wildcard bits this one never needed. OVS's
 * revalidate_ukey compares exactly this: the fresh wildcards of the ukey's
 * key must have no bit the installed mask lacks.
 */
import { bytesOf, F, type FlowKey, newKey, parseOdpKey } from "../../src/flow/mod.ts";
import { type Match, parseKeyValues, parseMatchItem } from "../../src/ofproto/mod.ts";
import { appctl, AppctlError, Rng } from "./_daemon.ts";
import { CT_L3, CT_STATES, ctAction } from "./_churn_ct.ts";

/** A three-port dummy switch whose revalidators run often and whose flows expire soon. */
export const CHURN_DAEMON_ARGS = [
  "--port",
  "p3",
  "--datapath-type",
  "dummy",
  "--other-config",
  "max-revalidator=100",
  "--other-config",
  "max-idle=2000",
];

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

/** A datapath flow that a fresh translation disagrees with. */
export interface Violation {
  kind: "actions" | "mask-too-wide";
  flow: string;
  installed: string;
  expected: string;
}

/** A `dpctl/dump-flows -m` line: the flow (full key, with masks) and its actions. */
const FLOW_LINE =
  /^(?:ufid:([0-9a-f-]+),? )?(.*), packets:\d+, bytes:\d+, used:[^,]+, (?:dp:\w+, )?actions:(.*?)(?:, dp-extra-info:.*)?$/;

/**
 * Whether the flow with `ufid` is still installed with `actions`. The
 * check runs while the revalidators do (idle expiry, the flow limit): a
 * flow deleted or modified between the dump and its trace is no
 * violation (its recirculation ids, for one, may be freed and handed out
 * anew by then), and the next check sees what replaced it.
 */
async function stillInstalled(socket: string, ufid: string, actions: string): Promise<boolean> {
  try {
    const line = await appctl(socket, "dpctl/get-flow", [`ufid:${ufid}`]);
    return FLOW_LINE.exec(line.trim())?.[3] === actions;
  } catch (e) {
    if (e instanceof AppctlError) return false;
    throw e;
  }
}

/** Field names by byte offset, to name the bits a too-wide mask misses. */
const FIELD_AT: string[] = (() => {
  const names: string[] = [];
  for (const [name, span] of Object.entries(F)) {
    for (let i = 0; i < span.len; i++) names[span.off + i] ??= name;
  }
  return names;
})();

/** The mask of an `ofproto/trace` "Megaflow:" line (OpenFlow match syntax). */
export function megaflowMask(text: string): FlowKey {
  const m: Match = { key: newKey(), mask: newKey() };
  for (const { key, value } of parseKeyValues(text)) {
    // `eth` is packet_type=(0,0), which every datapath flow matches exactly.
    if (key === "eth") continue;
    // recirc_id is a datapath field with no OpenFlow match field; megaflows match it exactly.
    if (key === "recirc_id") {
      bytesOf(m.mask).fill(0xff, F.recirc_id.off, F.recirc_id.off + F.recirc_id.len);
      continue;
    }
    if (!parseMatchItem(m, key, value)) {
      throw new Error(`megaflow: unknown field ${key} in ${text}`);
    }
  }
  return m.mask;
}

/**
 * The trace's datapath actions as a flow would carry them: the trace runs
 * without side effects, so its controller actions say dont_send=1 where a
 * handler's or revalidator's translation says 0 (OVS's
 * xlate_controller_action sets it when neither side effects nor an xlate
 * cache are wanted).
 */
function comparableActions(actions: string): string {
  return actions.replaceAll(",dont_send=1,", ",dont_send=0,");
}

/**
 * Checks every `every`th datapath flow (all by default) against
 * `ofproto/trace` of its key; returns how many flows there were, how many
 * were checked, and what disagreed.
 */
export async function checkFlows(
  socket: string,
  every = 1,
): Promise<{ flows: number; checked: number; ctFlows: number; violations: Violation[] }> {
  const dump = await appctl(socket, "dpctl/dump-flows", ["-m", "--no-names"]);
  const violations: Violation[] = [];
  let flows = 0, checked = 0, ctFlows = 0;
  for (const line of dump.split("\n")) {
    const m = FLOW_LINE.exec(line);
    if (!m || flows++ % every !== 0) continue;
    checked++;
    const [, ufid, flow, installed] = m;
    if (/(^|,)ct(\(|,|$)|recirc_id\(0x/.test(installed + "," + flow)) ctFlows++;
    const key = newKey(), mask = newKey();
    parseOdpKey(flow, key, mask);
    // `-m` shows the key the flow was set up from (a ukey's key), masks
    // aside: that key is what revalidation translates.
    const trace = await appctl(socket, "ofproto/trace", [flow.replace(/\/[^,)]+/g, "")]);
    const expected = /^Datapath actions: (.*)$/m.exec(trace)?.[1];
    const megaflow = /^Megaflow: (.*)$/m.exec(trace)?.[1];
    if (expected === undefined || megaflow === undefined) {
      throw new Error(`ofproto/trace ${flow}: no datapath actions or megaflow in\n${trace}`);
    }
    const wrongActions = comparableActions(expected) !== installed;
    const wanted = bytesOf(megaflowMask(megaflow)), have = bytesOf(mask);
    const missing = new Set<string>();
    for (let i = 0; i < wanted.length; i++) {
      if (wanted[i] & ~have[i]) missing.add(FIELD_AT[i] ?? `byte ${i}`);
    }
    if (!wrongActions && !missing.size) continue;
    if (!await stillInstalled(socket, ufid, installed)) continue;
    if (wrongActions) violations.push({ kind: "actions", flow, installed, expected });
    if (missing.size) {
      violations.push({
        kind: "mask-too-wide",
        flow,
        installed: `mask lacks ${[...missing].join(", ")}`,
        expected: megaflow,
      });
    }
  }
  return { flows, checked, ctFlows, violations };
}

/** How many pairs of revalidations `settle` allows for the MAC table to come to rest. */
const SETTLE_ROUNDS = 20;

/**
 * `revalidator/wait` twice, again while the MAC table keeps changing. A
 * revalidator pushing a flow's last stats relearns its source MAC (the
 * xlate cache's NORMAL entry, as OVS's xlate_push_stats does), which may
 * move a MAC another flow's packets had moved, and so asks for one more
 * revalidation (rev_mac_learning); once traffic stops, every flow's stats
 * are pushed within a dump, so the table comes to rest.
 */
export async function settle(socket: string): Promise<void> {
  const moves = () => appctl(socket, "coverage/read-counter", ["rev_mac_learning"]);
  let before = await moves();
  for (let i = 0; i < SETTLE_ROUNDS; i++) {
    await appctl(socket, "revalidator/wait");
    await appctl(socket, "revalidator/wait");
    const after = await moves();
    if (after === before) return;
    before = after;
  }
  throw new Error(`the MAC table was still changing after ${SETTLE_ROUNDS} pairs of revalidations`);
}

export interface ChurnOptions {
  seed: number;
  rounds: number;
  /** Rule changes per round (1..opsPerRound). */
  opsPerRound: number;
  packetsPerRound: number;
  /** Check after every `checkEvery` rounds (and after the last). */
  checkEvery: number;
}

export interface ChurnResult {
  rounds: number;
  checks: number;
  flowsChecked: number;
  /** Flows checked whose actions run conntrack or that are recirculated. */
  ctFlowsChecked: number;
  ops: number;
  /** Rule changes the daemon refused (generator combinations OVS would refuse too). */
  refused: string[];
  packets: number;
  /** The first check's violations, with the round they were found in. */
  violations: Violation[];
  failedRound: number;
}

/** Runs the churn against the daemon at `socket`; stops at the first check that finds violations. */
export async function churn(
  socket: string,
  opts: ChurnOptions,
  progress?: (round: number, flows: number) => void,
): Promise<ChurnResult> {
  const r = new Rng(opts.seed);
  const rules = new RuleGen(r);
  const res: ChurnResult = {
    rounds: 0,
    checks: 0,
    flowsChecked: 0,
    ctFlowsChecked: 0,
    ops: 0,
    refused: [],
    packets: 0,
    violations: [],
    failedRound: -1,
  };
  for (let round = 1; round <= opts.rounds; round++) {
    for (let n = 1 + r.int(opts.opsPerRound); n > 0; n--) {
      const op = rules.next();
      res.ops++;
      try {
        await appctl(socket, op.method, op.params);
      } catch (e) {
        if (!(e instanceof AppctlError)) throw e;
        res.refused.push(e.message);
      }
    }
    const byPort = new Map<string, string[]>();
    for (let i = 0; i < opts.packetsPerRound; i++) {
      const p = randomPacket(r);
      byPort.set(p.port, [...(byPort.get(p.port) ?? []), p.spec]);
    }
    for (const [port, specs] of byPort) {
      await appctl(socket, "netdev-dummy/receive", [port, ...specs]);
      res.packets += specs.length;
    }
    res.rounds = round;
    if (round % opts.checkEvery !== 0 && round !== opts.rounds) continue;
    await settle(socket);
    const { flows, ctFlows, violations } = await checkFlows(socket);
    res.checks++;
    res.flowsChecked += flows;
    res.ctFlowsChecked += ctFlows;
    progress?.(round, flows);
    if (violations.length) {
      res.violations = violations;
      res.failedRound = round;
      break;
    }
  }
  return res;
}

/** The violations as lines a person can act on, with the seed to replay them. */
export function formatViolations(seed: number, res: ChurnResult): string {
  return [
    `churn seed ${seed}: ${res.violations.length} violation(s) at round ${res.failedRound}`,
    ...res.violations.map((v) =>
      `  ${v.kind}: ${v.flow}\n    installed: ${v.installed}\n    fresh:     ${v.expected}`
    ),
  ].join("\n");
}
