/**
 * A bond's gratuitous learning packets (ofproto/bond.c
 * may_send_learning_packets and bond_compose_learning_packet, with
 * lib/packets.c compose_rarp): after the active member changes or a
 * member is disabled, an SLB or active-backup bond without negotiated
 * LACP sends, for every MAC learned on another port, a RARP-like frame
 * from that MAC out of the member the MAC's traffic now leaves through,
 * so the switches beyond the bond learn where it moved.
 *
 * Thread-safety: main thread (bundle_run); the member choice goes through
 * the `Bond`'s lock like any translation's.
 */
import { ETH_TYPE_RARP, ETH_TYPE_VLAN_8021Q, pushVlan, putBe16 } from "../packet/mod.ts";
import type { Bond } from "./bond.ts";

/** may_send_learning_packets: the bond's partner cannot follow MACs by itself. */
export function maySendLearningPackets(bond: Bond): boolean {
  const c = bond.config, status = bond.lacpStatus;
  const byMode = status === "off" && (c.mode === "balance-slb" || c.mode === "active-backup");
  return (byMode || (c.lacpFallbackAb && status === "configured")) && bond.active >= 0;
}

/** Ethernet + ARP header bytes of a RARP frame, and room for one VLAN tag. */
const RARP_LEN = 14 + 28;
const ARP_HRD_ETHERNET = 1;
const ARP_PRO_IP = 0x0800;
const ARP_OP_RARP = 3;

/**
 * bond_compose_learning_packet: the frame announcing `mac` (6 bytes) in
 * `vlan` (0: untagged) and the OpenFlow port of the member it leaves
 * through, or null when no member is enabled.
 */
export function composeLearningPacket(
  bond: Bond,
  mac: Uint8Array,
  vlan: number,
): { ofport: number; frame: Uint8Array } | null {
  const ofport = bond.chooseOutput(mac, 0, vlan, () => {});
  if (ofport < 0) return null;
  const p = new Uint8Array(RARP_LEN + 4);
  p.fill(0xff, 0, 6);
  p.set(mac, 6);
  putBe16(p, 12, ETH_TYPE_RARP);
  putBe16(p, 14, ARP_HRD_ETHERNET);
  putBe16(p, 16, ARP_PRO_IP);
  p[18] = 6;
  p[19] = 4;
  putBe16(p, 20, ARP_OP_RARP);
  p.set(mac, 22); // sender hardware address; sender IP 0.0.0.0
  p.set(mac, 32); // target hardware address; target IP 0.0.0.0
  const len = vlan ? pushVlan(p, RARP_LEN, ETH_TYPE_VLAN_8021Q, vlan) : RARP_LEN;
  return { ofport, frame: p.subarray(0, len) };
}
