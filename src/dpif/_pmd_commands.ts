/**
 * The PMD serving one dpif client's command ring: each command is done on
 * the spot and answered on the client's reply ring, in order. A command is
 * only taken when its answer is sure to fit, so a slow client stalls
 * itself, never the PMD.
 */
import type { RingView } from "../lib/mod.ts";
import { ETH_HEADER_LEN } from "../packet/mod.ts";
import type { Pmd } from "./pmd.ts";
import {
  CMD_EXEC_ACTIONS,
  CMD_KEY,
  CMD_MASK,
  CMD_PUT_ACTIONS,
  EINVAL,
  ENOENT,
  EXEC_HAS_MD,
  EXEC_PROBE,
  OP_DEL,
  OP_EXEC,
  OP_FLUSH,
  OP_GET,
  OP_PUT,
  PUT_WANT_FLOW,
  RP_ACTIONS,
  RP_HAS_FLOW,
  RP_KEY,
  RP_MASK,
} from "./protocol.ts";
import { ACT_MAX_BYTES } from "./flow_table.ts";

/** Payload words of the largest reply (one with a flow) and of one without. */
export const MAX_REPLY = RP_ACTIONS + ACT_MAX_BYTES / 4;
export const SHORT_REPLY = RP_HAS_FLOW + 1;
const MAX_PER_ROUND = 256;

export function servePmdCommands(pmd: Pmd, c: number): number {
  const cmd = pmd.cmd[c], reply = pmd.reply[c];
  const u = cmd.view.u32;
  let n = 0;
  let took = false;
  for (; n < MAX_PER_ROUND; n++) {
    if (!cmd.hasData()) break;
    const rp = reply.reserve(MAX_REPLY);
    if (rp < 0) break;
    const at = cmd.next();
    took = true;
    const r = reply.view.u32;
    r[rp] = u[at + 1];
    r[rp + 1] = 0;
    r[rp + RP_HAS_FLOW] = 0;
    try {
      switch (u[at]) {
        case OP_PUT: {
          const res = pmd.ops.put(
            u,
            cmd.view.u8,
            at + 4,
            at + CMD_KEY,
            at + CMD_MASK,
            at + CMD_PUT_ACTIONS,
            u[at + 3],
            u[at + 2],
            pmd.now,
          );
          if (res < 0) r[rp + 1] = -res;
          else {
            pmd.cache.installed(u, at + CMD_KEY, res);
            if (u[at + 2] & PUT_WANT_FLOW) writeFlow(pmd, res, reply.view, rp);
          }
          break;
        }
        case OP_DEL: {
          const slot = u[at + 2]
            ? pmd.ops.findUfid(u, at + 4)
            : pmd.ops.dpcls.lookup(u, at + CMD_KEY);
          if (slot < 0) r[rp + 1] = ENOENT;
          else {
            writeFlow(pmd, slot, reply.view, rp);
            pmd.ops.remove(slot);
          }
          break;
        }
        case OP_GET: {
          const slot = pmd.ops.findUfid(u, at + 4);
          if (slot < 0) r[rp + 1] = ENOENT;
          else writeFlow(pmd, slot, reply.view, rp);
          break;
        }
        case OP_FLUSH:
          pmd.ops.flush();
          break;
        case OP_EXEC: {
          const nAct = u[at + 3], probe = (u[at + 4] & EXEC_PROBE) !== 0;
          const fullLen = u[at + 4] & ~(EXEC_PROBE | EXEC_HAS_MD);
          if (probe) {
            // dpif_netdev_execute: a frame shorter than an Ethernet header
            // or longer than 64 KiB is refused; a probe then goes no further.
            if (fullLen < ETH_HEADER_LEN || fullLen > 0xffff) r[rp + 1] = EINVAL;
            break;
          }
          const len = Math.min(fullLen, pmd.buf.length);
          const pktAt = at + CMD_EXEC_ACTIONS + ((nAct + 3) >> 2);
          for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) pmd.bufU32[w] = u[pktAt + w];
          pmd.pkt.len = len;
          pmd.extract(pmd.buf, len, u[at + 2], pmd.key);
          const mdAt = u[at + 4] & EXEC_HAS_MD ? pktAt + ((fullLen + 3) >> 2) : -1;
          pmd.execute(cmd.view.u8, (at + CMD_EXEC_ACTIONS) * 4, nAct, u[at + 2], 0, u, mdAt);
          break;
        }
        default:
          r[rp + 1] = EINVAL;
      }
    } catch {
      // A malformed command gets EINVAL; the PMD carries on.
      r[rp + 1] = EINVAL;
      r[rp + RP_HAS_FLOW] = 0;
      pmd.countError();
    }
    // Room for a flow is reserved for every command; most need none.
    if (r[rp + RP_HAS_FLOW] === 0) reply.shrinkLast(rp, SHORT_REPLY);
  }
  if (took) {
    cmd.release();
    // Counters and frames from executes are visible before the replies.
    pmd.flush();
    reply.publish();
  }
  return n;
}

/** Copies slot `slot` (a live flow) into the reply at `rp`. */
function writeFlow(pmd: Pmd, slot: number, view: RingView, rp: number): void {
  const r = view.u32, f = view.f64, r8 = view.u8;
  const t = pmd.me.table;
  const nAct = t.actionBytes(slot);
  r[rp + RP_HAS_FLOW] = 1;
  r[rp + 3] = nAct;
  r[rp + 4] = t.meta(slot, 4);
  const fi = (rp + 5) >> 1;
  const s = t.statsBase + slot * 4;
  f[fi] = t.f64[s];
  f[fi + 1] = t.f64[s + 1];
  f[fi + 2] = t.f64[s + 2];
  const u = t.ufidBase + slot * 4;
  for (let i = 0; i < 4; i++) r[rp + 12 + i] = t.u32[u + i];
  t.copyFlow(slot, r, rp + RP_KEY, rp + RP_MASK, r8, (rp + RP_ACTIONS) * 4);
}
