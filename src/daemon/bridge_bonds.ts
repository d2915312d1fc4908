/**
 * A bridge's bonds (ofproto-dpif.c bundle_set/bundle_run with
 * ofproto/bond.c): one `BondRunner` per `type=bond` port, made when the
 * bridge starts, run on every bridge run and after every port change so
 * that members follow their ports' state (a port taken down with
 * `mod-port ... down`, or a Linux port whose carrier goes, port_link.ts,
 * disables its member), and asking for revalidation when the active member or a member's
 * state changed (REV_BOND). Each member's translation port carries its
 * bond's shared state (`initOf`).
 *
 * Thread-safety: main thread.
 */
import { bytesOf, F, getField, ODPP_NONE, setField } from "../flow/mod.ts";
import { CommandError, coverageCounter, getLogger, timeMsec } from "../lib/mod.ts";
import {
  Bond,
  BOND_BUCKETS,
  type BondConfig,
  type BondInit,
  BondRunner,
  composeLearningPacket,
  type FlowMod,
  LACP_DST_MAC,
  type LacpConfig,
  type MacEntryView,
  MAX_VISIBLE_PRIORITY,
  newFlowMod,
  newMatch,
  type Rule,
} from "../ofproto/mod.ts";
import type { Bridge } from "./bridge.ts";
import {
  FROZEN_STATE_WORDS,
  FS_IN_PORT,
  FS_RESUME_ACTION,
  FS_TABLE,
  type RecircIds,
} from "../xlate/mod.ts";

const covRevBond = coverageCounter("rev_bond");
const log = getLogger("ofproto_dpif");

/** The hidden table OVS's bond recirculation rules live in (TBL_INTERNAL). */
const TBL_INTERNAL = 254;
/**
 * RECIRC_RULE_PRIORITY, lifted above OpenFlow's priorities so that, as
 * OVS's internal rules, they never show in dump-flows nor meet flow-mods.
 */
const RECIRC_RULE_PRIORITY = MAX_VISIBLE_PRIORITY + 20;
const OFPP_NONE = 0xffff;
const BOND_MASK = BOND_BUCKETS - 1;

/**
 * update_recirc_rules: one internal rule per bucket,
 * `recirc_id=ID,dp_hash=BUCKET/0xff actions=output:MEMBER`.
 */
function postRecircRules(bond: Bond): FlowMod[] {
  const mods: FlowMod[] = [];
  for (let b = 0; b < BOND_BUCKETS; b++) {
    const member = bond.bucketMember(b);
    if (member < 0) continue;
    const match = newMatch();
    const key = bytesOf(match.key), mask = bytesOf(match.mask);
    setField(key, F.recirc_id, bond.recircId);
    setField(mask, F.recirc_id, 0xffffffff);
    setField(key, F.dp_hash, b);
    setField(mask, F.dp_hash, BOND_MASK);
    const fm = newFlowMod("add", false, match, RECIRC_RULE_PRIORITY);
    fm.tableId = TBL_INTERNAL;
    fm.actions = [{ type: "output", port: bond.config.members[member].ofport, maxLen: 0 }];
    mods.push(fm);
  }
  return mods;
}
/**
 * The byte counts of a recirculating bond's post-recirculation rules by
 * bucket (what bond_recirculation_account reads through rule_get_stats).
 */
function postRecircBytes(bond: Bond, rules: Iterable<Rule>): Map<number, number> {
  const bytes = new Map<number, number>();
  for (const r of rules) {
    if (r.tableId !== TBL_INTERNAL || r.priority !== RECIRC_RULE_PRIORITY) continue;
    const key = bytesOf(r.match.key);
    if (getField(key, F.recirc_id) !== bond.recircId) continue;
    bytes.set(getField(key, F.dp_hash) & BOND_MASK, r.nBytes);
  }
  return bytes;
}

const DUMMY_MAC_PREFIX = "aa:55:aa:55:00:";

/** A member's Ethernet address: OVS's dummy netdevs' (aa:55:aa:55:00:NN, NN its ofport). */
function memberMac(ofport: number): string {
  return DUMMY_MAC_PREFIX + (ofport & 0xff).toString(16).padStart(2, "0");
}
/** The bridge's own address (its dummy LOCAL port's), LACP's default system id. */
const BRIDGE_MAC = DUMMY_MAC_PREFIX + "00";
const ETH_TYPE_LACP = 0x8809;

