/**
 * A port's rx queue pinning, OVS's Interface other_config:pmd-rxq-affinity
 * ("QUEUE:CORE,..."), set with `port/set PORT pmd-rxq-affinity=0:3,1:7`
 * beside the VLAN settings (bridge.setPort). The datapath parses and
 * applies it (dpif_netdev_port_set_rxq_affinity); an empty value unpins.
 * A bond is one Port with its members as Interfaces: its VLAN settings
 * are set on the bond's name and apply to every member, a member's
 * affinity on the member's name.
 *
 * Thread-safety: main thread.
 */
import { parseRxqAffinity } from "../dpif/mod.ts";
import { CommandError } from "../lib/mod.ts";
import type { Bridge } from "./bridge.ts";

const AFFINITY = "pmd-rxq-affinity=";

/** Splits `port/set` settings into the pmd-rxq-affinity value (if given) and the rest. */
export function takeRxqAffinity(settings: string[]): { affinity?: string; rest: string[] } {
  const rest = settings.filter((s) => !s.startsWith(AFFINITY));
  const given = settings.filter((s) => s.startsWith(AFFINITY));
  return { affinity: given.at(-1)?.slice(AFFINITY.length), rest };
}

/**
 * `port/set` with a pmd-rxq-affinity among `settings`: the affinity is
 * checked first, then the VLAN settings applied, then the affinity, so a
 * bad one of either changes nothing.
 */
export function setPortWithAffinity(bridge: Bridge, name: string, settings: string[]): void {
  const { affinity, rest } = takeRxqAffinity(settings);
  const members = bridge.bonds.membersOf(name);
  if (members && affinity !== undefined) {
    throw new CommandError(
      `${name}: a bond has no rx queues (pmd-rxq-affinity is set on a member)`,
    );
  }
  const member = bridge.portByName(name);
  const bond = member && bridge.bonds.bondOfMember(member.ofport);
  if (bond && rest.length) {
    throw new CommandError(`${name}: a member of bond ${bond}, whose port takes the VLAN settings`);
  }
  if (affinity === undefined) {
    bridge.setPort(members ?? name, rest);
    return;
  }
  const port = bridge.port(name);
  if (port.odpPort < 0) throw new CommandError(`${name}: a patch port has no rx queues`);
  const nRxq = bridge.dp.pmdControl.portRxqCount(port.odpPort);
  try {
    parseRxqAffinity(affinity, nRxq);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  if (rest.length) bridge.setPort(name, rest);
  bridge.dp.pmdControl.setPortRxqAffinity(port.odpPort, affinity);
}
