/**
 * A thread's end of the flow command protocol (protocol.ts): encodes
 * put/del/get/flush/execute ops onto its command ring to the PMD each is
 * for (its `pmd`; unset, every PMD, as OVS's PMD_ID_NULL), wakes the
 * PMDs and reads the answers from its reply rings, in order. With
 * in-process PMDs `pump` runs them; otherwise the client waits on the
 * reply ring.
 */
import {
  encodeActions,
  encodedLength,
  FLOW_WORDS,
  type OdpAction,
  ufidFromKey,
} from "../flow/mod.ts";
import { RingConsumer, RingProducer } from "../lib/mod.ts";
import {
  C_CLIENT_REQ,
  type DatapathShared,
  MAX_PMDS,
  PC_PMD_RUNNING,
  type PmdShared,
} from "./_shared.ts";
import { ACT_MAX_BYTES, FlowSnapshot } from "./flow_table.ts";
import { MAX_REPLY, SHORT_REPLY } from "./_pmd_commands.ts";
import {
  CMD_EXEC_ACTIONS,
  CMD_KEY,
  CMD_MASK,
  CMD_PUT_ACTIONS,
  E2BIG,
  EINVAL,
  ENOENT,
  EXEC_HAS_MD,
  EXEC_MD_WORDS,
  EXEC_PROBE,
  OP_DEL,
  OP_EXEC,
  OP_FLUSH,
  OP_GET,
  OP_PUT,
  putCommandFlags,
  RP_ACTIONS,
  RP_HAS_FLOW,
  RP_KEY,
  RP_MASK,
} from "./protocol.ts";
import type { DpifOp } from "./provider.ts";

/** Most ops per round trip; their replies must also fit the reply ring at once. */
const OPERATE_CHUNK = 256;
/** Ring words of a record with `payload` words (ring.ts: header, even size). */
const recordWords = (payload: number): number => (payload + 2) & ~1;
/** Longer than any restart of a dead PMD worker takes. */
const PMD_TIMEOUT_MS = 10_000;

/**
 * The id after `req`. Ids stay positive int32s, so a long-lived client
 * never sends an id the reply ring's u32 word cannot give back.
 */
function nextRequestId(req: number): number {
  return req >= 0x7fffffff || req < 0 ? 1 : req + 1;
}

export class FlowClient {
  /** The ctl word that remembers this client's last request id. */
  private readonly reqWord: number;
  /** Per PMD: this client's command and reply rings. */
  private readonly cmds: RingProducer[];
  private readonly replies: RingConsumer[];
  private cmd: RingProducer;
  private nextReq: number;
  private readonly encoded = new Uint8Array(ACT_MAX_BYTES);
  /** Per request of the chunk in flight: its id (or -errno), its op, its PMD. */
  private readonly reqs = new Int32Array(OPERATE_CHUNK * MAX_PMDS);
  private readonly reqOp = new Int32Array(OPERATE_CHUNK * MAX_PMDS);
  private readonly reqPmd = new Int32Array(OPERATE_CHUNK * MAX_PMDS);
  private readonly pmds: readonly PmdShared[];
  /**
   * Reply-ring words a chunk's replies may take: the PMD takes a command
   * only with room for the largest reply, and a record may leave a pad at
   * the ring's end, so two of those stay free.
   */
  private readonly replyBudget: number;

  /** `pump` runs an in-process PMD and returns true, or returns false. */
  constructor(
    private readonly shared: DatapathShared,
    client: number,
    private readonly pump: () => boolean,
  ) {
    this.reqWord = C_CLIENT_REQ + client;
    this.nextReq = nextRequestId(Atomics.load(shared.ctl, this.reqWord));
    this.pmds = shared.pmds;
    this.cmds = shared.pmds.map((p) => new RingProducer(p.cmd[client]));
    this.replies = shared.pmds.map((p) => new RingConsumer(p.reply[client]));
    this.cmd = this.cmds[0];
    this.replyBudget = this.replies[0].view.capacity - 2 * recordWords(MAX_REPLY);
  }

  /** The active PMDs of this chunk (in `active[0..nActive)`), read once per chunk. */
  private readonly active = new Int32Array(MAX_PMDS);
  private nActive = 0;

  /** How many PMDs `op` goes to: its own, or (unset) every active one, an execute the first. */
  private targets(op: DpifOp): number {
    return op.pmd !== undefined || op.type === "execute" ? 1 : this.nActive;
  }

  /**
   * The actions whose encoding `this.encoded` holds (`encodedLen` bytes,
   * -1 too long), within one operate: a handler's put and execute of a
   * flow, and its flows of one rule, share one actions array.
   */
  private encodedFor: readonly OdpAction[] | null = null;
  private encodedLen = 0;

  /** Encodes `actions` into `this.encoded`; the byte count, or -1 if too long. */
  private encode(actions: readonly OdpAction[]): number {
    if (actions === this.encodedFor) return this.encodedLen;
    this.encodedFor = actions;
    this.encodedLen = encodedLength(actions) > ACT_MAX_BYTES
      ? -1
      : encodeActions(actions, this.encoded).length;
    return this.encodedLen;
  }

