/**
 * The PMD's upcall side: a miss or a userspace action queues the packet,
 * its flow key and UFID, and any userdata on the upcall queue of the
 * handler the flow hash selects (a full queue, or upcalls disabled, loses
 * it and counts it, as OVS's dp_netdev_upcall failing does). Each PMD has
 * its own handlers' queues (DatapathShared.upcallQueue, by its rank among
 * the active PMDs), so every queue keeps one producer: when the PMD set
 * changes (`refresh`), a PMD lets go of the queues no longer its own, and
 * claims a queue (C_UPCALL_OWNER) when it first uses it; until its
 * previous producer let it go, the upcall is lost. Queues are
 * published once per poll round (`publish`).
 *
 * Handlers take plain frames: a packet with offloads (from a system port)
 * is finished in software first, a TCP super-frame going up as its
 * segments, one upcall each (the last one carries `last`).
 *
 * Thread-safety: owned by one Pmd, used only on its thread; nothing here
 * allocates after construction.
 */
import { FLOW_WORDS, ufidFromKey } from "../flow/mod.ts";
import { coverageCounter, RingProducer } from "../lib/mod.ts";
import { GSO_NONE, type PacketBuffer } from "../packet/mod.ts";
import { SoftwareOffload } from "./_pmd_offload.ts";
import {
  C_N_ACTIVE_PMDS,
  C_N_HANDLERS,
  C_RECV_ENABLED,
  C_UPCALL_OWNER,
  type DatapathShared,
  MAX_HANDLERS,
  PC_RANK,
  type PmdShared,
  ST_LOST,
  ST_MISSED,
} from "./_shared.ts";
import { UP_KEY, UP_PACKET, UPCALL_MISS } from "./protocol.ts";

/** A miss whose upcall could not be queued (dp_netdev_upcall failed): dropped, counted lost. */
const covDropUpcallError = coverageCounter("datapath_drop_upcall_error");

export class PmdUpcalls {
  /** Per upcall queue; made anew when this PMD claims the queue. */
  private readonly up: RingProducer[];
  private readonly dirty = new Uint8Array(32);
  private readonly soft = new SoftwareOffload();
  /** Per upcall queue: 1 when this PMD holds it (C_UPCALL_OWNER). */
  private readonly owned = new Uint8Array(MAX_HANDLERS);
  private rank = 0;
  private nActive = 1;
  private portsSeq = -1;

  /**
   * `pkt` is the PMD's packet (`frame` its word view), `key` its flow key,
   * `st` the PMD's round counters (ST_* slots).
   */
  constructor(
    private readonly shared: DatapathShared,
    private readonly pmd: PmdShared,
    private readonly pkt: PacketBuffer,
    private readonly frame: Uint32Array,
    private readonly key: Uint32Array,
    private readonly st: Float64Array,
  ) {
    this.up = shared.upcall.map((v) => new RingProducer(v));
  }

  /**
   * After port or PMD set change `portsSeq` (between rounds, with nothing
   * queued unpublished): re-reads this PMD's rank and lets go of the
   * queues that are no longer its own.
   */
  refresh(portsSeq: number): void {
    if (portsSeq === this.portsSeq) return;
    this.portsSeq = portsSeq;
    const sh = this.shared, me = this.pmd.index;
    this.rank = Atomics.load(this.pmd.ctl, PC_RANK);
    this.nActive = Math.max(1, Atomics.load(sh.ctl, C_N_ACTIVE_PMDS));
    for (let q = 0; q < MAX_HANDLERS; q++) {
      if (this.owned[q] && q % this.nActive !== this.rank) {
        this.owned[q] = 0;
        Atomics.compareExchange(sh.ctl, C_UPCALL_OWNER + q, me, -1);
      }
    }
  }

  /** Queues the packet for a handler (UPCALL_MISS or UPCALL_ACTION with `ud[udAt..]`). */
  queue(
    type: number,
    inPort: number,
    h: number,
    udLen: number,
    udAt: number,
    ud?: Uint8Array,
    last = false,
  ): void {
    const pkt = this.pkt, soft = this.soft;
    const n = pkt.hasOffloads ? soft.prepare(pkt, pkt.len) : 1;
    if (n === 0) {
      this.st[ST_LOST]++;
    } else if (pkt.gsoType === GSO_NONE) {
      this.queueFrame(type, inPort, h, udLen, udAt, ud, last, this.frame, pkt.len);
    } else {
      for (let s = 0; s < n; s++) {
        const len = soft.segment(pkt, pkt.len, s);
        this.queueFrame(type, inPort, h, udLen, udAt, ud, last && s === n - 1, soft.seg32, len);
      }
    }
  }

  private queueFrame(
    type: number,
    inPort: number,
    h: number,
    udLen: number,
    udAt: number,
    ud: Uint8Array | undefined,
    last: boolean,
    frame: Uint32Array,
    len: number,
  ): void {
    const sh = this.shared, st = this.st;
    if (Atomics.load(sh.ctl, C_RECV_ENABLED) === 0) {
      st[ST_LOST]++;
      if (type === UPCALL_MISS) covDropUpcallError.inc();
      return;
    }
    const q = sh.upcallQueue(this.rank, h, Atomics.load(sh.ctl, C_N_HANDLERS), this.nActive);
    if (q >= 0 && !this.owned[q]) {
      const me = this.pmd.index;
      const was = Atomics.compareExchange(sh.ctl, C_UPCALL_OWNER + q, -1, me);
      if (was === -1 || was === me) {
        this.owned[q] = 1;
        // Write on from where the queue's previous producer stopped.
        this.up[q] = new RingProducer(sh.upcall[q]);
      }
    }
    if (q < 0 || !this.owned[q]) {
      st[ST_LOST]++;
      if (type === UPCALL_MISS) covDropUpcallError.inc();
      return;
    }
    const r = this.up[q];
    const pw = (len + 3) >> 2, uw = (udLen + 3) >> 2;
    const at = r.reserve(UP_PACKET + pw + uw);
    if (at < 0) {
      st[ST_LOST]++;
      if (type === UPCALL_MISS) covDropUpcallError.inc();
      return;
    }
    const u32 = r.view.u32;
    u32[at] = type;
    u32[at + 1] = inPort;
    u32[at + 2] = h;
    u32[at + 3] = len;
    u32[at + 4] = udLen;
    u32[at + 5] = (last ? 1 : 0) | (this.pmd.index << 8);
    const key = this.key;
    ufidFromKey(key, 0, u32, at + 6);
    for (let i = 0; i < FLOW_WORDS; i++) u32[at + UP_KEY + i] = key[i];
    for (let w = 0; w < pw; w++) u32[at + UP_PACKET + w] = frame[w];
    if (ud) {
      const u8 = r.view.u8, o = (at + UP_PACKET + pw) * 4;
      for (let i = 0; i < udLen; i++) u8[o + i] = ud[udAt + i];
    }
    this.dirty[q] = 1;
    if (type === UPCALL_MISS) st[ST_MISSED]++;
  }

  /** Publishes the queues written this round. */
  publish(): void {
    for (let q = 0; q < this.dirty.length && q < this.up.length; q++) {
      if (this.dirty[q]) {
        this.dirty[q] = 0;
        this.up[q].publish();
      }
    }
  }
}