const macBytes = (mac: string) => Uint8Array.from(mac.split(":").map((h) => parseInt(h, 16)));

/** bridge.c port_configure_lacp and iface_configure_lacp for a bond with LACP on. */
function lacpConfig(b: BondConfig): LacpConfig | null {
  if (b.lacp === "off") return null;
  const pri = b.lacpSystemPriority;
  return {
    name: b.name,
    active: b.lacp === "active",
    fast: b.lacpFast,
    sysId: macBytes(b.lacpSystemId ?? BRIDGE_MAC),
    // Bondable links (more than one member) are preferred when unspecified.
    sysPriority: pri > 0 && pri <= 0xffff ? pri : 0xffff - (b.members.length > 1 ? 1 : 0),
    fallbackAb: b.lacpFallbackAb,
    members: b.members.map((m) => ({
      name: m.name,
      portId: b.memberLacp[m.name]?.portId ?? m.ofport & 0xffff,
      portPriority: b.memberLacp[m.name]?.portPriority ?? 0xffff,
      key: b.memberLacp[m.name]?.aggregationKey ?? 0,
    })),
  };
}

/** A LACPDU in its Ethernet frame from member `ofport` (ofproto-dpif.c send_pdu_cb). */
function lacpFrame(ofport: number, pdu: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + pdu.length);
  frame.set(macBytes(LACP_DST_MAC), 0);
  frame.set(macBytes(memberMac(ofport)), 6);
  frame[12] = ETH_TYPE_LACP >> 8;
  frame[13] = ETH_TYPE_LACP & 0xff;
  frame.set(pdu, 14);
  return frame;
}

