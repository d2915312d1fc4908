/**
 * `netdev-dummy/receive NAME [--qid N] PACKET [--len N]...`: turns each
 * PACKET (an Ethernet frame in hex, or a datapath flow spec composed into
 * a packet as OVS's flow_compose does) into a frame and queues them all on
 * the dummy netdev NAME. Everything is parsed before anything is queued,
 * so a bad argument changes nothing. Errors carry OVS's reply text.
 */
import { flowCompose, newKey, OdpParseError, parsePacketKey } from "../flow/mod.ts";
import { coverageCounter } from "../lib/mod.ts";
import { ethFromHex } from "../packet/mod.ts";
import type { DummyNetdev } from "./dummy.ts";

/** OVS extracts the flow of every frame given in hex, to queue it with the frame. */
const covFlowExtract = coverageCounter("flow_extract");

/** ETH_TOTAL_MIN: the smallest Ethernet frame without FCS. */
const ETH_TOTAL_MIN = 60;

export class DummyReceiveError extends Error {}

/** The frames named by `packets` (the arguments after NAME and --qid). */
export function parseReceivePackets(packets: readonly string[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < packets.length; i++) {
    const hex = ethFromHex(packets[i]);
    if (typeof hex !== "string") {
      covFlowExtract.inc();
      frames.push(hex);
      continue;
    }
    const spec = packets[i];
    let size = 0;
    if (packets[i + 1] === "--len" && i + 2 < packets.length) {
      size = parseInt(packets[i + 2], 10) || 0;
      if (size < ETH_TOTAL_MIN) throw new DummyReceiveError("too small packet len");
      i += 2;
    }
    const key = newKey();
    try {
      parsePacketKey(spec, key);
    } catch (e) {
      if (e instanceof OdpParseError) throw new DummyReceiveError(e.ovsMessage);
      throw new DummyReceiveError((e as Error).message);
    }
    const buf = new Uint8Array(Math.max(size, 9216) + 64);
    const len = flowCompose(key, buf, size);
    if (len < 0) throw new DummyReceiveError("too small packet len");
    frames.push(buf.slice(0, len));
  }
  return frames;
}

/** What a netdev-dummy/receive call asks for: the netdev and its frames. */
export interface DummyReceive {
  dev: DummyNetdev;
  frames: Uint8Array[];
  /** The rx queue (--qid), 0 by default. */
  qid: number;
}

/**
 * Checks the command's arguments (NAME first; `lookup` finds a dummy
 * netdev by name) and builds every frame, queueing nothing.
 */
export function parseDummyReceive(
  args: readonly string[],
  lookup: (name: string) => DummyNetdev | undefined,
): DummyReceive {
  const dev = args[0] === undefined ? undefined : lookup(args[0]);
  if (!dev) throw new DummyReceiveError("no such dummy netdev");
  let k = 1, qid = 0;
  if (args.length > k + 1 && args[k] === "--qid") {
    qid = parseInt(args[k + 1], 10) || 0;
    if (qid < 0 || qid >= dev.nRxq) throw new DummyReceiveError("bad rx queue id.");
    k += 2;
  }
  return { dev, frames: parseReceivePackets(args.slice(k)), qid };
}

/** Runs the command, queueing every frame at once. Returns the reply (empty). */
export function netdevDummyReceive(
  args: readonly string[],
  lookup: (name: string) => DummyNetdev | undefined,
): string {
  const { dev, frames, qid } = parseDummyReceive(args, lookup);
  dev.receive(frames, qid);
  return "";
}
