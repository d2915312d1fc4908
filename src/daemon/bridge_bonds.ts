/**
 * A bridge's bonds (ofproto-dpif.c bundle_set/bundle_run with
 * ofproto/bond.c): one `BondRunner` per `type=bond` port, made when the
 * bridge starts, run on every bridge run and after every port change so
 * that members follow their ports' state (a port taken down with
 * `mod-port ... down` disables its member, as its carrier going does in
 * OVS), and asking for revalidation when the active member or a member's
 * state changed (REV_BOND). Each member's translation port carries its
 * bond's shared state (`initOf`).
 *
 * Thread-safety: main thread.
 */
import { CommandError, coverageCounter, timeMsec } from "../lib/mod.ts";
import { type BondConfig, type BondInit, BondRunner } from "../ofproto/mod.ts";
import { FROZEN_STATE_WORDS, FS_TABLE, type RecircIds } from "../xlate/mod.ts";

const covRevBond = coverageCounter("rev_bond");

/** The hidden table OVS's bond recirculation rules live in (TBL_INTERNAL). */
const TBL_INTERNAL = 254;
const DUMMY_MAC_PREFIX = "aa:55:aa:55:00:";

/** A member's Ethernet address: OVS's dummy netdevs' (aa:55:aa:55:00:NN, NN its ofport). */
function memberMac(ofport: number): string {
  return DUMMY_MAC_PREFIX + (ofport & 0xff).toString(16).padStart(2, "0");
}

export class BridgeBonds {
  readonly #runners = new Map<string, BondRunner>();
  readonly #byMember = new Map<number, BondRunner>();

  /**
   * The bonds of `ports` (every member carries its bond's config), their
   * members enabled from `linkUp`; `revalidate` is how a change reaches
   * the datapath flows. A balance-tcp bond takes a recirculation id from
   * `recircIds`, as bond_create does.
   */
  constructor(
    ports: readonly { ofport: number; bond?: BondConfig }[],
    recircIds: RecircIds,
    readonly linkUp: (ofport: number) => boolean,
    readonly revalidate: () => void,
  ) {
    for (const p of ports) {
      if (!p.bond) continue;
      let runner = this.#runners.get(p.bond.name);
      if (!runner) {
        let recircId = 0;
        if (p.bond.mode === "balance-tcp") {
          const state = new Uint32Array(FROZEN_STATE_WORDS);
          state[FS_TABLE] = TBL_INTERNAL;
          recircId = recircIds.idFor(state);
        }
        runner = new BondRunner(p.bond, memberMac, recircId, linkUp, timeMsec());
        this.#runners.set(p.bond.name, runner);
      }
      this.#byMember.set(p.ofport, runner);
    }
  }

  /** The bond state member `ofport`'s translation port carries, if it is a member. */
  initOf(ofport: number): BondInit | undefined {
    return this.#byMember.get(ofport)?.bond.init();
  }

  /** bond_run for every bond; revalidates once if any of them asks. */
  run(): void {
    let revalidate = false;
    for (const r of this.#runners.values()) {
      if (r.run(this.linkUp, timeMsec())) revalidate = true;
    }
    if (revalidate) {
      covRevBond.inc();
      this.revalidate();
    }
  }

  /** The bond called `name`; CommandError "no such bond" otherwise. */
  bond(name: string): BondRunner {
    const r = this.#runners.get(name);
    if (!r) throw new CommandError("no such bond");
    return r;
  }

  all(): BondRunner[] {
    return [...this.#runners.values()];
  }
}
