/**
 * A bond's main-thread side (ofproto/bond.c bond_run,
 * bond_link_status_update, bond_choose_active_member, the bond/...
 * unixctl commands and bond_print_details): members follow their link
 * state through the up/down delays, the active member is chosen again
 * when it goes, and the commands act and print with OVS's words.
 *
 * Thread-safety: main thread only; what translations read is published
 * through the `Bond`'s shared state.
 */
import { getLogger } from "../lib/mod.ts";
import { Bond, BOND_BUCKETS } from "./bond.ts";
import { type BondConfig, defaultBondConfig } from "./bond_config.ts";
import { Lacp, type LacpConfig } from "./lacp.ts";
import { accountRecircRules, rebalanceBuckets } from "./bond_rebalance.ts";
import { maySendLearningPackets } from "./bond_learning.ts";

const log = getLogger("bond");

/** The errors bond commands answer with (unixctl_command_reply_error). */
export class BondCommandError extends Error {
  override name = "BondCommandError";
}

const NEVER = Number.MAX_SAFE_INTEGER;

export class BondRunner {
  readonly bond: Bond;
  /** When each member's pending up/down change takes effect (delay_expires). */
  readonly #delayExpires: number[];
  /** The active member's MAC (active_member_mac), as it was when it became active. */
  #activeMac = "00:00:00:00:00:00";
  /** When SLB/TCP buckets are next rebalanced (next_rebalance). */
  #nextRebalance: number;
  /** Set when something translations depend on changed (bond_revalidate). */
  #revalidate = false;
  /** Set when MACs may have moved between members (send_learning_packets). */
  #sendLearning = false;
  /** Each post-recirculation rule's byte count at the last rebalance (pr_tx_bytes). */
  readonly #prTxBytes = new Array<number>(BOND_BUCKETS).fill(0);

  /**
   * A new bond whose members start disabled, then enabled from `linkUp`
   * (bond_member_register). `recircId` is the bond's recirculation id
   * (balance-slb and balance-tcp bonds have one; balance-tcp recirculates
   * with it). `macOf` gives a member's Ethernet address. With
   * `lacp`, the bond runs LACP (lib/lacp.c) on its members.
   */
  constructor(
    config: BondConfig,
    readonly macOf: (ofport: number) => string,
    recircId: number,
    linkUp: (ofport: number) => boolean,
    nowMs: number,
    lacp: LacpConfig | null = null,
  ) {
    this.bond = new Bond({
      config,
      buffer: new Bond(config).buffer,
      recircId: config.mode === "active-backup" ? 0 : recircId,
      lacp: lacp ? new Lacp(lacp, nowMs).init() : undefined,
    });
    this.#delayExpires = config.members.map(() => NEVER);
    this.#nextRebalance = nowMs + config.rebalanceInterval;
    config.members.forEach((m, i) => {
      this.bond.setMayEnable(i, true);
      this.#enable(i, linkUp(m.ofport));
    });
    this.run(linkUp, nowMs);
    this.#revalidate = false;
    // The first active member's learning request is OVS's too, but its
    // bundle_run takes it at once, before any MAC is learned: left
    // pending until the bridge's first bond run, it would announce MACs
    // learned in between out of a member that never changed.
    this.#sendLearning = false;
  }

  get name(): string {
    return this.bond.config.name;
  }

