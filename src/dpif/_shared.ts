/**
 * Everything the netdev datapath shares between threads, as one plain
 * object of SharedArrayBuffers (`DatapathBuffers`) that the main thread
 * creates and posts once to each worker; `DatapathShared` is the typed
 * view every thread builds over it.
 *
 * - `ctl`: Int32 control words of the datapath (stop, client ids,
 *   handler count, upcall enable, EMC insert probability, ports seq).
 * - `pmds[k]`: what PMD k owns (OVS's dp_netdev_pmd_thread): its flow
 *   table (flow_table.ts has the protocol), its Int32 control words
 *   (PC_*: doorbell, sleep flag, generation, ...), its Float64 counters
 *   (ST_*, written by that PMD only) and, per dpif client, an SPSC
 *   command ring and reply ring for flow operations addressed to it. The
 *   number of PMD slots is fixed when the buffers are made; which are
 *   active, and their core ids, are control words (PC_ACTIVE, PC_CORE).
 * - `ports`: per port index: Int32 [odp port, active, record tx, 1 + fd,
 *   vnet header, tap, n_rxq] (and, per PMD, Float64 [rx packets, rx bytes,
 *   tx packets, tx bytes, tx dropped, rx dropped]); an Int32 odp-port -> index map; the
 *   Int32 rx queue -> PMD index assignment (rxq_scheduling's result, -1
 *   for none) and, per rx queue, Float64 processing-time intervals and the
 *   Int32 fd of a system port's extra queue (rxqFd).
 * - `rx[rxqIndex(i, q)]`: SPSC frame ring of port i's rx queue q (netdev ->
 *   the PMD that polls the queue); `tx[txqIndex(i, k)]`: PMD k's SPSC tx
 *   ring to port i (OVS's per-PMD tx queues). A port with an fd (a
 *   `system` port) uses neither: the PMD receives and sends on its socket.
 * - `upcall[h]`: SPSC upcall queue to handler h, from the active PMD of
 *   rank h % (active PMDs), which holds it in C_UPCALL_OWNER.
 *
 * The word indices, field slots and sizes named above are in
 * _shared_layout.ts, re-exported here.
 */
import { ringRecordWords, RingView } from "../lib/mod.ts";
import { createConntrackBuffer } from "../conntrack/mod.ts";
import { adviseHugePages, eventfdSignal } from "../netdev/mod.ts";
import { FlowTable } from "./flow_table.ts";
import { UP_PACKET } from "./protocol.ts";
import {
  C_N_ACTIVE_PMDS,
  C_N_HANDLERS,
  C_UPCALL_OWNER,
  CMD_RING_WORDS,
  CTL_WORDS,
  MAX_CLIENTS,
  MAX_HANDLERS,
  MAX_PMDS,
  MAX_PORTS,
  N_RXQS,
  NON_PMD_CORE_ID,
  ODP_MAP,
  ODP_MAP_BYTES,
  PC_ACTIVE,
  PC_CMD_BELL,
  PC_CORE,
  PC_DOORBELL,
  PC_RANK,
  PC_SLEEPING,
  PC_WAKE_FD,
  PMD_CTL_WORDS,
  PORT_F64,
  PORT_I32,
  PORT_RING_WORDS,
  PORTS_BYTES,
  RXQ_F64,
  RXQ_FD_BYTES,
  RXQ_PMD_BYTES,
  rxqIndex,
  SLEEP_NONE,
  SLEEP_POLL,
  STATS_SLOTS,
  UPCALL_RING_WORDS,
} from "./_shared_layout.ts";

export * from "./_shared_layout.ts";

/**
 * How many MISS upcalls of `packetLen`-byte packets one handler's queue
 * holds: past that, while its handler takes none, a miss is lost (counted
 * in `lost`, as a failed upcall is in OVS).
 */
export function upcallQueueCapacity(packetLen: number, ringWords = UPCALL_RING_WORDS): number {
  return Math.floor(ringWords / ringRecordWords(UP_PACKET + ((packetLen + 3) >> 2)));
}

/** What PMD k owns in shared memory. */
export interface PmdBuffers {
  table: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  /** Float64 port counters (PF_*) of the packets this PMD received and sent. */
  ports: SharedArrayBuffer;
  cmd: SharedArrayBuffer[];
  reply: SharedArrayBuffer[];
}

export interface DatapathBuffers {
  ctl: SharedArrayBuffer;
  pmds: PmdBuffers[];
  ports: SharedArrayBuffer;
  rx: SharedArrayBuffer[];
  tx: SharedArrayBuffer[];
  upcall: SharedArrayBuffer[];
  /** The connection tracker's table (src/conntrack), shared by every PMD. */
  conntrack: SharedArrayBuffer;
}

/** Connection slots; maxconns (ct-set-maxconns) limits below this. */
const CONNTRACK_CAPACITY = 1 << 16;

