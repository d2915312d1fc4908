/**
 * Handler logic (recv_upcalls + handle_upcalls): read a batch of upcalls,
 * translate each distinct flow once, install its megaflow under the flow
 * limit with a ukey, and execute every packet in arrival order.
 *
 * All per-batch state lives in arrays allocated once per handler, so a
 * batch allocates only what translation itself returns.
 */
import { F, type FlowKey, newKey, type OdpAction, wildcardsForPacket } from "../flow/mod.ts";
import { coverageCounter, getLogger, hashWords, timeMsec } from "../lib/mod.ts";
import { actionsDigest } from "./actions_digest.ts";
import {
  BAD_UPCALL,
  classifyCookie,
  CONTROLLER_UPCALL,
  MISS_UPCALL,
  SLOW_PATH_UPCALL,
  slowPathCookie,
} from "./cookie.ts";
import {
  DP_OK,
  DPIF_UC_ACTION,
  DPIF_UC_MISS,
  newUdpifOp,
  type UdpifDpif,
  type UdpifOp,
  type UdpifXlate,
  type UpcallIn,
  type XlateRequest,
  type XlateResult,
} from "./ports.ts";
import { RateLimit } from "./_rate_limit.ts";
import type { UdpifShared } from "./shared.ts";
import { UKEY_EVICTED, UKEY_OPERATIONAL, type UkeyTable } from "./ukey_table.ts";
import { releaseRecircs, translateSafely } from "./_safe_xlate.ts";
import { beginStats, commitStats, type SeatJournal } from "./worker_journal.ts";

export const UPCALL_MAX_BATCH = 64;
const NO_RECIRCS: readonly number[] = [];
const NO_ACTIONS: OdpAction[] = [];

const covDuplicate = coverageCounter("handler_duplicate_upcall");
const covReplaceContention = coverageCounter("ukey_replace_contention");
const covLimitHit = coverageCounter("upcall_flow_limit_hit");
const covReplace = coverageCounter("upcall_ukey_replace");
const covDropPipeline = coverageCounter("drop_action_of_pipeline");
const covUserspaceError = coverageCounter("datapath_drop_userspace_action_error");
/** Byte of a controller cookie that says the packet is not to be sent. */
const COOKIE_DONT_SEND = 24;
const log = getLogger("ofproto_dpif_upcall");
const rl = new RateLimit(1, 5);
const rlInstall = new RateLimit(1, 1);

/** Everything a handler or revalidator works on. */
export interface UdpifContext {
  shared: UdpifShared;
  ukeys: UkeyTable;
  dpif: UdpifDpif;
  xlate: UdpifXlate;
  /** The running seat's journal (worker_journal.ts); none in-process. */
  journal?: SeatJournal;
}

function sameFlow(a: UpcallIn, b: UpcallIn): boolean {
  return a.ufid[0] === b.ufid[0] && a.ufid[1] === b.ufid[1] && a.ufid[2] === b.ufid[2] &&
    a.ufid[3] === b.ufid[3] && a.pmd === b.pmd;
}

/** The flow key's identity for ukey conflict checks. */
export function flowKeyHash(key: FlowKey): number {
  return hashWords(key, 0, key.length, 0) | 0;
}

/** The datapath actions a flow gets: the translation's, or a trip to userspace. */
export function putActionsFor(
  res: XlateResult,
  actions: OdpAction[],
  uuid: Uint8Array,
): OdpAction[] {
  if (!res.slow) return actions;
  return [{ type: "userspace", pid: 0, userdata: slowPathCookie(res.ofpInPort, uuid, res.slow) }];
}

/**
 * Whether the datapath drops the packet of a userspace action's upcall
 * because udpif answers it with an error (upcall_cb): every kind but slow
 * path, and a controller cookie marked dont_send, fails with EAGAIN once
 * its sample or packet-in is taken.
 */
function actionUpcallFails(kind: number, u: UpcallIn): boolean {
  if (kind === SLOW_PATH_UPCALL) return false;
  return kind !== CONTROLLER_UPCALL || u.userdata[COOKIE_DONT_SEND] === 0;
}

