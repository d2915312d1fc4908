/**
 * What a port's options connect its netdev to, as netdev-dummy's options
 * do in OVS: `rx_pcap=FILE` (frames read from a pcap file are received
 * on the port), `tx_pcap=FILE` (frames the datapath sends out of the port
 * are appended to a pcap file), `pstream=punix:PATH` / `stream=unix:PATH`
 * (frames exchanged with a socket peer). A capture cut mid-way or holding
 * a bad record delivers the records before it and logs one warning naming
 * the port, the file and the offset; a file that is no pcap refuses the port.
 *
 * Thread-safety: main thread, which owns the netdevs.
 */
import { getLogger, timeWallMsec } from "../lib/mod.ts";
import {
  DummyNetdev,
  DummyStream,
  type Netdev,
  PcapWriter,
  readPcapFramesPrefix,
  streamPath,
} from "../netdev/mod.ts";

const log = getLogger("netdev_dummy");

/** Open files and sockets of one port; `close` releases them. */
export class PortIo {
  readonly #closers: Array<() => void> = [];
  readonly #rxFrames: Uint8Array[] = [];
  /** True when transmitted frames must be collected (pcap or socket). */
  wantsTx = false;

  /** Opens what `options` name for `netdev`; throws naming the option and file on failure. */
  static async open(netdev: DummyNetdev, options: Record<string, string>): Promise<PortIo> {
    const io = new PortIo();
    try {
      if (options.rx_pcap) {
        // readPcapFramesPrefix names the file; the option name goes in front.
        const { frames, error } = await readPcapFramesPrefix(options.rx_pcap).catch((e) => {
          throw new Error(`${netdev.name}: rx_pcap=${e instanceof Error ? e.message : e}`);
        });
        // A capture cut mid-way still delivers its whole records, as
        // netdev-dummy replays until ovs_pcap_read fails; the cut is logged.
        if (error) log.warn(`${netdev.name}: rx_pcap=${error.message}`);
        io.#rxFrames.push(...frames);
      }
      if (options.tx_pcap) {
        const writer = await PcapWriter.create(options.tx_pcap).catch((e) => {
          throw new Error(
            `${netdev.name}: tx_pcap=${options.tx_pcap}: ${e instanceof Error ? e.message : e}`,
          );
        });
        // Each frame reaches the file at once, so a reader sees it while the port runs.
        netdev.onTx((frame) => {
          writer.write(frame, timeWallMsec());
          writer.flush();
        });
        io.wantsTx = true;
        io.#closers.push(() => writer.close());
      }
      if (options.pstream || options.stream) {
        const stream = new DummyStream(netdev);
        if (options.pstream) await stream.listen(streamPath(options.pstream, true));
        else await stream.connect(streamPath(options.stream, false));
        io.wantsTx = true;
        io.#closers.push(() => stream.close());
      }
    } catch (e) {
      io.close();
      throw e;
    }
    return io;
  }

  /** Nothing to open: `close` runs `closer` (a system port's socket). */
  static closing(closer: () => void): PortIo {
    const io = new PortIo();
    io.#closers.push(closer);
    return io;
  }

  /** Hands the frames read from `rx_pcap` to the port, once. */
  startRx(netdev: Netdev): void {
    if (this.#rxFrames.length && netdev instanceof DummyNetdev) {
      netdev.receive(this.#rxFrames.splice(0));
    }
  }

  close(): void {
    for (const c of this.#closers.splice(0)) {
      try {
        c();
      } catch {
        // Already closed.
      }
    }
  }
}
