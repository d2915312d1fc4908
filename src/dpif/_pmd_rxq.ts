/**
 * A PMD's poll list (OVS's pmd->poll_list): the rx queues the scheduler
 * (rxq_sched.ts) gave it, rebuilt when the port table changes, and the
 * processing time each takes, kept in intervals as OVS keeps each rxq's
 * cycles (PMD_INTERVAL_LEN, PMD_INTERVAL_MAX), for `pmd-rxq-show` and for
 * the `cycles` and `group` assignments.
 *
 * Thread-safety: owned by one Pmd. It writes the time slots of the queues
 * it polls; other threads only read them.
 */
import {
  type DatapathShared,
  MAX_PORTS,
  MAX_RXQ,
  P_ACTIVE,
  P_N_RXQ,
  RQ_CURRENT,
  RQ_HISTORY,
  RQ_NEXT,
  RXQ_INTERVALS,
  rxqIndex,
  ST_BUSY_ITERATIONS,
  ST_BUSY_MS,
  ST_IDLE_MS,
  ST_INTERVAL_MS,
  ST_ITERATIONS,
} from "./_shared.ts";

/** OVS's PMD_INTERVAL_LEN: 5 s per measuring interval. */
export const PMD_INTERVAL_MS = 5000;

export class PmdPollList {
  /** Per entry: port index, queue id, rx ring index. */
  readonly port = new Int32Array(MAX_PORTS * MAX_RXQ);
  readonly queue = new Int32Array(MAX_PORTS * MAX_RXQ);
  readonly rxq = new Int32Array(MAX_PORTS * MAX_RXQ);
  n = 0;
  /** Per port index: 1 when this PMD polls its queue 0 (a socket port's only queue). */
  readonly hasQueue0 = new Uint8Array(MAX_PORTS);
  /** Rx rings this PMD claimed at the last refresh (their consumers start afresh). */
  readonly claimed = new Int32Array(MAX_PORTS * MAX_RXQ);
  nClaimed = 0;
  /** A queue assigned here is still held by its previous PMD: refresh again next round. */
  pending = false;
  private intervalStart = -1;

  constructor(private readonly shared: DatapathShared, private readonly index: number) {}

  /**
   * Re-reads the assignment after a port change or a rebalance: lets go
   * of the queues no longer its own (between rounds, so never mid-burst),
   * then claims those assigned to it that their previous PMD let go.
   */
  refresh(): void {
    const sh = this.shared, me = this.index;
    this.n = 0;
    this.nClaimed = 0;
    this.pending = false;
    this.hasQueue0.fill(0);
    for (let r = 0; r < MAX_PORTS * MAX_RXQ; r++) {
      const i = (r / MAX_RXQ) | 0;
      const keep = Atomics.load(sh.portI32, sh.portI(i, P_ACTIVE)) !== 0 &&
        Atomics.load(sh.rxqPmd, r) === me;
      if (!keep && Atomics.load(sh.rxqOwner, r) === me) Atomics.store(sh.rxqOwner, r, -1);
    }
    for (let i = 0; i < MAX_PORTS; i++) {
      if (Atomics.load(sh.portI32, sh.portI(i, P_ACTIVE)) === 0) continue;
      const nq = Math.max(1, Math.min(MAX_RXQ, sh.portI32[sh.portI(i, P_N_RXQ)]));
      for (let q = 0; q < nq; q++) {
        const r = rxqIndex(i, q);
        if (Atomics.load(sh.rxqPmd, r) !== me) continue;
        if (Atomics.load(sh.rxqOwner, r) !== me) {
          if (Atomics.compareExchange(sh.rxqOwner, r, -1, me) !== -1) {
            this.pending = true;
            continue;
          }
          this.claimed[this.nClaimed++] = r;
        }
        this.port[this.n] = i;
        this.queue[this.n] = q;
        this.rxq[this.n++] = r;
        if (q === 0) this.hasQueue0[i] = 1;
      }
    }
  }

  /** Adds `ms` of processing to entry j's queue. */
  account(j: number, ms: number): void {
    this.shared.rxqTime[this.shared.rxqT(this.rxq[j]) + RQ_CURRENT] += ms;
  }

  /**
   * Counts a poll round that began at `start` (performance.now()) and did
   * `work` in the PMD's `stats`: pmd-perf-show's iterations and busy or
   * idle time (OVS counts cycles; this, ms); then closes the measuring
   * interval if it is due.
   */
  endRound(work: number, start: number, end: number, stats: Float64Array): void {
    stats[ST_ITERATIONS]++;
    if (work > 0) {
      stats[ST_BUSY_ITERATIONS]++;
      stats[ST_BUSY_MS] += end - start;
    } else stats[ST_IDLE_MS] += end - start;
    this.tick(end, stats);
  }

  /**
   * At `nowMs` (the monotonic clock), closes the interval when it is
   * PMD_INTERVAL_MS old: each polled queue's time goes into its history
   * and the interval's length into the PMD's ST_INTERVAL_MS.
   */
  private tick(nowMs: number, stats: Float64Array): void {
    if (this.intervalStart < 0) this.intervalStart = nowMs;
    const len = nowMs - this.intervalStart;
    if (len < PMD_INTERVAL_MS) return;
    this.intervalStart = nowMs;
    const t = this.shared.rxqTime;
    for (let j = 0; j < this.n; j++) {
      const at = this.shared.rxqT(this.rxq[j]);
      const next = t[at + RQ_NEXT];
      t[at + RQ_HISTORY + next] = t[at + RQ_CURRENT];
      t[at + RQ_CURRENT] = 0;
      t[at + RQ_NEXT] = (next + 1) % RXQ_INTERVALS;
    }
    stats[ST_INTERVAL_MS] = len;
  }
}
