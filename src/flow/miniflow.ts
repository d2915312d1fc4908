/**
 * `dp-extra-info:miniflow_bits(A,B)`: how many 64-bit words of OVS's
 * `struct flow` a datapath flow's mask touches, in miniflow map unit 0
 * (words 0..63) and unit 1 (words 64..83). Our key starts at word 43 of
 * struct flow (after the tunnel), so key word i is flow word 43 + i.
 *
 * The userspace datapath leaves in_port out of the stored mask (it picks
 * the classifier by port instead), so in_port never counts.
 */
import type { FlowKey } from "./key.ts";
import { F, MAP_UNIT_BITS, OVS_TUNNEL_BYTES } from "./layout.ts";

const FIRST_U64 = OVS_TUNNEL_BYTES / 8;
const IN_PORT_WORD = F.in_port.off / 4;

/** Counts into out[0] and out[1]; allocation-free. */
export function miniflowBits(mask: FlowKey, out: Uint32Array | number[] = [0, 0]): typeof out {
  out[0] = 0;
  out[1] = 0;
  for (let w = 0; w + 1 < mask.length; w += 2) {
    const hi = w === IN_PORT_WORD ? 0 : mask[w];
    const lo = w + 1 === IN_PORT_WORD ? 0 : mask[w + 1];
    if (hi === 0 && lo === 0) continue;
    const u64 = FIRST_U64 + w / 2;
    out[u64 < MAP_UNIT_BITS ? 0 : 1]++;
  }
  return out;
}

export function miniflowBitsInfo(mask: FlowKey): string {
  const b = miniflowBits(mask);
  return `miniflow_bits(${b[0]},${b[1]})`;
}
