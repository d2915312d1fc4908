/**
 * The life of a PMD slot, as OVS's reconfigure_pmd_threads walks a PMD
 * thread through it: a free slot gets a PMD that is `starting` (its
 * worker loading) and then `running` (polling); a reconfiguration that
 * drops its core moves it to `stopping` (retired, its flows deleted, its
 * queues let go) and the slot is `free` again. Any other move is refused
 * and logged: it would mean two PMDs in one slot, or a PMD lost track of.
 *
 * Thread-safety: the thread that created the datapath only.
 */
import { getLogger } from "../lib/mod.ts";

const log = getLogger("dpif_netdev");

export type PmdState = "free" | "starting" | "running" | "stopping";

/** The moves allowed from each state. */
export const PMD_TRANSITIONS: Readonly<Record<PmdState, readonly PmdState[]>> = {
  free: ["starting"],
  starting: ["running", "stopping"],
  running: ["stopping"],
  stopping: ["free"],
};

export class PmdStates {
  private readonly states: PmdState[];

  constructor(slots: number, running: number) {
    this.states = Array.from({ length: slots }, (_, k) => k < running ? "starting" : "free");
  }

  get(k: number): PmdState {
    return this.states[k];
  }

  /** Moves slot k to `to`; false (and logged) when the table refuses it. */
  move(k: number, to: PmdState): boolean {
    const from = this.states[k];
    if (!PMD_TRANSITIONS[from].includes(to)) {
      log.error(`PMD slot ${k}: refused transition from ${from} to ${to}`);
      return false;
    }
    this.states[k] = to;
    return true;
  }

  /** The slots in state `s`. */
  inState(s: PmdState): number[] {
    return this.states.flatMap((x, k) => x === s ? [k] : []);
  }
}
