/**
 * Test support: a real netdev datapath (PMD run in-process) with three
 * dummy ports, the shared udpif memory, and a small priority-ordered rule
 * table standing in for xlate until the OpenFlow layers are wired: it
 * un-wildcards what it looks at, counts rule stats and hands out rule
 * references as xlate caches, which is the whole contract udpif relies on.
 */
import { F, flowExtract, type FlowKey, newKey, type OdpAction } from "../../../src/flow/mod.ts";
import { DpifNetdev } from "../../../src/dpif/mod.ts";
import { DummyNetdev } from "../../../src/netdev/mod.ts";
import { DpifBinding, DUMP_CURSOR_BYTES } from "../../../src/upcall/dpif_binding.ts";
import type { UdpifContext } from "../../../src/upcall/handler.ts";
import type { WorkerXlate, XlateRequest, XlateResult } from "../../../src/upcall/ports.ts";
import { UdpifShared } from "../../../src/upcall/shared.ts";
import { UkeyTable } from "../../../src/upcall/ukey_table.ts";

function put(b: Uint8Array, off: number, len: number, v: number): void {
  for (let i = len - 1; i >= 0; i--, v = Math.floor(v / 256)) b[off + i] = v & 255;
}

function get(b: Uint8Array, off: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[off + i];
  return v;
}

export interface TestRule {
  priority: number;
  /** Field name -> value (numbers, big-endian in the key). */
  match: Partial<Record<keyof typeof F, number>>;
  actions: OdpAction[];
  slow?: number;
  /** Index of the rule's counters in the stats array. */
  id: number;
}

/** What a worker's RuleXlate starts from (structured-clonable). */
export interface RuleXlateInit {
  rules: TestRule[];
  /** Float64 [packets, bytes] per rule id, shared by every thread. */
  stats: SharedArrayBuffer;
}

export const MAX_TEST_RULES = 64;

export class RuleXlate implements WorkerXlate {
  readonly ofprotoUuid = new Uint8Array(16).fill(0xab);
  readonly stats: SharedArrayBuffer;
  readonly #stats: Float64Array;
  rules: TestRule[] = [];
  translations = 0;
  /** A test's probe of when a handler announces its batch. */
  upcallsInstalled?: () => void;

  constructor(init?: RuleXlateInit) {
    this.stats = init?.stats ?? new SharedArrayBuffer(MAX_TEST_RULES * 16);
    this.#stats = new Float64Array(this.stats);
    if (init) this.rules = init.rules;
  }

  init(): RuleXlateInit {
    return { rules: this.rules, stats: this.stats };
  }

  add(priority: number, match: TestRule["match"], actions: OdpAction[], slow = 0): TestRule {
    const r = { priority, match, actions, slow, id: this.rules.length };
    this.rules.push(r);
    this.rules.sort((a, b) => b.priority - a.priority);
    return r;
  }

  update(data: unknown): void {
    this.rules = data as TestRule[];
  }

  nPackets(r: TestRule): number {
    return this.#stats[2 * r.id];
  }
  nBytes(r: TestRule): number {
    return this.#stats[2 * r.id + 1];
  }

  #credit(r: TestRule, packets: number, bytes: number): void {
    this.#stats[2 * r.id] += packets;
    this.#stats[2 * r.id + 1] += bytes;
  }

  translate(req: XlateRequest): XlateResult {
    this.translations++;
    const k = new Uint8Array(req.key.buffer, req.key.byteOffset, req.key.byteLength);
    const wc = req.wc ? new Uint8Array(req.wc.buffer, req.wc.byteOffset, req.wc.byteLength) : null;
    if (wc && req.wcReplace) wc.fill(0);
    for (const r of this.rules) {
      let hit = true;
      for (const [name, value] of Object.entries(r.match)) {
        const s = F[name as keyof typeof F];
        if (wc) wc.fill(0xff, s.off, s.off + s.len);
        if (get(k, s.off, s.len) !== value) {
          hit = false;
          break;
        }
      }
      if (!hit) continue;
      this.#credit(r, req.packets, req.bytes);
      return {
        actions: r.actions,
        slow: r.slow ?? 0,
        avoidCaching: false,
        ofpInPort: get(k, F.in_port.off, 4),
        xcache: req.wantXcache ? r : null,
      };
    }
    return { actions: [], slow: 0, avoidCaching: false, ofpInPort: 0, xcache: null };
  }

  pushStats(xcache: unknown, packets: number, bytes: number): void {
    // A translation that matched no rule has no cache to credit.
    if (xcache) this.#credit(xcache as TestRule, packets, bytes);
  }
}

/** The worker entry point: a RuleXlate over the shared stats (see CreateUdpifXlate). */
export function createUdpifXlate(init: unknown): WorkerXlate {
  return new RuleXlate(init as RuleXlateInit);
}

/** A TCP/IPv4 frame from 10.0.0.`src` to 10.0.0.`dst`. */
export function tcpFrame(src: number, dst: number, sport: number, dport: number, len = 64) {
  const f = new Uint8Array(len);
  f.set([0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 0, 0, 5, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, len - 14, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, src, 10, 0, 0, dst], 14);
  put(f, 34, 2, sport);
  put(f, 36, 2, dport);
  f[46] = 0x50;
  f[47] = 0x02;
  return f;
}

export interface TestUdpif {
  ctx: UdpifContext;
  dp: DpifNetdev;
  binding: DpifBinding;
  xlate: RuleXlate;
  p1: DummyNetdev;
  p2: DummyNetdev;
  /** Runs the PMD so queued packets reach flows or upcall queues. */
  pump(): void;
  destroy(): void;
}

export function testUdpif(ukeyCapacity = 4096): TestUdpif {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: ukeyCapacity });
  const p1 = new DummyNetdev("p1");
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  dp.portAdd(p1);
  dp.portAdd(p2);
  dp.handlersSet(1);
  const binding = new DpifBinding(dp, new SharedArrayBuffer(DUMP_CURSOR_BYTES));
  const xlate = new RuleXlate();
  const shared = UdpifShared.create();
  shared.nRevalidators = 1;
  const ctx = { shared, ukeys: UkeyTable.create(ukeyCapacity), dpif: binding, xlate };
  return { ctx, dp, binding, xlate, p1, p2, pump: () => dp.run(), destroy: () => dp.destroy() };
}

/** The key of `frame` received on port `inPort`. */
export function keyOf(frame: Uint8Array, inPort: number): FlowKey {
  const k = newKey();
  flowExtract(frame, frame.length, inPort, k);
  return k;
}
