/**
 * Replays an oracle fixture (fixtures/xlate/*.txt) through translation the
 * way OVS's datapath and udpif treat it, so that tests can compare the
 * resulting megaflows with the ones OVS installed: a packet that matches
 * an installed megaflow is a datapath hit; any other packet is an upcall,
 * translated with side effects (MAC learning) and installed as
 * (key & wc, wc, actions); a revalidation replays each flow's xlate cache
 * if it saw packets, re-translates it, and deletes it if the new wildcards
 * need bits the installed mask lacks.
 */
import {
  bytesOf,
  F,
  type FlowKey,
  formatOdpActions,
  formatOdpKey,
  maskKey,
  newKey,
  type OdpAction,
  parseOdpKey,
  setUint,
} from "../../../src/flow/mod.ts";
import { formatFdbShow, MacLearning, OFPP_LOCAL, OfTables } from "../../../src/ofproto/mod.ts";
import { type PortSpec, type VlanMode, XBridge } from "../../../src/xlate/bridge.ts";
import { encodeSlowPathCookie, type XlateCache, xlateCachePush } from "../../../src/xlate/cache.ts";
import { RecircIdPool } from "../../../src/xlate/recirc.ts";
import type { XlateOutput } from "../../../src/xlate/context.ts";
import type { LearnSink } from "../../../src/xlate/learn.ts";
import { parseExactFlow } from "../../../src/xlate/trace_flow.ts";
import { megaflowMask, xlate } from "../../../src/xlate/xlate.ts";

interface Megaflow {
  upcall: FlowKey;
  key: FlowKey;
  mask: FlowKey;
  actions: OdpAction[];
  cache: XlateCache;
  recircs: number[];
  newPackets: number;
}

export interface Step {
  directive: string;
  arg: string;
}

/** One dump's check: the megaflows (or fdb/show lines) OVS had and ours. */
export interface DumpCheck {
  kind: "megaflows" | "fdb";
  line: number;
  expected: string[];
  actual: string[];
}

function portSpec(name: string, ofport: number, settings: Map<string, string>): PortSpec {
  const tag = settings.get("tag");
  const trunks = settings.get("trunks");
  return {
    name,
    ofport,
    odpPort: ofport,
    tag: tag === undefined ? undefined : Number(tag),
    trunks: trunks ? trunks.split(",").map(Number) : undefined,
    vlanMode: settings.get("vlan_mode") as VlanMode | undefined,
    // "pN down": mod-port down, the port forwards nothing (and is no live bundle member).
    noForward: settings.has("down"),
  };
}

/** The oracle's bridge: br0 (LOCAL, datapath port 100) and p1..pN. */
export function oracleBridge(nPorts: number, settings = new Map<string, Map<string, string>>()) {
  const specs: PortSpec[] = [{ name: "br0", ofport: OFPP_LOCAL, odpPort: 100 }];
  for (let i = 1; i <= nPorts; i++) {
    specs.push(portSpec(`p${i}`, i, settings.get(`p${i}`) ?? new Map()));
  }
  return new XBridge("br0", specs);
}

/** What dump-flows' normalizer does to action lists: runs of plain ports sorted. */
export function sortPortRuns(actions: string): string {
  const parts: string[] = [];
  let depth = 0, cur = "";
  for (const ch of actions) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  const out: string[] = [];
  let run: number[] = [];
  for (const p of parts) {
    if (/^[0-9]+$/.test(p)) run.push(Number(p));
    else {
      out.push(...run.sort((a, b) => a - b).map(String), p);
      run = [];
    }
  }
  out.push(...run.sort((a, b) => a - b).map(String));
  return out.join(",");
}

export class Replay {
  readonly tables = new OfTables();
  readonly ml = MacLearning.create();
  readonly recircIds = new RecircIdPool();
  bridge: XBridge;
  flows: Megaflow[] = [];
  nowMs = 0;
  readonly #portSettings = new Map<string, Map<string, string>>();

