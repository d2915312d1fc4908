/**
 * A thread's end of the flow command protocol (protocol.ts): encodes
 * put/del/get/flush/execute ops onto its command ring, wakes the PMD and
 * reads the answers from its reply ring, in order. With an in-process PMD
 * `pump` runs it; otherwise the client waits on the reply ring.
 */
import {
  encodeActions,
  encodedLength,
  FLOW_WORDS,
  type OdpAction,
  ufidFromKey,
} from "../flow/mod.ts";
import { RingConsumer, RingProducer } from "../lib/mod.ts";
import { C_CLIENT_REQ, type DatapathShared } from "./_shared.ts";
import { ACT_MAX_BYTES, FlowSnapshot } from "./flow_table.ts";
import { MAX_REPLY, SHORT_REPLY } from "./_pmd_commands.ts";
import {
  CMD_EXEC_ACTIONS,
  CMD_KEY,
  CMD_MASK,
  CMD_PUT_ACTIONS,
  E2BIG,
  EINVAL,
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
  private readonly cmd: RingProducer;
  private readonly reply: RingConsumer;
  private nextReq: number;
  private readonly encoded = new Uint8Array(ACT_MAX_BYTES);
  /** Request ids (or -errno) of the chunk in flight. */
  private readonly reqs = new Int32Array(OPERATE_CHUNK);
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
    this.cmd = new RingProducer(shared.cmd[client]);
    this.reply = new RingConsumer(shared.reply[client]);
    this.replyBudget = this.reply.view.capacity - 2 * recordWords(MAX_REPLY);
  }

  /** Encodes `actions` into `this.encoded`; the byte count, or -1 if too long. */
  private encode(actions: readonly OdpAction[]): number {
    if (encodedLength(actions) > ACT_MAX_BYTES) return -1;
    return encodeActions(actions, this.encoded).length;
  }

  private submit(op: DpifOp): number {
    const req = this.nextReq;
    this.nextReq = nextRequestId(req);
    Atomics.store(this.shared.ctl, this.reqWord, req);
    let at: number;
    if (op.type === "put") {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      at = this.reserve(CMD_PUT_ACTIONS + ((nAct + 3) >> 2));
      const u = this.cmd.view.u32;
      u[at] = OP_PUT;
      u[at + 2] = putCommandFlags(op.flags, op.wantFlow);
      u[at + 3] = nAct;
      this.writeUfid(u, at, op.ufid, op.key);
      u.set(op.key.subarray(0, FLOW_WORDS), at + CMD_KEY);
      u.set(op.mask.subarray(0, FLOW_WORDS), at + CMD_MASK);
      this.cmd.view.u8.set(this.encoded.subarray(0, nAct), (at + CMD_PUT_ACTIONS) * 4);
    } else if (op.type === "del" || op.type === "get") {
      if (op.type === "get" && !op.ufid) return -EINVAL;
      at = this.reserve(CMD_KEY + FLOW_WORDS);
      const u = this.cmd.view.u32;
      u[at] = op.type === "del" ? OP_DEL : OP_GET;
      u[at + 2] = op.ufid ? 1 : 0;
      this.writeUfid(u, at, op.ufid, op.type === "del" ? op.key : undefined);
      if (op.type === "del" && op.key) u.set(op.key.subarray(0, FLOW_WORDS), at + CMD_KEY);
    } else if (op.type === "flush") {
      at = this.reserve(2);
      this.cmd.view.u32[at] = OP_FLUSH;
    } else {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      const actWords = (nAct + 3) >> 2;
      const pktWords = (op.packet.length + 3) >> 2;
      const mdWords = op.md ? EXEC_MD_WORDS.length : 0;
      at = this.reserve(CMD_EXEC_ACTIONS + actWords + pktWords + mdWords);
      const u = this.cmd.view.u32;
      u[at] = OP_EXEC;
      u[at + 2] = op.inPort;
      u[at + 3] = nAct;
      u[at + 4] = (op.packet.length | (op.probe ? EXEC_PROBE : 0) | (op.md ? EXEC_HAS_MD : 0)) >>>
        0;
      this.cmd.view.u8.set(this.encoded.subarray(0, nAct), (at + CMD_EXEC_ACTIONS) * 4);
      this.cmd.view.u8.set(op.packet, (at + CMD_EXEC_ACTIONS + actWords) * 4);
      const mdAt = at + CMD_EXEC_ACTIONS + actWords + pktWords;
      for (let i = 0; i < mdWords; i++) u[mdAt + i] = op.md![EXEC_MD_WORDS[i]];
    }
    this.cmd.view.u32[at + 1] = req;
    return req;
  }

  private writeUfid(u: Uint32Array, at: number, ufid?: Uint32Array, key?: Uint32Array): void {
    if (ufid) u.set(ufid.subarray(0, 4), at + 4);
    else if (key) ufidFromKey(key, 0, u, at + 4);
  }

  private reserve(words: number): number {
    let since = -1;
    for (;;) {
      const at = this.cmd.reserve(words);
      if (at >= 0) return at;
      this.cmd.publish();
      this.shared.ringCommands();
      if (!this.pump()) {
        if (since < 0) since = performance.now();
        Atomics.wait(this.shared.ctl, 0, Atomics.load(this.shared.ctl, 0), 1);
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
    // Replies must fit the reply ring while their commands wait, so big
    // batches go in chunks. A reply carries a flow for a del or get, or a
    // put that asks; the rest are a few words, so a handler's whole batch
    // (puts and executes) is one round trip.
    for (let from = 0; from < ops.length;) {
      let to = from, budget = this.replyBudget;
      while (to < ops.length && to - from < OPERATE_CHUNK) {
        const op = ops[to];
        const withFlow = op.type === "del" || op.type === "get" ||
          (op.type === "put" && op.wantFlow === true);
        const w = recordWords(withFlow ? MAX_REPLY : SHORT_REPLY);
        if (w > budget && to > from) break;
        budget -= w;
        to++;
      }
      this.operateChunk(ops, from, to);
      from = to;
    }
  }

  private operateChunk(ops: DpifOp[], from: number, to: number): void {
    const reqs = this.reqs;
    for (let i = from; i < to; i++) reqs[i - from] = this.submit(ops[i]);
    this.cmd.publish();
    this.shared.ringCommands();
    this.pump();
    for (let i = from; i < to; i++) {
      const op = ops[i], req = reqs[i - from];
      if (req < 0) {
        op.error = -req;
        continue;
      }
      const at = this.awaitReply(req);
      const u = this.reply.view.u32;
      op.error = u[at + 1];
      if (u[at + RP_HAS_FLOW] && op.type !== "execute" && op.type !== "flush") {
        op.flow = readReplyFlow(u, this.reply.view.f64, this.reply.view.u8, at);
      }
      this.reply.release();
    }
  }

  /**
   * The reply to request `req`; replies to older requests (left over from
   * an operate that gave up) are skipped.
   */
  private awaitReply(req: number): number {
    // The clock is read only once a wait begins: most replies are there.
    let since = -1;
    for (;;) {
      const at = this.reply.next();
      if (at >= 0) {
        if (this.reply.view.u32[at] === req) return at;
        this.reply.release();
        continue;
      }
      if (this.pump()) continue;
      if (since < 0) since = performance.now();
      this.reply.wait(100);
      this.checkAlive(since);
    }
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
