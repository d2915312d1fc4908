/**
 * An upcall as a handler receives it: a reusable struct that `recv()`
 * refills from the handler's queue, so a handler allocates it once.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { UP_KEY, UP_PACKET, UPCALL_ACTION, UPCALL_MISS } from "./protocol.ts";

export { UPCALL_ACTION, UPCALL_MISS };

export class DpifUpcall {
  /** UPCALL_MISS or UPCALL_ACTION (OVS's DPIF_UC_MISS / DPIF_UC_ACTION). */
  type = UPCALL_MISS;
  inPort = 0;
  /** The flow hash that chose the handler. */
  hash = 0;
  /** The index of the PMD that missed (its flow table gets the flow). */
  pmd = 0;
  readonly ufid = new Uint32Array(4);
  readonly key = new Uint32Array(FLOW_WORDS);
  readonly packet = new Uint8Array(9216 + 64);
  packetLen = 0;
  readonly userdata = new Uint8Array(256);
  userdataLen = 0;
  /**
   * UPCALL_ACTION: the userspace action was the packet's last, so the
   * datapath gives the packet up to the upcall (OVS's should_steal) and
   * drops it when the upcall fails.
   */
  lastAction = false;

  /** Copies the queue record at `at` of `u32` into this struct. */
  fill(u32: Uint32Array, u8: Uint8Array, at: number): void {
    this.type = u32[at];
    this.inPort = u32[at + 1];
    this.hash = u32[at + 2];
    this.packetLen = Math.min(u32[at + 3], this.packet.length);
    this.userdataLen = Math.min(u32[at + 4], this.userdata.length);
    this.lastAction = (u32[at + 5] & 1) !== 0;
    this.pmd = u32[at + 5] >>> 8;
    for (let i = 0; i < 4; i++) this.ufid[i] = u32[at + 6 + i];
    for (let i = 0; i < FLOW_WORDS; i++) this.key[i] = u32[at + UP_KEY + i];
    const p = (at + UP_PACKET) * 4;
    for (let i = 0; i < this.packetLen; i++) this.packet[i] = u8[p + i];
    const u = p + ((u32[at + 3] + 3) & ~3);
    for (let i = 0; i < this.userdataLen; i++) this.userdata[i] = u8[u + i];
  }
}