  constructor(public nPorts = 3) {
    this.bridge = oracleBridge(nPorts);
  }

  /** `ports N`: the bridge has p1..pN. */
  setPorts(n: number): void {
    this.nPorts = n;
    this.bridge = oracleBridge(n, this.#portSettings);
  }

  /** `port NAME key=value...`: ovs-vsctl set port NAME ... */
  configurePort(arg: string): void {
    const [name, ...kv] = arg.split(" ");
    this.#portSettings.set(name, new Map(kv.map((s) => s.split("=") as [string, string])));
    this.bridge = oracleBridge(this.nPorts, this.#portSettings);
  }

  /**
   * Translates an upcall's key; a flow that needs the slow path gets the
   * datapath actions the upcall layer installs for it (compose_slow_path).
   */
  translate(upcall: FlowKey, sideEffects: boolean): XlateOutput {
    const flow = upcall.slice();
    const ofport = this.bridge.ofport(bytesOf(upcall)[F.in_port.off + 3]);
    setUint(bytesOf(flow), F.in_port.off, 4, ofport);
    const out = xlate({
      flow,
      tables: this.tables,
      bridge: this.bridge,
      ml: this.ml,
      nowMs: this.nowMs,
      recircIds: this.recircIds,
      sideEffects,
      buildCache: true,
    });
    if (out.slow) {
      out.actions = [{ type: "userspace", pid: 0, userdata: encodeSlowPathCookie(out.slow) }];
    }
    return out;
  }

  packet(spec: string): void {
    const key = newKey();
    parseOdpKey(spec, key, newKey());
    for (const mf of this.flows) {
      const k = newKey();
      maskKey(k, key, mf.mask);
      if (k.every((w, i) => w === mf.key[i])) {
        mf.newPackets++;
        return;
      }
    }
    const out = this.translate(key, true);
    const mask = megaflowMask(key, out.wc);
    const mk = newKey();
    maskKey(mk, key, mask);
    this.flows.push({
      upcall: key,
      key: mk,
      mask,
      actions: out.actions,
      cache: out.cache,
      recircs: out.recircs,
      newPackets: 0,
    });
  }

  /**
   * revalidator/wait, twice, as the oracle runs it: about a second passes,
   * so MAC entries the flows refresh are a second older (OVS refreshes an
   * entry at most once a second).
   */
  revalidate(): void {
    this.nowMs += 1000;
    this.flows = this.flows.filter((mf) => {
      if (mf.newPackets) {
        xlateCachePush(mf.cache, mf.newPackets, 0, () => {}, this.ml, this.nowMs);
      }
      const out = this.translate(mf.upcall, mf.newPackets > 0);
      mf.newPackets = 0;
      const mask = megaflowMask(mf.upcall, out.wc);
      const keep = mask.every((w, i) => (w & ~mf.mask[i]) === 0);
      const [gone, held] = keep ? [mf.recircs, out.recircs] : [[...mf.recircs, ...out.recircs], []];
      for (const id of gone) this.recircIds.release(id);
      mf.actions = out.actions;
      mf.cache = out.cache;
      mf.recircs = held;
      return keep;
    });
  }

  dump(): string[] {
    return this.flows
      .map((mf) =>
        `megaflow ${formatOdpKey(mf.upcall, mf.mask)}, actions:${
          sortPortRuns(formatOdpActions(mf.actions))
        }`
      )
      .sort();
  }

  /** fdb/show as the oracle records it: the Age column dropped, spaces squeezed. */
  fdb(): string[] {
    return formatFdbShow(this.ml, this.nowMs).trimEnd().split("\n").map((l) =>
      l.trim().split(/\s+/).slice(0, -1).join(" ")
    );
  }

  /** Runs a fixture; returns each dump's expected and actual megaflows. */
  run(text: string): DumpCheck[] {
    const checks: DumpCheck[] = [];
    let pending: DumpCheck | null = null;
    const lines = text.split("\n");
    // The version the flows file went in over (ovs-ofctl -O); 1.0 by default.
    let flowVersion = 1;
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const sp = line.indexOf(" ");
      const directive = sp < 0 ? line : line.slice(0, sp);
      const arg = sp < 0 ? "" : line.slice(sp + 1);
      if (directive !== "megaflow" && directive !== "fdbline") pending = null;
      switch (directive) {
        case "port":
          this.configurePort(arg);
          break;
        case "ofp-version":
          flowVersion = Number(arg);
          break;
        case "flow":
          this.tables.addFlow(arg, this.nowMs, { version: flowVersion });
          break;
        case "packet":
          this.packet(arg);
          break;
        case "revalidate":
          this.revalidate();
          break;
        case "add-flow":
          this.tables.addFlow(arg, this.nowMs);
          break;
        case "mod-flows":
        case "del-flows": {
          const strict = arg.startsWith("--strict");
          const rule = strict ? arg.slice(9) : arg;
          if (directive === "mod-flows") this.tables.modFlows(rule, strict, this.nowMs);
          else this.tables.delFlows(rule, strict);
          break;
        }
        case "dump":
          pending = { kind: "megaflows", line: i + 1, expected: [], actual: this.dump() };
          checks.push(pending);
          break;
        case "fdb":
          pending = { kind: "fdb", line: i + 1, expected: [], actual: this.fdb() };
          checks.push(pending);
          break;
        case "fdbline":
          (pending as DumpCheck | null)?.expected.push(arg);
          break;
        case "megaflow":
          (pending as DumpCheck | null)?.expected.push(
            line.replace(/actions:(.*)$/, (_m, a: string) => `actions:${sortPortRuns(a)}`),
          );
          break;
        default:
          throw new Error(`line ${i + 1}: unknown directive ${directive}`);
      }
    });
    for (const c of checks) if (c.kind === "megaflows") c.expected.sort();
    return checks;
  }
}

