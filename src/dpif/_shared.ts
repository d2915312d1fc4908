/**
 * Everything the netdev datapath shares between threads, as one plain
 * object of SharedArrayBuffers (`DatapathBuffers`) that the main thread
 * creates and posts once to each worker; `DatapathShared` is the typed
 * view every thread builds over it.
 *
 * - `table`: the PMD's flow table (flow_table.ts has its protocol).
 * - `ctl`: Int32 control words (doorbell, sleep flag, stop, client ids,
 *   handler count, upcall enable, EMC insert probability).
 * - `stats`: Float64 datapath counters, written by the PMD only.
 * - `ports`: per port index: Int32 [odp port, active, record tx, 1 + fd,
 *   vnet header, tap] and Float64 [rx packets, rx bytes, tx packets, tx bytes,
 *   tx dropped, rx dropped];
 *   plus an Int32 odp-port -> index map.
 * - `rx[i]`/`tx[i]`: SPSC frame rings per port index (netdev -> PMD,
 *   PMD -> netdev). A port with an fd (a `system` port) uses neither: the
 *   PMD receives and sends on its socket itself.
 * - `cmd[c]`/`reply[c]`: SPSC rings per dpif client (a thread's dpif
 *   handle) for flow operations and their answers.
 * - `upcall[h]`: SPSC upcall queue per handler (PMD -> handler h).
 */
import { ringRecordWords, RingView } from "../lib/mod.ts";
import { createConntrackBuffer } from "../conntrack/mod.ts";
import { eventfdSignal } from "../netdev/mod.ts";
import { FlowTable } from "./flow_table.ts";
import { UP_PACKET } from "./protocol.ts";

export const MAX_PORTS = 64;
export const MAX_CLIENTS = 32;
export const MAX_HANDLERS = 16;
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

/** ctl word indices. */
export const C_DOORBELL = 0;
export const C_SLEEPING = 1;
export const C_STOP = 2;
export const C_NEXT_CLIENT = 3;
export const C_N_HANDLERS = 4;
export const C_RECV_ENABLED = 5;
export const C_EMC_INV_PROB = 6;
export const C_PMD_RUNNING = 7;
/** Bumped by a client after publishing commands. */
export const C_CMD_BELL = 8;
/** Bumped when a port is added or removed. */
export const C_PORTS_SEQ = 9;
/** The generation of PMD allowed to run; a restart bumps it so a stale PMD stops. */
export const C_PMD_GEN = 10;
/** 1 + the generation of the last PMD that stopped polling. */
export const C_PMD_EXITED = 11;
/** other_config:vlan-limit + 1 for the PMD's flow_extract; 0 until the owner sets it. */
export const C_VLAN_LIMIT = 12;
/**
 * The eventfd the PMD sleeps on in poll(2) besides its ports' fds, made by
 * the PMD when it first has fd ports; 0 until then.
 */
export const C_WAKE_FD = 13;
/** other_config:smc-enable: 1 turns the PMD's signature match cache on. */
export const C_SMC_ENABLE = 15;

/**
 * The C_PORTS_SEQ value the PMD last applied: an fd taken from a port
 * before that change is no longer used, so its owner may close it.
 */
export const C_PORTS_ACK = 14;

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
const CTL_WORDS = C_CLIENT_REQ + MAX_CLIENTS;

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
/** Packets that re-entered the pipeline by a recirc action (PMD_STAT_RECIRC). */
export const ST_RECIRC = 12;
/** Slots STATS_BASELINE.. hold each counter's value at the last pmd-stats-clear. */
export const STATS_BASELINE = 16;
const STATS_SLOTS = 32;

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
const PORT_I32 = 8;
export const PF_RX_PACKETS = 0;
export const PF_RX_BYTES = 1;
export const PF_TX_PACKETS = 2;
export const PF_TX_BYTES = 3;
export const PF_TX_DROPPED = 4;
export const PF_RX_DROPPED = 5;
const PORT_F64 = 8;
const ODP_MAP = 65536;

export interface DatapathBuffers {
  table: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  ports: SharedArrayBuffer;
  rx: SharedArrayBuffer[];
  tx: SharedArrayBuffer[];
  cmd: SharedArrayBuffer[];
  reply: SharedArrayBuffer[];
  upcall: SharedArrayBuffer[];
  /** The connection tracker's table (src/conntrack), shared by every PMD. */
  conntrack: SharedArrayBuffer;
}

