/**
 * OpenFlow 1.5's flow statistics as OXS fields (OVS's lib/ox-stat.c
 * oxs_put_stats): an ofp_oxs_stat header, then each known statistic as a
 * class-0x8002 field, padded to 8 bytes. Flow stats, the aggregate reply
 * and flow-removed carry them in OpenFlow 1.5.
 */
import type { WireWriter } from "./_buf.ts";

const OXS_CLASS = 0x8002;
const DURATION = 0;
const IDLE_TIME = 1;
const FLOW_COUNT = 3;
const PACKET_COUNT = 4;
const BYTE_COUNT = 5;

/** The statistics an OXS block carries; an absent one is left out (OVS's all-ones). */
export interface OxsStats {
  durationMs?: number;
  /** Whole seconds since the flow was last used. */
  idleSecs?: number;
  packets?: bigint;
  bytes?: bigint;
  flows?: number;
}

function field(w: WireWriter, f: number, len: number): void {
  w.u32(((OXS_CLASS << 16) | (f << 9) | len) >>> 0);
}

export function putOxsStats(w: WireWriter, s: OxsStats): void {
  const start = w.length;
  w.u16(0).u16(0);
  if (s.durationMs !== undefined) {
    field(w, DURATION, 8);
    w.u32(Math.floor(s.durationMs / 1000)).u32((s.durationMs % 1000) * 1_000_000);
  }
  if (s.idleSecs !== undefined) {
    field(w, IDLE_TIME, 8);
    w.u32(s.idleSecs).u32(0);
  }
  if (s.packets !== undefined) {
    field(w, PACKET_COUNT, 8);
    w.u64(s.packets);
  }
  if (s.bytes !== undefined) {
    field(w, BYTE_COUNT, 8);
    w.u64(s.bytes);
  }
  if (s.flows !== undefined) {
    field(w, FLOW_COUNT, 4);
    w.u32(s.flows);
  }
  w.setU16(start + 2, w.length - start);
  w.pad8();
}
