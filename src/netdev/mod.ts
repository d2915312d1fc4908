/**
 * Netdevs: the devices datapath ports are made of. Each netdev talks to
 * the datapath through two SPSC rings in shared memory that the datapath
 * hands it when it becomes a port (`Netdev.attach`): it produces received
 * frames on `rx` and consumes transmitted frames from `tx`. The datapath
 * only asks a netdev for transmitted frames when the netdev wants them
 * (recording, sockets); otherwise the PMD just counts them.
 *
 * Main types: `Netdev` (the base: ring plumbing), `DummyNetdev` (frames
 * injected by `netdev-dummy/receive`, tx optionally recorded or pumped to
 * listeners), `DummyStream` (the `stream=unix:` / `pstream=punix:`
 * options: 2-byte length + frame over a Unix socket, both ways), and the
 * pcap helpers (`readPcapFramesPrefix` for `rx_pcap`, the whole records
 * before a cut or bad one plus the error naming its offset; `replayFrames`,
 * lossless, optionally paced; `PcapWriter` for `tx_pcap`). A stream peer
 * that breaks the framing loses its connection with one warning. `netdevDummyReceive` is the
 * `netdev-dummy/receive` command itself. `SystemNetdev` is a Linux
 * interface (the `system` type): it opens the interface's AF_PACKET
 * socket (with options:n_rxq, one socket per rx queue in a PACKET_FANOUT
 * group) and hands its fds to the PMDs, which then do the port's I/O
 * themselves with the batch, poll and eventfd helpers of linux/ (re-exported
 * here: the Linux bindings, see linux/mod.ts). `TapNetdev` is the
 * bridge's internal port on the netdev datapath, a tap device whose fd
 * the PMD reads and writes the same way. link.ts reports a Linux netdev's
 * interface state and kernel counters (`linkStatus`, `linuxNetdevStats`);
 * both kinds can be `suspend`ed when their interface goes away and
 * `resume`d when it is back.
 *
 * Thread-safety: a netdev object lives on the thread that created it
 * (the main thread); it is the only producer of its rx ring and the only
 * consumer of its tx ring. The PMD owns the other ends. A system
 * netdev's socket is opened and closed by its owner; between attach and
 * detach only the PMD reads and writes it.
 */
export { Netdev, type NetdevPortLink } from "./netdev.ts";
export { DummyNetdev } from "./dummy.ts";
export {
  type DummyReceive,
  DummyReceiveError,
  netdevDummyReceive,
  parseDummyReceive,
  parseReceivePackets,
} from "./dummy_receive.ts";
export { DummyStream, streamPath } from "./stream.ts";
export {
  PcapWriter,
  readPcapFrames,
  readPcapFramesPrefix,
  recordTx,
  replayFrames,
  type ReplayOptions,
} from "./pcap.ts";
export { SystemNetdev, type SystemNetdevOptions } from "./system.ts";
export { TapNetdev } from "./tap.ts";
export {
  asLinuxNetdev,
  type LinkStatus,
  linkStatus,
  type LinuxNetdev,
  linuxNetdevStats,
} from "./link.ts";
export * from "./linux/mod.ts";