export class Handler {
  readonly id: number;
  readonly batch: UpcallIn[];
  readonly #ctx: UdpifContext;
  readonly #kind = new Int32Array(UPCALL_MAX_BATCH);
  /** Index of the first upcall of the same flow in this batch (itself for the first). */
  readonly #lead = new Int32Array(UPCALL_MAX_BATCH);
  readonly #count = new Int32Array(UPCALL_MAX_BATCH);
  readonly #bytes = new Float64Array(UPCALL_MAX_BATCH);
  readonly #res: (XlateResult | undefined)[] = new Array(UPCALL_MAX_BATCH);
  /** 1 where the translation's recirculation ids went to the ukey it installed. */
  readonly #recircsTaken = new Uint8Array(UPCALL_MAX_BATCH);
  readonly #wc: FlowKey[] = Array.from({ length: UPCALL_MAX_BATCH }, newKey);
  readonly #digest = new Uint32Array(3);
  /** The batch's datapath ops (a put and an execute per upcall at most). */
  readonly #ops: UdpifOp[] = Array.from({ length: 2 * UPCALL_MAX_BATCH }, () => {
    const op = newUdpifOp();
    op.key = newKey();
    op.mask = newKey();
    return op;
  });
  readonly #opSlot = new Int32Array(2 * UPCALL_MAX_BATCH);
  /** The ukey's generation when queued: purge may free and recycle it meanwhile. */
  readonly #opGen = new Int32Array(2 * UPCALL_MAX_BATCH);
  #nOps = 0;
  #revalSeq = 0;
  /** Refilled for every translation: translators do not keep the request. */
  readonly #req: XlateRequest = {
    key: new Uint32Array(0),
    packet: null,
    packets: 0,
    bytes: 0,
    tcpFlags: 0,
    used: 0,
    wc: null,
    wantXcache: false,
  };
  /** `batch[i].packet[0..packetLen)`, kept while packets keep their length. */
  readonly #packetViews: (Uint8Array | undefined)[] = new Array(UPCALL_MAX_BATCH);
  readonly #flowCount = (): number => this.#ctx.dpif.flowCount();

  constructor(ctx: UdpifContext, id: number) {
    this.#ctx = ctx;
    this.id = id;
    this.batch = Array.from({ length: UPCALL_MAX_BATCH }, () => ctx.dpif.newUpcall());
  }

  /**
   * Reads and handles one batch; returns how many upcalls it read.
   * `revalSeq` must be read before the translation state the batch uses
   * was last brought up to date (upcall->reval_seq is read before
   * xlate_actions in OVS), so that a flow translated with state older than
   * a reval_seq is revalidated.
   */
  runOnce(revalSeq = this.#ctx.shared.revalSeq.read()): number {
    const n = this.receive();
    if (n > 0) this.handleBatch(n, revalSeq);
    return n;
  }

  /** Reads up to a batch into `batch`, held in the queue until handleBatch; returns how many. */
  receive(): number {
    return this.#ctx.dpif.recv(this.id, this.batch, UPCALL_MAX_BATCH);
  }

  /** Handles `batch[0..n)`, already filled by recv. */
  handleBatch(n: number, revalSeq = this.#ctx.shared.revalSeq.read()): void {
    this.#revalSeq = revalSeq;
    const { xlate, journal, dpif } = this.#ctx;
    const now = timeMsec();
    journal?.prepareBatch();
    beginStats(xlate);
    this.#classify(n);
    this.#recircsTaken.fill(0);
    for (let i = 0; i < n; i++) {
      this.#res[i] = undefined;
      const kind = this.#kind[i];
      if ((kind !== MISS_UPCALL && kind !== SLOW_PATH_UPCALL) || this.#lead[i] !== i) continue;
      const u = this.batch[i];
      const wc = this.#wc[i];
      wc.fill(0);
      const req = this.#req;
      req.key = u.key;
      req.packet = this.#packetView(i);
      req.packets = kind === MISS_UPCALL ? this.#count[i] : 0;
      req.bytes = kind === MISS_UPCALL ? this.#bytes[i] : 0;
      // tcp_flags is the big-endian first half of its (host-order) key word.
      const tcpWord = u.key[F.tcp_flags.off >> 2];
      req.tcpFlags = (((tcpWord & 0xff) << 8) | ((tcpWord >>> 8) & 0xff)) & 0xfff;
      req.used = now;
      req.wc = wc;
      const res = translateSafely(xlate, req);
      req.packet = null;
      // The datapath matches in_port exactly whatever translation looked at.
      wc[F.in_port.off >> 2] = 0xffffffff;
      this.#res[i] = res;
    }
    this.#nOps = 0;
    for (let i = 0; i < n; i++) this.#handle(i, now);
    let misses = 0;
    for (let i = 0; i < n; i++) if (this.batch[i].type === DPIF_UC_MISS) misses++;
    // The batch's commit point: its credits published, its upcalls done
    // with (worker_journal.ts). Executes and installs follow.
    journal?.setBatchEnd(dpif.recvPosition(this.id), misses);
    commitStats(xlate, journal);
    dpif.recvRelease(this.id);
    dpif.operate(this.#ops, this.#nOps, true);
    this.#finishInstalls();
    xlate.upcallsInstalled?.();
    for (let i = 0; i < n; i++) {
      const res = this.#res[i];
      if (res && !this.#recircsTaken[i]) releaseRecircs(xlate, res);
      this.#res[i] = undefined;
    }
    this.#ctx.shared.addHandled(misses);
    journal?.done();
  }

  #packetView(i: number): Uint8Array {
    const u = this.batch[i];
    let v = this.#packetViews[i];
    if (v === undefined || v.length !== u.packetLen || v.buffer !== u.packet.buffer) {
      v = this.#packetViews[i] = u.packet.subarray(0, u.packetLen);
    }
    return v;
  }

  /** After the batch ran: a ukey whose put failed is evicted, the others operational. */
  #finishInstalls(): void {
    const { ukeys } = this.#ctx;
    for (let i = 0; i < this.#nOps; i++) {
      const op = this.#ops[i];
      op.actions = NO_ACTIONS;
      const slot = this.#opSlot[i];
      if (slot < 0) continue;
      ukeys.lock(slot);
      if (ukeys.gen(slot) === this.#opGen[i]) {
        if (op.error !== DP_OK) ukeys.transition(slot, UKEY_EVICTED);
        else if (ukeys.state(slot) < UKEY_OPERATIONAL) ukeys.transition(slot, UKEY_OPERATIONAL);
      }
      ukeys.unlock(slot);
    }
  }

  #classify(n: number): void {
    for (let i = 0; i < n; i++) {
      const u = this.batch[i];
      let kind = BAD_UPCALL;
      if (u.type === DPIF_UC_MISS) kind = MISS_UPCALL;
      else if (u.type === DPIF_UC_ACTION) kind = classifyCookie(u.userdata, u.userdataLen);
      this.#kind[i] = kind;
      this.#lead[i] = i;
      this.#count[i] = 1;
      this.#bytes[i] = u.packetLen;
      if (u.type === DPIF_UC_ACTION && u.lastAction && actionUpcallFails(kind, u)) {
        covUserspaceError.inc();
      }
      if (kind === CONTROLLER_UPCALL && u.userdata[COOKIE_DONT_SEND] === 0) {
        this.#ctx.xlate.controllerUpcall?.(u);
      }
      if (kind === BAD_UPCALL && rl.allow()) {
        log.warn(
          u.type === DPIF_UC_ACTION
            ? (u.userdataLen ? "invalid user cookie" : "action upcall missing cookie")
            : `upcall has unexpected type ${u.type}`,
        );
      }
      if (kind !== MISS_UPCALL) continue;
      for (let j = 0; j < i; j++) {
        if (this.#kind[j] === MISS_UPCALL && this.#lead[j] === j && sameFlow(this.batch[j], u)) {
          this.#lead[i] = j;
          this.#count[j]++;
          this.#bytes[j] += u.packetLen;
          break;
        }
      }
    }
  }

  /** One upcall of handle_upcalls(): a put (first of its flow only), then an execute. */
  #handle(i: number, now: number): void {
    const { xlate } = this.#ctx;
    const kind = this.#kind[i];
    if (kind !== MISS_UPCALL && kind !== SLOW_PATH_UPCALL) return;
    const lead = this.#lead[i];
    const res = this.#res[lead];
    if (!res || !res.actions) return;
    const u = this.batch[i];
    if (kind === MISS_UPCALL) {
      if (lead !== i) covDuplicate.inc();
      else if (this.#shouldInstall(now)) {
        this.#install(i, res, putActionsFor(res, res.actions, xlate.ofprotoUuid), now);
      }
    }
    if (res.actions.length === 0) {
      // The datapath would run the translation's explicit drop action.
      covDropPipeline.inc();
    } else {
      const op = this.#nextOp(-1);
      op.type = "execute";
      op.packet = this.#packetView(i);
      op.len = u.packetLen;
      op.inPort = u.inPort;
      // The packet goes back with the metadata it came up with (recirc_id, ct fields).
      op.key.set(u.key);
      op.pmd = u.pmd;
      op.actions = res.actions;
    }
  }

  #nextOp(slot: number): UdpifOp {
    this.#opSlot[this.#nOps] = slot;
    if (slot >= 0) this.#opGen[this.#nOps] = this.#ctx.ukeys.gen(slot);
    return this.#ops[this.#nOps++];
  }

  #shouldInstall(now: number): boolean {
    const { shared } = this.#ctx;
    const limit = shared.flowLimit;
    if (shared.nFlows(now, this.#flowCount) >= limit) {
      covLimitHit.inc();
      if (rl.allow(now)) log.warn(`upcall: datapath reached the dynamic limit of ${limit} flows.`);
      return false;
    }
    return true;
  }

  /**
   * ukey_create_from_upcall + ukey_install for upcall `i`, then queues the
   * put. The ukey takes over the translation's recirculation ids; a flow
   * whose ids do not fit in a ukey is not cached (its packet still runs).
   */
  #install(i: number, res: XlateResult, actions: OdpAction[], now: number): void {
    const { shared, ukeys } = this.#ctx;
    const u = this.batch[i];
    const wc = this.#wc[i];
    const slot = ukeys.alloc();
    if (slot < 0) {
      if (rlInstall.allow(now)) log.warn("upcall: ukey installation fails");
      return;
    }
    ukeys.init(slot, u.ufid, u.pmd, flowKeyHash(u.key), this.#revalSeq, 0, now);
    ukeys.setActionsDigest(slot, actionsDigest(actions, this.#digest));
    if (!ukeys.holdRecircs(slot, res.recircs ?? NO_RECIRCS)) {
      ukeys.free(slot);
      return;
    }
    const r = ukeys.install(slot);
    if (r === "duplicate" || r === "contended" || r === "conflict") {
      // Since OVS 3.4 (ed379a810 "ofproto-dpif-upcall: Fix ukey installation
      // failure logs and counters.") contention has its own counter; 3.1
      // counted it as a duplicate.
      if (r === "contended" && !shared.compat31) covReplaceContention.inc();
      else if (r !== "conflict") covDuplicate.inc();
      else if (rl.allow(now)) log.warn("Conflicting ukey for flows");
      ukeys.holdRecircs(slot, NO_RECIRCS);
      ukeys.free(slot);
      return;
    }
    this.#recircsTaken[i] = 1;
    if (r === "replaced") covReplace.inc();
    this.#ctx.journal?.addInstalled(slot, ukeys.gen(slot));
    const op = this.#nextOp(slot);
    op.type = "put";
    op.modify = false;
    op.pmd = u.pmd;
    op.ufid.set(u.ufid);
    op.key.set(u.key);
    if (shared.megaflows) op.mask.set(wc);
    else wildcardsForPacket(u.key, op.mask);
    op.actions = actions;
  }
}