function rings(n: number, words: number): SharedArrayBuffer[] {
  return Array.from({ length: n }, () => new SharedArrayBuffer((32 + words) * 4));
}

/**
 * The buffers of a datapath whose PMDs run on `cores` (one PMD each, in
 * that order; [NON_PMD_CORE_ID] for the single main-thread PMD), with
 * room for `slots` PMDs (at least one per core) so that PMDs can be added
 * at run time (reconfigure_pmd_threads); a free slot's pages stay
 * untouched.
 */
export function createDatapathBuffers(
  flowCapacity: number,
  maskCapacity: number,
  upcallWords = UPCALL_RING_WORDS,
  cores: readonly number[] = [NON_PMD_CORE_ID],
  slots = cores.length,
): DatapathBuffers {
  const n = Math.max(slots, cores.length);
  if (cores.length < 1 || n > MAX_PMDS) {
    throw new RangeError(`a datapath has 1 to ${MAX_PMDS} PMDs, not ${cores.length}`);
  }
  const ports = new SharedArrayBuffer(
    PORTS_BYTES + ODP_MAP_BYTES + RXQ_PMD_BYTES + N_RXQS * RXQ_F64 * 8 + RXQ_FD_BYTES,
  );
  new Int32Array(ports, PORTS_BYTES, ODP_MAP + 2 * N_RXQS).fill(-1);
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  const ctlWords = new Int32Array(ctl);
  ctlWords[C_N_HANDLERS] = 1;
  ctlWords[C_N_ACTIVE_PMDS] = cores.length;
  ctlWords.fill(-1, C_UPCALL_OWNER, C_UPCALL_OWNER + MAX_HANDLERS);
  // A handler's queue is first written through by its first ~19 000
  // upcalls (a burst of new flows into a fresh switch): in huge pages, not
  // a fault every 4 KB. A queue no handler uses stays untouched either way.
  const upcall = rings(MAX_HANDLERS, upcallWords);
  for (const q of upcall) adviseHugePages(q);
  return {
    ctl,
    pmds: Array.from({ length: n }, (_, k) => {
      const pmdCtl = new SharedArrayBuffer(PMD_CTL_WORDS * 4);
      const words = new Int32Array(pmdCtl);
      words[PC_CORE] = k < cores.length ? cores[k] : NON_PMD_CORE_ID;
      words[PC_ACTIVE] = k < cores.length ? 1 : 0;
      words[PC_RANK] = k;
      const table = FlowTable.create(flowCapacity, maskCapacity).sab;
      // Read and written at random slots, filled as flows come (memory.ts).
      adviseHugePages(table);
      return {
        table,
        ctl: pmdCtl,
        stats: new SharedArrayBuffer(STATS_SLOTS * 8),
        ports: new SharedArrayBuffer(MAX_PORTS * PORT_F64 * 8),
        cmd: rings(MAX_CLIENTS, CMD_RING_WORDS),
        reply: rings(MAX_CLIENTS, CMD_RING_WORDS),
      };
    }),
    ports,
    rx: rings(N_RXQS, PORT_RING_WORDS),
    tx: rings(MAX_PORTS * n, PORT_RING_WORDS),
    upcall,
    conntrack: createConntrackBuffer(CONNTRACK_CAPACITY),
  };
}

/** One PMD's part of the datapath, as every thread sees it. */
export class PmdShared {
  readonly table: FlowTable;
  readonly ctl: Int32Array;
  readonly stats: Float64Array;
  /**
   * This PMD's share of the port counters (DatapathShared.portF indexes):
   * queues of one port may be polled by several PMDs, and each PMD sends
   * to every port, so each counts its own and readers add them up.
   */
  readonly portF64: Float64Array;
  readonly cmd: RingView[];
  readonly reply: RingView[];

  constructor(readonly index: number, b: PmdBuffers) {
    this.table = new FlowTable(b.table);
    this.ctl = new Int32Array(b.ctl);
    this.stats = new Float64Array(b.stats);
    this.portF64 = new Float64Array(b.ports);
    this.cmd = b.cmd.map((x) => new RingView(x));
    this.reply = b.reply.map((x) => new RingView(x));
  }

  /** The core id OVS names the thread by (NON_PMD_CORE_ID: the main thread). */
  get core(): number {
    return Atomics.load(this.ctl, PC_CORE) >>> 0;
  }

  /** Whether the slot holds a PMD (starting or running). */
  get active(): boolean {
    return Atomics.load(this.ctl, PC_ACTIVE) !== 0;
  }

  /** Tells the PMD a client has published commands, and wakes it. */
  ringCommands(): void {
    Atomics.add(this.ctl, PC_CMD_BELL, 1);
    this.ring();
  }

