/**
 * The revalidator thread's main loop (udpif_revalidator): leader and
 * followers meet at a shared barrier three times per cycle (dump start,
 * dump end, sweep end). The leader alone reads the latches, starts and
 * ends the dump, keeps n_flows' average and maximum, times the dump,
 * retunes the flow limit, releases freed ukeys, and sleeps until the next
 * period, a new reval_seq or a clock warp.
 */
import { type Barrier, clockWarps, getLogger, timeMsec } from "../lib/mod.ts";
import { nextFlowLimit, revalidationPeriod, slowDumpWarning } from "./flow_limit.ts";
import type { UdpifContext } from "./handler.ts";
import { Revalidator } from "./revalidator.ts";

const log = getLogger("ofproto_dpif_upcall");

/**
 * Barrier rounds per cycle (dump start, dump end, sweep end): a dead
 * revalidator's stand-in tells from the barrier's generation where in
 * its cycle a round is.
 */
export const ROUNDS_PER_CYCLE = 3;

/** A worker's section bounds (WorkerSeats.enter/leave for its seat). */
export interface SectionFence {
  enter(): void;
  leave(): void;
}

export class RevalidatorThread {
  readonly revalidator: Revalidator;
  readonly #ctx: UdpifContext;
  readonly #barrier: Barrier;
  readonly #pauseBarrier: Barrier;
  /** The leader's bookkeeping across one cycle. */
  #startTime = 0;
  #nFlows = 0;
  #lastRevalSeq = 0;

  readonly #beforeCycle: (() => Promise<void>) | undefined;
  readonly #fence: SectionFence | undefined;

  /**
   * `beforeCycle` runs before each phase (a worker takes pending messages
   * there); `fence` is told when the thread leaves shared memory alone to
   * await and when it comes back (worker_seats.ts).
   */
  constructor(
    ctx: UdpifContext,
    index: number,
    barrier: Barrier,
    pauseBarrier: Barrier,
    beforeCycle?: () => Promise<void>,
    fence?: SectionFence,
  ) {
    this.#ctx = ctx;
    this.#beforeCycle = beforeCycle;
    this.#fence = fence;
    this.revalidator = new Revalidator(ctx, index);
    this.#barrier = barrier;
    this.#pauseBarrier = pauseBarrier;
  }

  get leader(): boolean {
    return this.revalidator.index === 0;
  }

  /**
   * Runs cycles until the leader sees the exit latch. Waits are async so
   * that the worker's event loop still delivers messages (table updates)
   * between the phases.
   */
  async run(): Promise<void> {
    this.#fence?.enter();
    while (await this.cycle()) {
      if (this.leader) await this.#idle(this.#sleep());
    }
    this.#fence?.leave();
  }

