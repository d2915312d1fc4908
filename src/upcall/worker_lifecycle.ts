/**
 * The life of a handler or revalidator seat (udpif's addition: in OVS a
 * thread cannot die alone, so there is nothing to restart).
 *
 *     starting ──> running ──> stopped
 *        │            │
 *        v            v
 *       dead <──── restarting
 *        │            ^
 *        └────────────┘
 *
 * A seat is `starting` from the moment its worker is asked to run until
 * it is known to have started, `running` while it serves, `dead` from the
 * moment the main thread learns its worker threw or was terminated until
 * the cleanup (fence, locks, barrier seat, journal) is done, `restarting`
 * while a replacement worker is being brought up for the same index, and
 * `stopped` once the udpif stopped its threads (the seat may start again).
 *
 * Any other step is refused: logged, and the seat stays where it was.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import type { WorkerRole } from "./worker_seats.ts";

export type WorkerState = "starting" | "running" | "dead" | "restarting" | "stopped";

/** Allowed steps, from each state. */
const ALLOWED: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ["running", "dead", "stopped"],
  running: ["dead", "stopped"],
  dead: ["restarting", "stopped"],
  restarting: ["running", "dead", "stopped"],
  stopped: ["starting"],
};

const covHandlerRestarted = coverageCounter("handler_restarted");
const covRevalidatorRestarted = coverageCounter("revalidator_restarted");
const covRefused = coverageCounter("worker_transition_refused");
const log = getLogger("ofproto_dpif_upcall");

/** Whether a seat may step from `src` to `dst`. */
export function workerTransitionAllowed(src: WorkerState, dst: WorkerState): boolean {
  return ALLOWED[src].includes(dst);
}

/** One seat's state, with the history commands show. */
export class WorkerLifecycle {
  readonly role: WorkerRole;
  readonly index: number;
  #state: WorkerState = "stopped";
  /** Replacements started for this seat so far. */
  restarts = 0;
  /** Why its last worker died, if one did. */
  lastCause = "";

  constructor(role: WorkerRole, index: number) {
    this.role = role;
    this.index = index;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Steps to `dst` if allowed; a refused step is logged. Returns whether it stepped. */
  to(dst: WorkerState): boolean {
    if (!workerTransitionAllowed(this.#state, dst)) {
      covRefused.inc();
      log.warn(`${this.role} ${this.index}: refused worker transition ${this.#state} -> ${dst}`);
      return false;
    }
    this.#state = dst;
    if (dst === "restarting") {
      this.restarts++;
      (this.role === "handler" ? covHandlerRestarted : covRevalidatorRestarted).inc();
    }
    return true;
  }
}