export class BridgeBonds {
  readonly #runners = new Map<string, BondRunner>();
  #dumpSeq = -1;
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
    /** Sends a frame out of port `ofport` (LACPDUs). */
    readonly send: (ofport: number, frame: Uint8Array) => void = () => {},
    /** The revalidators' dump count: a finished dump is when bonds rebalance. */
    readonly dumpSeq: () => number = () => 0,
    /** Adds internal rules (a balance-tcp bond's post-recirculation rules). */
    readonly addRules: (mods: FlowMod[]) => void = () => {},
    /** The bridge's rules, where post-recirculation rules count their bytes. */
    readonly rules: () => Iterable<Rule> = () => [],
    /** The bridge's learned MACs, least recently refreshed first. */
    readonly learned: () => readonly MacEntryView[] = () => [],
  ) {
    for (const p of ports) {
      if (!p.bond) continue;
      let runner = this.#runners.get(p.bond.name);
      if (!runner) {
        let recircId = 0;
        // bond_reconfigure gives every balancing bond an id (bond/list
        // shows it), though only balance-tcp recirculates with it.
        if (p.bond.mode !== "active-backup") {
          // recirc_alloc_id: resume in the internal table from no port; the
          // bond's number keeps two bonds' states (and ids) apart.
          const state = new Uint32Array(FROZEN_STATE_WORDS);
          state[FS_TABLE] = TBL_INTERNAL;
          state[FS_IN_PORT] = OFPP_NONE;
          state[FS_RESUME_ACTION] = this.#runners.size + 1;
          recircId = recircIds.idFor(state);
        }
        runner = new BondRunner(
          p.bond,
          memberMac,
          recircId,
          linkUp,
          timeMsec(),
          lacpConfig(p.bond),
        );
        this.#runners.set(p.bond.name, runner);
      }
      this.#byMember.set(p.ofport, runner);
    }
  }

  /**
   * The bonds of `bridge`'s `ports`, wired to it: members follow its ports'
   * `up`, LACPDUs leave through its datapath, rebalancing follows its
   * udpif's dumps, post-recirculation rules go into its tables. Called
   * while the bridge is being built: the bridge is only used later.
   */
  static of(bridge: Bridge, ports: readonly { ofport: number; bond?: BondConfig }[]): BridgeBonds {
    return new BridgeBonds(
      ports,
      bridge.recircIds,
      (ofport) => bridge.ports().some((p) => p.ofport === ofport && p.up && p.carrier),
      () => bridge.udpif.revalidate(),
      (ofport, frame) => {
        const port = bridge.ports().find((p) => p.ofport === ofport);
        if (port) bridge.dp.execute(frame, ODPP_NONE, [{ type: "output", port: port.odpPort }]);
      },
      () => bridge.udpif.shared.dumpSeq.read(),
      (mods) => bridge.tablesChanged(bridge.tables.flowMods(mods, false, timeMsec())),
      () => bridge.tables.rules(),
      () => bridge.ml.entries(timeMsec()),
    );
  }

  /** The bond state member `ofport`'s translation port carries, if it is a member. */
  initOf(ofport: number): BondInit | undefined {
    return this.#byMember.get(ofport)?.bond.init();
  }

  /**
   * bundle_run for every bond: LACP first (lacp_run, sending PDUs), then
   * bond_run with each member enabled only if its link is up and LACP lets
   * it (port_run's may_enable); revalidates once if any of them asks.
   */
  run(): void {
    let revalidate = false;
    const now = timeMsec();
    for (const r of this.#runners.values()) {
      const lacp = r.bond.lacp, members = r.bond.config.members;
      let mayEnable = this.linkUp;
      if (lacp) {
        lacp.run(
          now,
          (i) => this.linkUp(members[i].ofport),
          (i, pdu) => this.send(members[i].ofport, lacpFrame(members[i].ofport, pdu)),
        );
        mayEnable = (ofport) =>
          this.linkUp(ofport) && lacp.memberMayEnable(r.bond.memberIndex(ofport));
      }
      if (r.run(mayEnable, now)) revalidate = true;
      if (r.takeLearningRequest()) this.#sendLearningPackets(r);
      // bond_run: keep the post-recirculation rules current.
      if (r.bond.mayRecirc && r.bond.fillBuckets()) this.addRules(postRecircRules(r.bond));
    }
    // A finished dump accounted every flow's bytes: time to rebalance.
    const dumpSeq = this.dumpSeq();
    if (dumpSeq !== this.#dumpSeq) {
      this.#dumpSeq = dumpSeq;
      for (const r of this.#runners.values()) {
        let counts: Map<number, number> | undefined;
        const ruleBytes = (bucket: number) => {
          counts ??= postRecircBytes(r.bond, this.rules());
          return counts.get(bucket);
        };
        if (!r.rebalance(now, ruleBytes)) continue;
        revalidate = true;
        if (r.bond.mayRecirc) this.addRules(postRecircRules(r.bond));
      }
    }
    if (revalidate) {
      covRevBond.inc();
      this.revalidate();
    }
  }

  /**
   * bundle_send_learning_packets: one gratuitous RARP for every MAC
   * learned on another port, out of the member its traffic now takes.
   */
  #sendLearningPackets(r: BondRunner): void {
    let n = 0;
    for (const e of this.learned()) {
      if (e.port === r.bond.bundlePort) continue;
      const pkt = composeLearningPacket(r.bond, macBytes(e.mac), e.vlan);
      if (!pkt) continue;
      this.send(pkt.ofport, pkt.frame);
      n++;
    }
    log.debug(`bond ${r.name}: sent ${n} gratuitous learning packets`);
  }

  /** The bond called `name`; CommandError "no such bond" otherwise. */
  bond(name: string): BondRunner {
    const r = this.#runners.get(name);
    if (!r) throw new CommandError("no such bond");
    return r;
  }

  /**
   * The member ports of bond `name` (undefined: no such bond): a bond is
   * one Port row in OVS, so the Port settings (VLANs) apply to all of them.
   */
  membersOf(name: string): string[] | undefined {
    return this.#runners.get(name)?.bond.config.members.map((m) => m.name);
  }

  /** The name of the bond port `ofport` is a member of, if any. */
  bondOfMember(ofport: number): string | undefined {
    return this.#byMember.get(ofport)?.bond.config.name;
  }

  all(): BondRunner[] {
    return [...this.#runners.values()];
  }
}