  /** Copies the `n` encoded action bytes to byte `at` of the command ring. */
  private copyEncoded(n: number, at: number): void {
    const dst = this.cmd.view.u8, src = this.encoded;
    for (let i = 0; i < n; i++) dst[at + i] = src[i];
  }

  /** Puts `op` on PMD k's command ring; its request id, or -errno. */
  private submit(op: DpifOp, k: number): number {
    // A PMD that is gone (removed by a reconfiguration) took its flows with it.
    if (k < 0 || k >= this.cmds.length || !this.pmds[k].active) {
      return op.type === "del" || op.type === "get" ? -ENOENT : -EINVAL;
    }
    this.cmd = this.cmds[k];
    const pmd = this.pmds[k];
    const req = this.nextReq;
    this.nextReq = nextRequestId(req);
    Atomics.store(this.shared.ctl, this.reqWord, req);
    let at: number;
    if (op.type === "put") {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      at = this.reserve(CMD_PUT_ACTIONS + ((nAct + 3) >> 2), pmd);
      const u = this.cmd.view.u32;
      u[at] = OP_PUT;
      u[at + 2] = putCommandFlags(op.flags, op.wantFlow);
      u[at + 3] = nAct;
      this.writeUfid(u, at, op.ufid, op.key);
      const key = op.key, mask = op.mask;
      for (let i = 0; i < FLOW_WORDS; i++) {
        u[at + CMD_KEY + i] = key[i];
        u[at + CMD_MASK + i] = mask[i];
      }
      this.copyEncoded(nAct, (at + CMD_PUT_ACTIONS) * 4);
    } else if (op.type === "del" || op.type === "get") {
      if (op.type === "get" && !op.ufid) return -EINVAL;
      at = this.reserve(CMD_KEY + FLOW_WORDS, pmd);
      const u = this.cmd.view.u32;
      u[at] = op.type === "del" ? OP_DEL : OP_GET;
      u[at + 2] = op.ufid ? 1 : 0;
      this.writeUfid(u, at, op.ufid, op.type === "del" ? op.key : undefined);
      if (op.type === "del" && op.key) u.set(op.key.subarray(0, FLOW_WORDS), at + CMD_KEY);
    } else if (op.type === "flush") {
      at = this.reserve(2, pmd);
      this.cmd.view.u32[at] = OP_FLUSH;
    } else {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      const actWords = (nAct + 3) >> 2;
      const pktWords = (op.packet.length + 3) >> 2;
      const mdWords = op.md ? EXEC_MD_WORDS.length : 0;
      at = this.reserve(CMD_EXEC_ACTIONS + actWords + pktWords + mdWords, pmd);
      const u = this.cmd.view.u32;
      u[at] = OP_EXEC;
      u[at + 2] = op.inPort;
      u[at + 3] = nAct;
      u[at + 4] = (op.packet.length | (op.probe ? EXEC_PROBE : 0) | (op.md ? EXEC_HAS_MD : 0)) >>>
        0;
      this.copyEncoded(nAct, (at + CMD_EXEC_ACTIONS) * 4);
      this.cmd.view.u8.set(op.packet, (at + CMD_EXEC_ACTIONS + actWords) * 4);
      const mdAt = at + CMD_EXEC_ACTIONS + actWords + pktWords;
      for (let i = 0; i < mdWords; i++) u[mdAt + i] = op.md![EXEC_MD_WORDS[i]];
    }
    this.cmd.view.u32[at + 1] = req;
    return req;
  }

  private writeUfid(u: Uint32Array, at: number, ufid?: Uint32Array, key?: Uint32Array): void {
    if (ufid) { for (let i = 0; i < 4; i++) u[at + 4 + i] = ufid[i]; }
    else if (key) ufidFromKey(key, 0, u, at + 4);
  }

  private reserve(words: number, pmd: PmdShared): number {
    let since = -1;
    for (;;) {
      const at = this.cmd.reserve(words);
      if (at >= 0) return at;
      this.cmd.publish();
      pmd.ringCommands();
      if (!this.pump()) {
        if (since < 0) since = performance.now();
        Atomics.wait(pmd.ctl, 0, Atomics.load(pmd.ctl, 0), 1);
        this.checkAlive(since);
      }
    }
  }

  /** A PMD that has not answered for PMD_TIMEOUT_MS is an error, not a hang. */
  private checkAlive(since: number): void {
    if (performance.now() - since > PMD_TIMEOUT_MS) {
      throw new Error(`datapath PMD did not answer within ${PMD_TIMEOUT_MS / 1000} s`);
    }
  }

