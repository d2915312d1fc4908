/** Random flow keys and masks within what datapath-flow text can express (for tests). */
import { newKey } from "../../../src/flow/key.ts";
import {
  F,
  type FieldSpan,
  FRAG_ANY,
  FRAG_LATER,
  FRAG_MASK,
  vlanOffset,
} from "../../../src/flow/layout.ts";

let seed = 0x2545f491;
/** Restarts the generator from `s` (nonzero), so a run can be replayed. */
export function seedTestgen(s: number): void {
  seed = s | 0 || 0x2545f491;
}
export function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];

export class Gen {
  readonly key = newKey();
  readonly mask = newKey();
  readonly k = new Uint8Array(this.key.buffer);
  readonly m = new Uint8Array(this.mask.buffer);

  /** Random value and a mask that is empty, full or random. */
  field(s: FieldSpan | { off: number; len: number }, full = false): void {
    const kind = full ? 1 : rnd(3);
    for (let i = 0; i < s.len; i++) {
      this.k[s.off + i] = rnd(256);
      this.m[s.off + i] = kind === 0 ? 0 : kind === 1 ? 0xff : rnd(256);
    }
  }

  set(off: number, len: number, v: number, mv: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.k[off + i] = v & 0xff;
      this.m[off + i] = mv & 0xff;
      v = Math.floor(v / 256);
      mv = Math.floor(mv / 256);
    }
  }
}

export function randomFlow(): Gen {
  const g = new Gen();
  for (
    const f of [
      F.skb_priority,
      F.pkt_mark,
      F.recirc_id,
      F.dp_hash,
      F.ct_mark,
      F.ct_zone,
      F.ct_label,
    ]
  ) {
    g.field(f);
  }
  g.field(F.ct_state);
  g.set(F.in_port.off, 4, rnd(65536), 0xffffffff);
  g.set(F.packet_type.off, 4, 0, pick([0, 0xffffffff]));
  g.field(F.dl_dst);
  g.field(F.dl_src);
  const dlType = pick([0x0800, 0x86dd, 0x0806, 0x8847, 0x88cc]);
  g.set(F.dl_type.off, 2, dlType, 0xffff);
  const nVlans = rnd(3);
  for (let i = 0; i < nVlans; i++) {
    const o = vlanOffset(i);
    g.set(o, 2, i === 0 && nVlans === 2 ? 0x88a8 : 0x8100, 0xffff);
    g.set(o + 2, 2, rnd(65536) | 0x1000, rnd(65536) | 0x1000);
  }
  if (nVlans === 0) g.set(vlanOffset(0), 4, 0, 0xffffffff);
  if (dlType === 0x0800 || dlType === 0x86dd) {
    const v4 = dlType === 0x0800;
    if (v4) {
      g.field(F.nw_src);
      g.field(F.nw_dst);
    } else {
      g.field(F.ipv6_src);
      g.field(F.ipv6_dst);
      const lm = pick([0, 0xffffffff, rnd(0xfffff)]);
      g.set(F.ipv6_label.off, 4, rnd(0x100000), lm === 0xfffff ? 0xffffffff : lm);
    }
    g.field(F.nw_tos);
    g.field(F.nw_ttl);
    const proto = v4 ? pick([6, 17, 132, 1, 47]) : pick([6, 17, 58, 58]);
    // The protocol decides which L4 attribute exists, so a flow that has
    // one always matches it exactly; likewise a fragment type without a
    // mask has no text (frag= is not printed then, even with -m).
    g.set(F.nw_proto.off, 1, proto, 0xff);
    const fragMask = pick([0, FRAG_MASK, FRAG_MASK]);
    const frag = fragMask ? pick([0, FRAG_ANY, FRAG_ANY | FRAG_LATER, 0, 0]) : 0;
    g.set(F.nw_frag.off, 1, frag, fragMask);
    if (!(frag & FRAG_LATER)) {
      if (proto === 6 || proto === 17 || proto === 132) {
        g.field(F.tp_src);
        g.field(F.tp_dst);
        if (proto === 6) {
          const fm = pick([0, 0xffff, rnd(0x1000)]);
          // Masked flags print as +flag/-flag: bits outside the mask have no text.
          g.set(F.tcp_flags.off, 2, rnd(0x1000) & fm, fm);
        }
      } else if (proto === 1 || proto === 58) {
        const nd = proto === 58 && rnd(2) === 1;
        const type = nd ? pick([135, 136]) : rnd(256);
        const exact = nd || rnd(2) === 1;
        g.set(F.tp_src.off, 2, type, exact ? 0xff : rnd(256));
        g.set(F.tp_dst.off, 2, nd ? 0 : rnd(256), exact ? 0xff : rnd(256));
        if (nd) {
          g.field(F.nd_target);
          g.field(F.arp_sha);
          g.field(F.arp_tha);
        }
      }
    }
  } else if (dlType === 0x0806) {
    g.field(F.nw_src);
    g.field(F.nw_dst);
    g.set(F.nw_proto.off, 1, rnd(256), pick([0, 0xff, rnd(256)]));
    g.field(F.arp_sha);
    g.field(F.arp_tha);
  } else if (dlType === 0x8847) {
    const n = 1 + rnd(3);
    const exact = rnd(2) === 1;
    for (let i = 0; i < n; i++) {
      const lse =
        ((rnd(0x100000) << 12) | (rnd(8) << 9) | (i === n - 1 ? 0x100 : 0) | (1 + rnd(255))) >>> 0;
      g.set(F.mpls_lse.off + 4 * i, 4, lse, exact ? 0xffffffff : rnd(0x100000000));
    }
  }
  return g;
}