/** Options of a one-off translation in tests. */
export interface OneShot {
  ports?: number;
  portConfig?: string[];
  ml?: MacLearning;
  sideEffects?: boolean;
  nowMs?: number;
  /** OpenFlow version the rules go in over (ovs-ofctl -O); 1.0 by default. */
  ofpVersion?: number;
  /** Where learn and fin_timeout side effects go. */
  learnSink?: LearnSink;
  buildCache?: boolean;
  tcpFlags?: number;
  trace?: boolean;
}

/**
 * Translates `flow` (ovs-ofctl exact-flow syntax, as ofproto/trace reads
 * it) through `rules` on the oracle's bridge; returns the output and the
 * datapath actions as OVS prints them.
 */
export function xlateText(
  rules: string[],
  flow: string,
  o: OneShot = {},
): XlateOutput & { text: string } {
  const r = new Replay(o.ports ?? 3);
  for (const p of o.portConfig ?? []) r.configurePort(p);
  for (const rule of rules) r.tables.addFlow(rule, 0, { version: o.ofpVersion });
  const out = xlate({
    flow: parseExactFlow(flow, r.bridge),
    tables: r.tables,
    bridge: r.bridge,
    ml: o.ml ?? r.ml,
    nowMs: o.nowMs ?? 0,
    recircIds: r.recircIds,
    sideEffects: o.sideEffects ?? true,
    learnSink: o.learnSink,
    buildCache: o.buildCache,
    tcpFlags: o.tcpFlags,
    trace: o.trace,
  });
  return { ...out, text: formatOdpActions(out.actions) };
}

/** The wildcard bits of one field, as hex (empty when none). */
export function maskOf(wc: FlowKey, span: { off: number; len: number }): string {
  const b = bytesOf(wc).subarray(span.off, span.off + span.len);
  return b.every((x) => x === 0) ? "" : [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Names of the fields with any wildcard bit set, in layout order. */
export function maskedFields(wc: FlowKey): string[] {
  return Object.entries(F).filter(([, span]) => maskOf(wc, span) !== "").map(([n]) => n);
}
