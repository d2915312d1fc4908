/**
 * A dead revalidator's seat at the revalidators' barriers, kept by the
 * main thread until its replacement takes it (worker_supervisor.ts).
 *
 * Every revalidator blocks at the barrier ROUNDS_PER_CYCLE times a cycle
 * (revalidator_loop.ts), so the barrier's generation says where in its
 * cycle a round is; and when the leader asks for a pause, each blocks
 * twice at the pause barrier (parked, resumed) after the cycle's first
 * round. Arrivals are tied to their round (Barrier.arriveFor), so
 * arriving for a worker that had already arrived changes nothing.
 *
 * Thread-safety: main thread, for a fenced (dead) revalidator's seat.
 */
import type { Barrier } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import { ROUNDS_PER_CYCLE } from "./revalidator_loop.ts";

/** A dead revalidator's part in a pause: both rounds, or the one left when it died parked. */
async function keepPauseSeat(pb: Barrier, member: number): Promise<void> {
  do {
    const gen = pb.generation;
    pb.arriveFor(member, gen);
    await pb.waitPastAsync(gen);
  } while (pb.generation % 2 === 1);
}

/**
 * Keeps revalidator `member`'s seat while it is dead: arrives in its name
 * for each round it owes, until the start of a cycle with its replacement
 * ready ("cycle-start"; a dead leader's seat is never kept into a new
 * cycle, which cannot start without a leader), or until the revalidators
 * have exited ("exited"). A dead leader's end of cycle is done here.
 */
export async function keepBarrierSeat(
  b: Barrier,
  pb: Barrier,
  member: number,
  replacement: { ready: boolean },
  ctx: UdpifContext,
): Promise<"cycle-start" | "exited"> {
  const { shared, ukeys, dpif } = ctx;
  for (;;) {
    const gen = b.generation;
    const phase = gen % ROUNDS_PER_CYCLE;
    const arrived = b.hasArrived(member);
    if (!arrived && phase === 0 && (member === 0 || replacement.ready)) return "cycle-start";
    if (phase === 1 && shared.revalExit) return "exited";
    if (phase === 1 && shared.pause && (pb.anyArrived() || pb.generation % 2 === 1)) {
      // Died at or inside a pause (the main thread arrives first): park and resume for it.
      await keepPauseSeat(pb, member);
      continue;
    }
    if (!arrived) b.arriveFor(member, gen);
    await b.waitPastAsync(gen);
    if (phase === 0 && shared.pause) await keepPauseSeat(pb, member);
    if (member === 0 && phase === ROUNDS_PER_CYCLE - 1) {
      // The dead leader's end of cycle (RevalidatorThread#finishCycle).
      dpif.dumpDone();
      ukeys.quiesce();
      shared.dumpSeq.change();
    }
  }
}
