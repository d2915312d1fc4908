/**
 * The numbers of the datapath's shared memory (_shared.ts makes the
 * buffers and the views over them): limits, the indices of the
 * datapath's and each PMD's Int32 control words (C_*, PC_*), the Float64
 * counter slots (ST_*), the per-port fields (P_*, PF_*), the per-rx-queue
 * processing-time slots (RQ_*) and the sizes those make. One table, so a
 * word's meaning and its index are read in one place.
 *
 * Thread-safety: constants only.
 */
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
export const PMD_CTL_WORDS = 16;

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
export const CTL_WORDS = C_UPCALL_OWNER + MAX_HANDLERS;

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
export const STATS_SLOTS = 40;

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
export const PORT_I32 = 8;
export const PF_RX_PACKETS = 0;
export const PF_RX_BYTES = 1;
export const PF_TX_PACKETS = 2;
export const PF_TX_BYTES = 3;
export const PF_TX_DROPPED = 4;
export const PF_RX_DROPPED = 5;
export const PORT_F64 = 8;
export const ODP_MAP = 65536;
/**
 * Per rx queue, Float64: the processing time (ms) of the interval in
 * progress, then RXQ_INTERVALS completed intervals (a ring, next slot in
 * RQ_NEXT), as OVS keeps PMD_INTERVAL_MAX of each rxq's cycles.
 */
export const RXQ_INTERVALS = 12;
export const RQ_CURRENT = 0;
export const RQ_NEXT = 1;
export const RQ_HISTORY = 2;
export const RXQ_F64 = RQ_HISTORY + RXQ_INTERVALS;
export const N_RXQS = MAX_PORTS * MAX_RXQ;

/** The rx ring index of port index `i`'s queue `q`. */
export const rxqIndex = (i: number, q: number): number => i * MAX_RXQ + q;

export const PORTS_BYTES = MAX_PORTS * PORT_I32 * 4;
export const ODP_MAP_BYTES = ODP_MAP * 4;
/** rxqPmd, then rxqOwner. */
export const RXQ_PMD_BYTES = 2 * N_RXQS * 4;
/** rxqFd. */
export const RXQ_FD_BYTES = N_RXQS * 4;