  /** Runs `ops` in order, filling in each one's error and flow. */
  operate(ops: DpifOp[]): void {
    this.encodedFor = null;
    // Replies must fit the reply rings while their commands wait, so big
    // batches go in chunks. A reply carries a flow for a del or get, or a
    // put that asks; the rest are a few words, so a handler's whole batch
    // (puts and executes) is one round trip.
    this.nActive = 0;
    for (let k = 0; k < this.pmds.length; k++) {
      if (this.pmds[k].active) this.active[this.nActive++] = k;
    }
    for (let from = 0; from < ops.length;) {
      let to = from, budget = this.replyBudget;
      while (to < ops.length && to - from < OPERATE_CHUNK) {
        const op = ops[to];
        const withFlow = op.type === "del" || op.type === "get" ||
          (op.type === "put" && op.wantFlow === true);
        const w = recordWords(withFlow ? MAX_REPLY : SHORT_REPLY) * this.targets(op);
        if (w > budget && to > from) break;
        budget -= w;
        to++;
      }
      this.operateChunk(ops, from, to);
      from = to;
    }
  }

  private operateChunk(ops: DpifOp[], from: number, to: number): void {
    const reqs = this.reqs, reqOp = this.reqOp, reqPmd = this.reqPmd;
    let n = 0;
    for (let i = from; i < to; i++) {
      const op = ops[i];
      op.error = undefined;
      op.flow = undefined;
      const nt = this.targets(op);
      for (let t = 0; t < nt; t++) {
        const k = op.pmd ?? (this.nActive ? this.active[t] : 0);
        reqs[n] = this.submit(op, k);
        reqOp[n] = i;
        reqPmd[n++] = k;
      }
    }
    for (let k = 0; k < this.cmds.length; k++) {
      this.cmds[k].publish();
      this.pmds[k].ringCommands();
    }
    this.pump();
    for (let r = 0; r < n; r++) {
      const op = ops[reqOp[r]], req = reqs[r];
      if (req < 0) {
        op.error = -req;
        continue;
      }
      const reply = this.replies[reqPmd[r]];
      const at = this.awaitReply(reply, req, this.pmds[reqPmd[r]]);
      if (at < 0) {
        // The PMD was removed before it answered: its flows are gone.
        op.error = op.type === "del" || op.type === "get" ? ENOENT : EINVAL;
        continue;
      }
      const u = reply.view.u32;
      const flow = u[at + RP_HAS_FLOW] && op.type !== "execute" && op.type !== "flush"
        ? readReplyFlow(u, reply.view.f64, reply.view.u8, at)
        : undefined;
      if (flow) flow.pmd = reqPmd[r];
      mergeReply(op, u[at + 1], flow);
      reply.release();
    }
  }

  /**
   * The reply to request `req` from `pmd`, or -1 when that PMD was
   * removed without answering; replies to older requests (left over from
   * an operate that gave up) are skipped.
   */
  private awaitReply(reply: RingConsumer, req: number, pmd: PmdShared): number {
    // The clock is read only once a wait begins: most replies are there.
    let since = -1;
    for (;;) {
      const at = reply.next();
      if (at >= 0) {
        if (reply.view.u32[at] === req) return at;
        reply.release();
        continue;
      }
      if (this.pump()) continue;
      if (!pmd.active && Atomics.load(pmd.ctl, PC_PMD_RUNNING) === 0) return -1;
      if (since < 0) since = performance.now();
      reply.wait(100);
      this.checkAlive(since);
    }
  }
}

/**
 * Folds one PMD's answer into `op`, as dpif-netdev does for an op
 * without a pmd_id: a get takes the first PMD that has the flow; a put or
 * del fails if it failed on any PMD (ENOENT from one that lacks the
 * flow) and sums the flow's statistics over the PMDs.
 */
function mergeReply(op: DpifOp, error: number, flow: FlowSnapshot | undefined): void {
  if (op.error === undefined) {
    op.error = error;
    op.flow = flow;
    return;
  }
  if (op.type === "get") {
    if (op.error !== 0 && error === 0) {
      op.error = 0;
      op.flow = flow;
    }
    return;
  }
  if (error !== 0) op.error = error;
  if (!flow) return;
  if (!op.flow) op.flow = flow;
  else if (op.flow !== flow) {
    op.flow.packets += flow.packets;
    op.flow.bytes += flow.bytes;
    op.flow.used = Math.max(op.flow.used, flow.used);
    op.flow.tcpFlags |= flow.tcpFlags;
  }
}

function readReplyFlow(u: Uint32Array, f: Float64Array, u8: Uint8Array, at: number): FlowSnapshot {
  const s = new FlowSnapshot();
  s.nActionBytes = u[at + 3];
  s.tcpFlags = u[at + 4];
  const fi = (at + 5) >> 1;
  s.packets = f[fi];
  s.bytes = f[fi + 1];
  s.used = f[fi + 2];
  s.ufid.set(u.subarray(at + 12, at + 16));
  s.key.set(u.subarray(at + RP_KEY, at + RP_KEY + FLOW_WORDS));
  s.mask.set(u.subarray(at + RP_MASK, at + RP_MASK + FLOW_WORDS));
  s.actions.set(u8.subarray((at + RP_ACTIONS) * 4, (at + RP_ACTIONS) * 4 + s.nActionBytes));
  return s;
}