/** Connection slots; maxconns (ct-set-maxconns) limits below this. */
const CONNTRACK_CAPACITY = 1 << 16;

function rings(n: number, words: number): SharedArrayBuffer[] {
  return Array.from({ length: n }, () => new SharedArrayBuffer((32 + words) * 4));
}

export function createDatapathBuffers(
  flowCapacity: number,
  maskCapacity: number,
  upcallWords = UPCALL_RING_WORDS,
): DatapathBuffers {
  const ports = new SharedArrayBuffer(MAX_PORTS * (PORT_I32 * 4 + PORT_F64 * 8) + ODP_MAP * 4);
  new Int32Array(ports, MAX_PORTS * (PORT_I32 * 4 + PORT_F64 * 8)).fill(-1);
  const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
  new Int32Array(ctl)[C_N_HANDLERS] = 1;
  return {
    table: FlowTable.create(flowCapacity, maskCapacity).sab,
    ctl,
    stats: new SharedArrayBuffer(STATS_SLOTS * 8),
    ports,
    rx: rings(MAX_PORTS, PORT_RING_WORDS),
    tx: rings(MAX_PORTS, PORT_RING_WORDS),
    cmd: rings(MAX_CLIENTS, CMD_RING_WORDS),
    reply: rings(MAX_CLIENTS, CMD_RING_WORDS),
    upcall: rings(MAX_HANDLERS, upcallWords),
    conntrack: createConntrackBuffer(CONNTRACK_CAPACITY),
  };
}

export class DatapathShared {
  readonly table: FlowTable;
  readonly ctl: Int32Array;
  readonly stats: Float64Array;
  readonly portI32: Int32Array;
  readonly portF64: Float64Array;
  /** odp port number -> port index, -1 if none. */
  readonly odpToIndex: Int32Array;
  readonly rx: RingView[];
  readonly tx: RingView[];
  readonly cmd: RingView[];
  readonly reply: RingView[];
  readonly upcall: RingView[];

  constructor(readonly buffers: DatapathBuffers) {
    this.table = new FlowTable(buffers.table);
    this.ctl = new Int32Array(buffers.ctl);
    this.stats = new Float64Array(buffers.stats);
    this.portI32 = new Int32Array(buffers.ports, 0, MAX_PORTS * PORT_I32);
    this.portF64 = new Float64Array(buffers.ports, MAX_PORTS * PORT_I32 * 4, MAX_PORTS * PORT_F64);
    this.odpToIndex = new Int32Array(
      buffers.ports,
      MAX_PORTS * (PORT_I32 * 4 + PORT_F64 * 8),
      ODP_MAP,
    );
    this.rx = buffers.rx.map((b) => new RingView(b));
    this.tx = buffers.tx.map((b) => new RingView(b));
    this.cmd = buffers.cmd.map((b) => new RingView(b));
    this.reply = buffers.reply.map((b) => new RingView(b));
    this.upcall = buffers.upcall.map((b) => new RingView(b));
  }

  portI(index: number, field: number): number {
    return index * PORT_I32 + field;
  }

  portF(index: number, field: number): number {
    return index * PORT_F64 + field;
  }

  /** Tells the PMD a client has published commands, and wakes it. */
  ringCommands(): void {
    Atomics.add(this.ctl, C_CMD_BELL, 1);
    this.ring();
  }

  /**
   * Wakes the PMD if it sleeps: producers call this after publishing. A
   * PMD asleep in poll(2) (it has fd ports) is woken through its eventfd,
   * otherwise through the doorbell word.
   */
  ring(): void {
    Atomics.add(this.ctl, C_DOORBELL, 1);
    const sleeping = Atomics.load(this.ctl, C_SLEEPING);
    if (sleeping === SLEEP_POLL) {
      const fd = Atomics.load(this.ctl, C_WAKE_FD);
      if (fd > 0) eventfdSignal(fd);
    } else if (sleeping !== SLEEP_NONE) Atomics.notify(this.ctl, C_DOORBELL);
  }
}