  /** Awaits `p` outside the thread's section. */
  async #idle<T>(p: Promise<T>): Promise<T> {
    this.#fence?.leave();
    try {
      return await p;
    } finally {
      this.#fence?.enter();
    }
  }

  /** Blocks at `b` as this revalidator. */
  async #block(b: Barrier, member = this.revalidator.index): Promise<void> {
    const gen = b.arrive(member);
    await this.#idle(b.waitPastAsync(gen));
  }

  /**
   * One dump-and-sweep cycle, without the leader's sleep after it; false
   * once the udpif is exiting.
   */
  async cycle(): Promise<boolean> {
    const { shared, dpif, ukeys } = this.#ctx;
    if (this.leader) {
      this.#lastRevalSeq = shared.revalSeq.read();
      const nFlows = shared.nFlows(timeMsec(), () => dpif.flowCount());
      this.#nFlows = nFlows;
      shared.maxNFlows = Math.max(nFlows, shared.maxNFlows);
      shared.avgNFlows = Math.floor((shared.avgNFlows + nFlows) / 2);
      shared.pause = shared.pauseLatch;
      shared.revalExit = shared.exitLatch;
      this.#startTime = timeMsec();
      if (!shared.revalExit) dpif.dumpStart();
    }
    await this.#block(this.#barrier);
    if (shared.pause) {
      await this.#block(this.#pauseBarrier);
      await this.#block(this.#pauseBarrier);
    }
    if (shared.revalExit) return false;
    this.revalidator.revalidate(await this.#currentRevalSeq());
    await this.#block(this.#barrier);
    this.revalidator.sweep(false, await this.#currentRevalSeq());
    const xcaches = this.revalidator.xcaches;
    if (xcaches.wantsSpares && shared.nRevalidators > 1) {
      xcaches.reclaim((s) => ukeys.xcacheOwner(s));
    } else if (xcaches.size > ukeys.count()) {
      xcaches.prune((s) => ukeys.gen(s));
    }
    await this.#block(this.#barrier);
    if (this.leader) this.#finishCycle();
    return true;
  }

  /**
   * reval_seq for a phase, read before catching up with translation
   * updates: a newer reval_seq then means "translate again", never
   * "already translated" (OVS reads it before translating, too).
   */
  async #currentRevalSeq(): Promise<number> {
    const revalSeq = this.#ctx.shared.revalSeq.read();
    if (this.#beforeCycle) await this.#idle(this.#beforeCycle());
    return revalSeq;
  }

  #finishCycle(): void {
    const { shared, dpif, ukeys } = this.#ctx;
    const startTime = this.#startTime;
    dpif.dumpDone();
    // Every revalidator is past its sweep: nobody walks a umap chain now.
    ukeys.quiesce((id) => this.#ctx.xlate.releaseRecirc?.(id));
    const duration = Math.max(timeMsec() - startTime, 1);
    // Before dump_seq moves, so whoever waits for the dump reads its duration.
    shared.dumpDuration = duration;
    shared.dumpSeq.change();
    shared.flowLimit = nextFlowLimit(
      shared.flowLimit,
      duration,
      this.#nFlows,
      shared.cfgFlowLimit,
      !shared.compat31,
    );
    const warning = slowDumpWarning(duration);
    if (warning && shared.compat31) log.info(warning);
    else if (warning) log.warn(warning);
  }

  /** The leader's wait for the next cycle. */
  async #sleep(): Promise<void> {
    const { shared } = this.#ctx;
    const startTime = this.#startTime;
    const lastRevalSeq = this.#lastRevalSeq;
    const period = revalidationPeriod(shared.maxIdle, shared.maxRevalidator);
    // A warp wakes the sleeping leader into a cycle; warps made while it
    // was busy wake nobody (OVS's poll loop reads timewarp_seq as it
    // blocks). Either way they are answered from here on.
    const warps = clockWarps();
    shared.warpsAnswered = warps;
    shared.leaderAsleep = true;
    await this.#sleepUntil(startTime + period, lastRevalSeq, true, warps);
    if (!shared.pauseLatch && !shared.exitLatch && timeMsec() < startTime + 5) {
      await this.#sleepUntil(startTime + 5, lastRevalSeq, false, warps);
    }
    shared.leaderAsleep = false;
  }

  /**
   * Sleeps until the clock reaches `deadline`, a latch is set, the clock
   * is warped (past `warps` warps), or (when `onReval`) reval_seq moves
   * past `lastRevalSeq`; the bell rings on every
   * seq change, latch and clock warp. As in OVS's poll loop, the time left
   * also becomes a real-time timeout, so that with the clock stopped the
   * leader still wakes once per period of real time (revalidator/wait
   * then returns, as it does in OVS after time/stop).
   */
  async #sleepUntil(
    deadline: number,
    lastRevalSeq: number,
    onReval: boolean,
    warps: number,
  ): Promise<void> {
    const { shared } = this.#ctx;
    const realEnd = performance.now() + Math.max(0, deadline - timeMsec());
    for (;;) {
      const bell = shared.bell.read();
      if (shared.exitLatch || shared.pauseLatch || clockWarps() !== warps) return;
      if (onReval && shared.revalSeq.read() !== lastRevalSeq) return;
      if (timeMsec() >= deadline) return;
      const left = realEnd - performance.now();
      if (left <= 0) return;
      await shared.bell.waitAsync(bell, left);
    }
  }
}
