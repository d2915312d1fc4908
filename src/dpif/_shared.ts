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
 */
import { ringRecordWords, RingView } from "../lib/mod.ts";
import { createConntrackBuffer } from "../conntrack/mod.ts";
import { eventfdSignal } from "../netdev/mod.ts";
import { FlowTable } from "./flow_table.ts";
import { UP_PACKET } from "./protocol.ts";

export const MAX_PORTS = 64;
export const MAX_CLIENTS = 32;
export const MAX_HANDLERS = 16;
/** PMD threads a datapath may have (other_config:pmd-cpu-mask bits set). */
export const MAX_PMDS = 16;
/** Rx queues a port may have (options:n_rxq). */
export const MAX_RXQ = 8;
/** The core id OVS gives its main thread's (non-PMD) poll context. */
export const NON_PMD_CORE_ID = 0xffff_ffff;
export const PORT_RING_WORDS = 1 << 15;
export const CMD_RING_WORDS = 1 << 15;
/**
 * Default upcall queue size per handler: about 19,000 upcalls of 64-byte
 * packets (8 MB; the pages of a handler that does not exist are never
 * touched), so that a burst of new flows waits for the handler instead of
 * being lost while it catches up, as OVS's synchronous userspace upcalls
 * never lose one.
 */
export const UPCALL_RING_WORDS = 1 << 21;

/**
 * How many MISS upcalls of `packetLen`-byte packets one handler's queue
 * holds: past that, while its handler takes none, a miss is lost (counted
 * in `lost`, as a failed upcall is in OVS).
 */
export function upcallQueueCapacity(packetLen: number, ringWords = UPCALL_RING_WORDS): number {
  return Math.floor(ringWords / ringRecordWords(UP_PACKET + ((packetLen + 3) >> 2)));
}

/** ctl word indices (the datapath's words). */
export const C_STOP = 2;
export const C_NEXT_CLIENT = 3;
export const C_N_HANDLERS = 4;
export const C_RECV_ENABLED = 5;
export const C_EMC_INV_PROB = 6;
/** Bumped when a port is added or removed, rx queues are reassigned, or the PMD set changes. */
export const C_PORTS_SEQ = 9;
/** other_config:vlan-limit + 1 for the PMD's flow_extract; 0 until the owner sets it. */
export const C_VLAN_LIMIT = 12;
/** other_config:smc-enable: 1 turns the PMD's signature match cache on. */
export const C_SMC_ENABLE = 15;
/** How many PMD slots are active (PC_ACTIVE); upcall queue h is fed by the one of rank h % this. */
export const C_N_ACTIVE_PMDS = 16;

/** A PMD's ctl word indices (`PmdShared.ctl`). */
export const PC_DOORBELL = 0;
export const PC_SLEEPING = 1;
export const PC_PMD_RUNNING = 2;
/** Bumped by a client after publishing commands to this PMD. */
export const PC_CMD_BELL = 3;
/** The generation of PMD allowed to run; a restart bumps it so a stale PMD stops. */
export const PC_PMD_GEN = 4;
/** 1 + the generation of the last PMD that stopped polling. */
export const PC_PMD_EXITED = 5;
/**
 * The eventfd the PMD sleeps on in poll(2) besides its ports' fds, made by
 * the PMD when it first has fd ports; 0 until then.
 */
export const PC_WAKE_FD = 6;
/**
 * The C_PORTS_SEQ value the PMD last applied: an fd taken from a port
 * before that change is no longer used, so its owner may close it.
 */
export const PC_PORTS_ACK = 7;
/** The core id of the PMD in this slot (NON_PMD_CORE_ID read as unsigned). */
export const PC_CORE = 8;
/** 1 while the slot holds a PMD (starting or running), 0 when free or stopping. */
export const PC_ACTIVE = 9;
/** The PMD's position among the active PMDs, by slot (its share of the upcall queues). */
export const PC_RANK = 10;
const PMD_CTL_WORDS = 16;

/** C_SLEEPING values: awake; asleep in Atomics.wait on C_DOORBELL; asleep in poll(2) on C_WAKE_FD. */
export const SLEEP_NONE = 0;
export const SLEEP_DOORBELL = 1;
export const SLEEP_POLL = 2;

/**
 * Per client: the last flow command request id it used, so that a client
 * taking over a dead thread's rings (DpifNetdev.open with its id) never
 * reuses an id whose stale reply may still be in the reply ring.
 */
export const C_CLIENT_REQ = 32;
/**
 * Per upcall queue: the PMD slot producing into it now, -1 for none. A
 * PMD claims a queue (compare-and-swap from -1) only once the previous
 * producer let it go, so each queue keeps one producer while the PMD set
 * changes.
 */
