/**
 * `netdev-dummy/receive` as OVS's dummy datapath runs it. There a dummy
 * port's queue is drained one packet per poll by the main thread, and a
 * miss is translated and installed in that same thread, so by the time the
 * command returns every packet has been forwarded, and a later packet of
 * the same flow already hits the flow an earlier one installed. Our PMD
 * and handlers are other workers, so each frame is queued alone and the
 * command waits until the datapath has looked it up and the handlers have
 * dealt with its upcall, and with those of its recirculations, before
 * queueing the next.
 */
import { CommandError, timeMsec } from "../lib/mod.ts";
import {
  DummyNetdev,
  DummyReceiveError,
  parseDummyReceive,
  parseReceivePackets,
} from "../netdev/mod.ts";
import type { Bridge } from "./bridge.ts";

/** How long one frame may take before the command gives up waiting on it. */
const FRAME_TIMEOUT_MS = 5000;

export async function receiveInOrder(b: Bridge, args: string[]): Promise<string> {
  let request;
  try {
    const port = b.portByName(args[0]);
    if (port && !port.up) {
      // An administratively down port takes nothing in; the packets are still checked.
      parseReceivePackets(args.slice(args[1] === "--qid" ? 3 : 1));
      return "";
    }
    request = parseDummyReceive(args, (name) => {
      const netdev = b.portByName(name)?.netdev;
      return netdev instanceof DummyNetdev ? netdev : undefined;
    });
  } catch (e) {
    if (e instanceof DummyReceiveError) throw new CommandError(e.message);
    if (e instanceof Error && e.name === "OdpParseError") throw new CommandError(e.message);
    throw e;
  }
  for (const frame of request.frames) {
    const before = lookedUp(b);
    if (request.dev.receive([frame], request.qid) === 0) continue;
    await settle(b, before + 1);
    // What the frame's translation learned, in any bridge it crossed into
    // through a patch port, is in the tables before the next frame.
    const now = timeMsec();
    for (const crossed of b.backer.bridges) crossed.learning.run(now);
  }
  return "";
}

function lookedUp(b: Bridge): number {
  const s = b.dp.getStats();
  return s.hit + s.missed + s.lost;
}

/** Waits until `target` packets were looked up and every upcall handled. */
async function settle(b: Bridge, target: number): Promise<void> {
  const deadline = Date.now() + FRAME_TIMEOUT_MS;
  while (lookedUp(b) < target) {
    // A frame the PMD could not parse is dropped without a lookup.
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const signal = AbortSignal.timeout(FRAME_TIMEOUT_MS);
  // Executing a handled upcall may recirculate the packet (ct, recirc)
  // into another miss before the handler counts the first one handled:
  // wait until no miss is left that was not handled.
  for (let misses = -1; !signal.aborted;) {
    const s = b.dp.getStats();
    if (s.missed - s.lost === misses) return;
    misses = s.missed - s.lost;
    await b.udpif.shared.waitHandled(misses, signal);
  }
}