  /**
   * Wakes the PMD if it sleeps: producers call this after publishing. A
   * PMD asleep in poll(2) (it has fd ports) is woken through its eventfd,
   * otherwise through the doorbell word.
   */
  ring(): void {
    Atomics.add(this.ctl, PC_DOORBELL, 1);
    const sleeping = Atomics.load(this.ctl, PC_SLEEPING);
    if (sleeping === SLEEP_POLL) {
      const fd = Atomics.load(this.ctl, PC_WAKE_FD);
      if (fd > 0) eventfdSignal(fd);
    } else if (sleeping !== SLEEP_NONE) Atomics.notify(this.ctl, PC_DOORBELL);
  }
}

export class DatapathShared {
  readonly ctl: Int32Array;
  readonly pmds: PmdShared[];
  readonly portI32: Int32Array;
  /** odp port number -> port index, -1 if none. */
  readonly odpToIndex: Int32Array;
  /** rxqIndex(i, q) -> index of the PMD that polls it, -1 if none. */
  readonly rxqPmd: Int32Array;
  /**
   * rxqIndex(i, q) -> index of the PMD that polls it now, -1 if none: a
   * PMD claims a queue assigned to it (compare-and-swap from -1) only
   * after the previous one let it go, so no two PMDs ever consume one
   * ring, even while a reassignment spreads.
   */
  readonly rxqOwner: Int32Array;
  /** Per rx queue: RQ_* Float64 processing-time slots. */
  readonly rxqTime: Float64Array;
  /**
   * rxqIndex(i, q) -> 1 + the fd of queue q (q >= 1) of a system port with
   * several rx queues (a socket of its PACKET_FANOUT group), 0 for none;
   * queue 0 is the port's own fd (P_FD), which also sends.
   */
  readonly rxqFd: Int32Array;
  readonly rx: RingView[];
  readonly tx: RingView[];
  readonly upcall: RingView[];

  constructor(readonly buffers: DatapathBuffers) {
    this.ctl = new Int32Array(buffers.ctl);
    this.pmds = buffers.pmds.map((b, k) => new PmdShared(k, b));
    this.portI32 = new Int32Array(buffers.ports, 0, MAX_PORTS * PORT_I32);
    this.odpToIndex = new Int32Array(buffers.ports, PORTS_BYTES, ODP_MAP);
    this.rxqPmd = new Int32Array(buffers.ports, PORTS_BYTES + ODP_MAP_BYTES, N_RXQS);
    this.rxqOwner = new Int32Array(buffers.ports, PORTS_BYTES + ODP_MAP_BYTES + N_RXQS * 4, N_RXQS);
    this.rxqTime = new Float64Array(
      buffers.ports,
      PORTS_BYTES + ODP_MAP_BYTES + RXQ_PMD_BYTES,
      N_RXQS * RXQ_F64,
    );
    this.rxqFd = new Int32Array(
      buffers.ports,
      PORTS_BYTES + ODP_MAP_BYTES + RXQ_PMD_BYTES + N_RXQS * RXQ_F64 * 8,
      N_RXQS,
    );
    this.rx = buffers.rx.map((b) => new RingView(b));
    this.tx = buffers.tx.map((b) => new RingView(b));
    this.upcall = buffers.upcall.map((b) => new RingView(b));
  }

  /** PMD slots (active or not): the bound of PMD indices. */
  get nPmds(): number {
    return this.pmds.length;
  }

  /** The indices of the active PMDs, in slot order. */
  activePmds(): number[] {
    const out = [];
    for (let k = 0; k < this.pmds.length; k++) if (this.pmds[k].active) out.push(k);
    return out;
  }

  portI(index: number, field: number): number {
    return index * PORT_I32 + field;
  }

  portF(index: number, field: number): number {
    return index * PORT_F64 + field;
  }

  /** The rx ring index of port index `i`'s queue `q`. */
  rxqIndex(i: number, q: number): number {
    return rxqIndex(i, q);
  }

  /** The first RQ_* slot of rx queue `rxq` (rxqIndex) in rxqTime. */
  rxqT(rxq: number): number {
    return rxq * RXQ_F64;
  }

  /** PMD k's tx ring index to port index `i`. */
  txqIndex(i: number, k: number): number {
    return i * this.pmds.length + k;
  }

  /**
   * The upcall queue the PMD of rank `rank` among `nActive` active PMDs
   * puts an upcall of flow hash `hash` on when `nHandlers` handlers run,
   * or -1 when none of them is its. Handler h reads only queue h, which
   * only the PMD of rank h % nActive writes (and owns: C_UPCALL_OWNER):
   * each queue keeps one producer and one consumer, and a PMD spreads its
   * upcalls over its handlers by hash.
   */
  upcallQueue(rank: number, hash: number, nHandlers: number, nActive: number): number {
    const p = Math.max(1, nActive);
    if (nHandlers <= rank) return -1;
    const mine = Math.floor((nHandlers - 1 - rank) / p) + 1;
    return mine > 1 ? rank + p * ((hash >>> 0) % mine) : rank;
  }

  /** Wakes every active PMD (a change they all must see). */
  ringAll(): void {
    for (const p of this.pmds) if (p.active) p.ring();
  }
}