export const C_UPCALL_OWNER = C_CLIENT_REQ + MAX_CLIENTS;
const CTL_WORDS = C_UPCALL_OWNER + MAX_HANDLERS;

/** stats slots. */
export const ST_HIT = 0;
export const ST_MISSED = 1;
export const ST_LOST = 2;
export const ST_EMC_HIT = 3;
export const ST_MEGAFLOW_HIT = 4;
export const ST_SUBTABLE_LOOKUPS = 5;
export const ST_RX = 6;
export const ST_TX_DROPPED = 7;
/** Packets or commands whose processing threw (and were dropped). */
export const ST_ERRORS = 8;
/** Packets sent, and output batches (per port per poll round) they went in. */
export const ST_SENT_PKTS = 9;
export const ST_SENT_BATCHES = 10;
export const ST_SMC_HIT = 11;
/** Milliseconds the PMD spent on rounds that did work, and on rounds that found none. */
export const ST_BUSY_MS = 12;
export const ST_IDLE_MS = 13;
/** Poll rounds (OVS's iterations), and those that did work. */
export const ST_ITERATIONS = 14;
export const ST_BUSY_ITERATIONS = 15;
/** Packets that re-entered the pipeline by a recirc action (PMD_STAT_RECIRC). */
export const ST_RECIRC = 16;
/** Slots STATS_BASELINE.. hold each counter's value at the last pmd-stats-clear. */
export const STATS_BASELINE = 17;
/** The length (ms) of the PMD's last completed measuring interval; 0 before the first. */
export const ST_INTERVAL_MS = 34;
/** When the counters were last cleared (monotonic ms), for pmd-perf-show's duration. */
export const ST_CLEARED_AT = 35;
const STATS_SLOTS = 40;

/** port Int32 fields (PORT_I32 per port) and Float64 fields (PORT_F64 per port). */
export const P_ODP = 0;
export const P_ACTIVE = 1;
export const P_RECORD_TX = 2;
/** 1 + the fd of a port whose frames the PMD moves itself (system ports); 0 for ring ports. */
export const P_FD = 3;
/** 1 when the port's socket carries a virtio_net_hdr with each frame (offloads). */
export const P_VNET = 4;
/** 1 when the port's fd is a tap (read/write) rather than a packet socket. */
export const P_TAP = 5;
/** The port's rx queues (options:n_rxq; 1 for a system or tap port). */
export const P_N_RXQ = 6;
const PORT_I32 = 8;
export const PF_RX_PACKETS = 0;
export const PF_RX_BYTES = 1;
export const PF_TX_PACKETS = 2;
export const PF_TX_BYTES = 3;
export const PF_TX_DROPPED = 4;
export const PF_RX_DROPPED = 5;
const PORT_F64 = 8;
const ODP_MAP = 65536;
/**
 * Per rx queue, Float64: the processing time (ms) of the interval in
 * progress, then RXQ_INTERVALS completed intervals (a ring, next slot in
 * RQ_NEXT), as OVS keeps PMD_INTERVAL_MAX of each rxq's cycles.
 */
export const RXQ_INTERVALS = 12;
export const RQ_CURRENT = 0;
export const RQ_NEXT = 1;
export const RQ_HISTORY = 2;
const RXQ_F64 = RQ_HISTORY + RXQ_INTERVALS;
const N_RXQS = MAX_PORTS * MAX_RXQ;

/** The rx ring index of port index `i`'s queue `q`. */
export const rxqIndex = (i: number, q: number): number => i * MAX_RXQ + q;

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

const PORTS_BYTES = MAX_PORTS * PORT_I32 * 4;
const ODP_MAP_BYTES = ODP_MAP * 4;
/** rxqPmd, then rxqOwner. */
const RXQ_PMD_BYTES = 2 * N_RXQS * 4;
/** rxqFd. */
const RXQ_FD_BYTES = N_RXQS * 4;

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
  return {
    ctl,
    pmds: Array.from({ length: n }, (_, k) => {
      const pmdCtl = new SharedArrayBuffer(PMD_CTL_WORDS * 4);
      const words = new Int32Array(pmdCtl);
      words[PC_CORE] = k < cores.length ? cores[k] : NON_PMD_CORE_ID;
      words[PC_ACTIVE] = k < cores.length ? 1 : 0;
      words[PC_RANK] = k;
      return {
        table: FlowTable.create(flowCapacity, maskCapacity).sab,
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
    upcall: rings(MAX_HANDLERS, upcallWords),
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