  #enable(i: number, enable: boolean): void {
    this.#delayExpires[i] = NEVER;
    if (this.bond.setEnabled(i, enable)) {
      this.#revalidate = true;
      if (!enable) this.#sendLearning = true;
      log.info(`member ${this.bond.config.members[i].name}: ${enable ? "enabled" : "disabled"}`);
    }
  }

  /** bond_link_status_update. */
  #linkStatus(i: number, carrier: boolean, nowMs: number): void {
    const b = this.bond, name = b.config.members[i].name;
    const up = carrier && b.mayEnable(i);
    if ((up === b.enabled(i)) !== (this.#delayExpires[i] === NEVER)) {
      log.info(`member ${name}: link state ${up ? "up" : "down"}`);
      if (up === b.enabled(i)) {
        this.#delayExpires[i] = NEVER;
        log.info(`member ${name}: will not be ${up ? "disabled" : "enabled"}`);
      } else {
        const delay = up ? b.config.updelay : b.config.downdelay;
        this.#delayExpires[i] = nowMs + delay;
        if (delay) {
          log.info(
            `member ${name}: will be ${up ? "enabled" : "disabled"} if it stays ${
              up ? "up" : "down"
            } for ${delay} ms`,
          );
        }
      }
    }
    if (nowMs >= this.#delayExpires[i]) this.#enable(i, up);
  }

  /**
   * bond_run: members follow `linkUp` (carrier; it also becomes
   * may_enable, as ofproto-dpif's port_run sets it), and a new active
   * member is chosen when needed. True when translations must be redone.
   */
  run(linkUp: (ofport: number) => boolean, nowMs: number): boolean {
    const b = this.bond;
    if (b.lacp) {
      const status = b.lacp.negotiated ? "negotiated" : "configured";
      if (b.setLacpStatus(status)) this.#revalidate = true;
    }
    let primary = -1;
    b.config.members.forEach((m, i) => {
      const carrier = linkUp(m.ofport);
      b.setMayEnable(i, carrier);
      this.#linkStatus(i, carrier, nowMs);
      if (b.config.mode === "active-backup" && this.#isPrimary(i) && b.enabled(i)) primary = i;
    });
    const active = b.active;
    if (active < 0 || !b.enabled(active) || (primary >= 0 && active !== primary)) {
      this.#chooseActive(nowMs);
    }
    const revalidate = this.#revalidate;
    this.#revalidate = false;
    return revalidate;
  }

  #isPrimary(i: number): boolean {
    return this.bond.config.primary === this.bond.config.members[i].name;
  }

  /** bond_choose_member. */
  #chooseMember(): number {
    const b = this.bond, members = b.config.members;
    for (let i = 0; i < members.length; i++) if (this.#isPrimary(i) && b.enabled(i)) return i;
    const last = members.findIndex((m) => this.macOf(m.ofport) === this.#activeMac);
    if (last >= 0 && b.enabled(last)) return last;
    for (let i = 0; i < members.length; i++) if (b.enabled(i)) return i;
    let best = -1;
    for (let i = 0; i < members.length; i++) {
      if (
        this.#delayExpires[i] !== NEVER && b.mayEnable(i) &&
        (best < 0 || this.#delayExpires[i] < this.#delayExpires[best])
      ) best = i;
    }
    return best;
  }

  /** bond_choose_active_member. */
  #chooseActive(nowMs: number): void {
    const b = this.bond, old = b.active;
    const next = this.#chooseMember();
    b.setActive(next);
    this.#revalidate = true;
    if (next >= 0) {
      const name = b.config.members[next].name;
      if (b.enabled(next)) log.info(`bond ${this.name}: active member is now ${name}`);
      else {
        log.info(
          `bond ${this.name}: active member is now ${name}, skipping remaining ${
            this.#delayExpires[next] - nowMs
          } ms updelay (since no member was enabled)`,
        );
        this.#enable(next, true);
      }
      this.#sendLearning = true;
      if (next !== old) this.#activeChanged();
    } else if (old >= 0) {
      this.#activeChanged();
      log.info(`bond ${this.name}: all members disabled`);
    }
  }

  /** bond_active_member_changed. */
  #activeChanged(): void {
    const a = this.bond.active;
    this.#activeMac = a < 0 ? "00:00:00:00:00:00" : this.macOf(this.bond.config.members[a].ofport);
  }

  #member(name: string): number {
    const i = this.bond.memberByName(name);
    if (i < 0) throw new BondCommandError("no such member");
    return i;
  }

  /**
   * bond_rebalance, at a flow-accounting checkpoint (a finished dump):
   * once the interval is over, the next one starts and buckets move by
   * their load (bond_rebalance.ts). A recirculating bond first takes its
   * buckets' bytes from its post-recirculation rules (`ruleBytes`, a
   * bucket's rule's byte count). True when a bucket moved: translations
   * are then redone, and a recirculating bond's rules too.
   */
  rebalance(nowMs: number, ruleBytes?: (bucket: number) => number | undefined): boolean {
    const b = this.bond;
    if (!b.isBalanced || nowMs < this.#nextRebalance) return false;
    this.#nextRebalance = nowMs + b.config.rebalanceInterval;
    if (b.mayRecirc && ruleBytes) accountRecircRules(b, this.#prTxBytes, ruleBytes);
    if (!rebalanceBuckets(b)) return false;
    this.#revalidate = true;
    return true;
  }

  /** bond/migrate BOND HASH MEMBER: "migrated". */
  migrate(hash: string, member: string): string {
    const b = this.bond;
    if (b.config.mode !== "balance-slb") throw new BondCommandError("not an SLB bond");
    if (!/^[0-9]*$/.test(hash)) throw new BondCommandError("bad hash");
    const i = b.memberByName(member);
    if (i < 0) throw new BondCommandError("no such member");
    if (!b.enabled(i)) throw new BondCommandError("cannot migrate to disabled member");
    // atoi's value, masked to a bucket: only the low 8 bits matter.
    b.setBucketMember(Number(BigInt(hash || "0") & BigInt(BOND_BUCKETS - 1)), i);
    this.#revalidate = true;
    return "migrated";
  }

  /** bond/set-active-member: "done" or "no change". */
  setActiveMember(name: string): string {
    const b = this.bond, i = this.#member(name);
    if (!b.enabled(i)) throw new BondCommandError("cannot make disabled member active");
    if (b.active === i) return "no change";
    b.setActive(i);
    this.#revalidate = true;
    log.info(`bond ${this.name}: active member is now ${name}`);
    this.#sendLearning = true;
    this.#activeChanged();
    return "done";
  }

  /** bond/enable-member and bond/disable-member (until the next run looks at the link again). */
  enableMember(name: string, enable: boolean): string {
    this.#enable(this.#member(name), enable);
    return enable ? "enabled" : "disabled";
  }

  /**
   * bond_should_send_learning_packets: whether the bridge should send a
   * learning packet (bond_learning.ts) for each MAC learned elsewhere;
   * asking clears the request.
   */
  takeLearningRequest(): boolean {
    const send = this.#sendLearning && maySendLearningPackets(this.bond);
    this.#sendLearning = false;
    return send;
  }

  /** Whether `revalidate` was asked for since the last run. */
  get wantsRevalidate(): boolean {
    return this.#revalidate;
  }

  /** bond_print_details. */
  show(nowMs: number): string {
    const b = this.bond, c = b.config;
    const out: string[] = [];
    out.push(`---- ${c.name} ----`, `bond_mode: ${c.mode}`);
    out.push(
      `bond may use recirculation: ${b.mayRecirc ? "yes" : "no"}, Recirc-ID : ${
        b.mayRecirc ? b.recircId : -1
      }`,
    );
    out.push(`bond-hash-basis: ${c.basis}`, "lb_output action: disabled, bond-id: -1");
    if (c.mode === "balance-slb") out.push(`all members active: ${c.allMembersActive}`);
    out.push(`updelay: ${c.updelay} ms`, `downdelay: ${c.downdelay} ms`);
    if (b.isBalanced) out.push(`next rebalance: ${this.#nextRebalance - nowMs} ms`);
    out.push(`lacp_status: ${b.lacpStatus}`, `lacp_fallback_ab: ${c.lacpFallbackAb}`);
    const hasPrimary = c.members.some((m) => m.name === c.primary);
    out.push(
      `active-backup primary: ${c.primary ?? "<none>"}${
        c.primary !== null && !hasPrimary ? " (no such member)" : ""
      }`,
    );
    const byMac = c.members.find((m) => this.macOf(m.ofport) === this.#activeMac);
    out.push(`active member mac: ${this.#activeMac}(${byMac?.name ?? "none"})`);
    const order = c.members.map((m, i) => ({ m, i })).sort((x, y) =>
      x.m.name < y.m.name ? -1 : x.m.name > y.m.name ? 1 : 0
    );
    for (const { m, i } of order) {
      out.push("", `member ${m.name}: ${b.enabled(i) ? "enabled" : "disabled"}`);
      if (b.active === i) out.push("  active member");
      if (this.#delayExpires[i] !== NEVER) {
        out.push(
          `  ${b.enabled(i) ? "downdelay" : "updelay"} expires in ${
            this.#delayExpires[i] - nowMs
          } ms`,
        );
      }
      out.push(`  may_enable: ${b.mayEnable(i)}`);
      if (!b.isBalanced) continue;
      for (let h = 0; h < BOND_BUCKETS; h++) {
        if (b.bucketMember(h) !== i) continue;
        const kb = Math.floor(b.bucketTxBytes(h) / 1024);
        if (kb) out.push(`  hash ${h}: ${kb} kB load`);
      }
    }
    return out.join("\n") + "\n\n";
  }

  /** How many buckets send to each member (for tests and JSON views). */
  bucketCounts(): number[] {
    const counts = this.bond.config.members.map(() => 0);
    for (let h = 0; h < BOND_BUCKETS; h++) {
      const i = this.bond.bucketMember(h);
      if (i >= 0) counts[i]++;
    }
    return counts;
  }
}

/** bond/hash MAC [VLAN [BASIS]]: the SLB bucket of a MAC. */
export function bondHashCommand(mac: string, vlan?: string, basis?: string): string {
  if (vlan !== undefined && !/^[0-9]+$/.test(vlan)) throw new BondCommandError("invalid vlan");
  if (basis !== undefined && !/^[0-9]+$/.test(basis)) throw new BondCommandError("invalid basis");
  const m =
    /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/
      .exec(mac);
  if (!m) throw new BondCommandError("invalid mac");
  const bytes = Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
  const probe = new Bond({
    ...defaultBondConfig("", "balance-slb"),
    basis: Number(basis ?? 0) >>> 0,
    rebalanceInterval: 0,
  });
  return `${probe.hashMac(bytes, 0, Number(vlan ?? 0) & 0xffff) & 0xff}\n`;
}
