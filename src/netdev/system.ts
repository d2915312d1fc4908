/**
 * A `system` netdev: a Linux network interface the datapath switches
 * frames to and from, as OVS's netdev-linux "system" class on the
 * userspace datapath. The netdev only opens and configures the
 * interface's AF_PACKET socket (linux/socket.ts); once it is a port, the
 * PMD receives and sends on that socket itself (the fd number is handed
 * over through the shared port table), so frames never pass through this
 * thread or the port's rings.
 *
 * With several rx queues (`nRxq`, options:n_rxq), the netdev opens one
 * socket per queue and puts them all in one PACKET_FANOUT group
 * (PACKET_FANOUT_HASH), so the kernel spreads the frames over the queues
 * by flow hash; queue 0's socket also sends, the others only receive, and
 * each queue is polled by the PMD it is assigned to.
 *
 * `open` fails with a one-line error naming the interface when it does
 * not exist or cannot be opened.
 */
import {
  closePacketSocket,
  joinFanout,
  LinuxError,
  openPacketSocket,
  type PacketSocket,
} from "./linux/mod.ts";
import { Netdev, type NetdevPortLink } from "./netdev.ts";

export interface SystemNetdevOptions {
  /** Exchange frames with a virtio_net_hdr (checksum and TSO offloads); default true. */
  offloads?: boolean;
  /** Rx queues (options:n_rxq), each a socket of one fanout group; default 1. */
  nRxq?: number;
}

/** Fanout group ids are per network namespace: start from the pid, skip ids in use. */
let nextFanoutId = (Deno.pid * 7919) & 0xffff;
const FANOUT_ID_TRIES = 64;

/**
 * Puts `sockets` into a fresh fanout group of interface `name`: the first
 * id nobody else uses on another interface or mode.
 */
function joinNewFanoutGroup(sockets: readonly PacketSocket[], name: string): void {
  for (let t = 0;; t++) {
    const id = nextFanoutId;
    nextFanoutId = (nextFanoutId + 1) & 0xffff;
    try {
      joinFanout(sockets[0], id, name);
    } catch (e) {
      if (e instanceof LinuxError && e.errno === 22 && t < FANOUT_ID_TRIES) continue;
      throw e;
    }
    for (const s of sockets.slice(1)) joinFanout(s, id, name);
    return;
  }
}

/** Opens the `n` sockets of interface `name`, in one fanout group when n > 1; closes all on failure. */
function openQueueSockets(name: string, n: number, vnetHdr: boolean): PacketSocket[] {
  const sockets: PacketSocket[] = [];
  try {
    for (let q = 0; q < n; q++) sockets.push(openPacketSocket(name, { vnetHdr }));
    if (n > 1) joinNewFanoutGroup(sockets, name);
  } catch (e) {
    for (const s of sockets) closePacketSocket(s);
    throw e;
  }
  return sockets;
}

export class SystemNetdev extends Netdev {
  #socket?: PacketSocket;
  /** The sockets of rx queues 1.. (receive only), in queue 0's fanout group. */
  #queues: PacketSocket[] = [];
  readonly #vnetHdr: boolean;

  private constructor(name: string, sockets: PacketSocket[]) {
    super(name, "system");
    this.#socket = sockets[0];
    this.#queues = sockets.slice(1);
    this.#vnetHdr = sockets[0].vnetHdr;
    this.nRxq = sockets.length;
  }

  /** Opens interface `name`; throws an Error naming it when that fails. */
  static open(name: string, options: SystemNetdevOptions = {}): SystemNetdev {
    const n = options.nRxq ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${name}: n_rxq must be 1 or more, not ${n}`);
    }
    try {
      return new SystemNetdev(name, openQueueSockets(name, n, options.offloads ?? true));
    } catch (e) {
      if (e instanceof LinuxError && e.errno === 19) {
        throw new Error(`${name}: no such network interface`);
      }
      throw new Error(`${name}: cannot open as a system port (${(e as Error).message})`);
    }
  }

  get ifindex(): number {
    return this.#socket?.ifindex ?? 0;
  }

  /** True when frames carry offload metadata (virtio_net_hdr). */
  get offloads(): boolean {
    return this.#socket?.vnetHdr ?? false;
  }

  override attach(link: NetdevPortLink): void {
    super.attach(link);
    const s = this.#socket;
    if (s) link.setSocket?.(s.fd, s.vnetHdr);
    this.#queues.forEach((q, i) => link.setQueueSocket?.(i + 1, q.fd));
  }

  override detach(): void {
    this.#withdraw();
    super.detach();
  }

  /** Takes every socket back from the PMDs (each call returns once they let go). */
  #withdraw(): void {
    this.#queues.forEach((_, i) => this.link?.setQueueSocket?.(i + 1, -1));
    this.link?.setSocket?.(-1, false);
  }

  /**
   * Closes the socket. It must not be closed under a running PMD (the
   * number could be reused by another fd): `detach` (which `close` does
   * first when the port still exists) returns only once the PMD
   * acknowledged losing the fd (dpif/_port_fd.ts), so closing after the
   * port was deleted or the datapath destroyed is safe.
   */
  override close(): void {
    super.close();
    const s = this.#socket;
    this.#socket = undefined;
    if (s) closePacketSocket(s);
    for (const q of this.#queues.splice(0)) closePacketSocket(q);
  }

  /** True while the interface's socket is open (not suspended). */
  get open(): boolean {
    return this.#socket !== undefined;
  }

  /**
   * The interface went away: takes the socket back from the PMD (which
   * stops using it first) and closes it. The port stays.
   */
  suspend(): void {
    const s = this.#socket;
    if (!s) return;
    this.#withdraw();
    this.#socket = undefined;
    closePacketSocket(s);
    for (const q of this.#queues.splice(0)) closePacketSocket(q);
  }

  /**
   * The interface is back (under a new ifindex, maybe): opens it again
   * as it was opened and hands the new socket to the PMD; throws a
   * LinuxError when it cannot.
   */
  resume(): void {
    if (this.#socket) return;
    const [s, ...queues] = openQueueSockets(this.name, this.nRxq, this.#vnetHdr);
    this.#socket = s;
    this.#queues = queues;
    this.link?.setSocket?.(s.fd, s.vnetHdr);
    queues.forEach((q, i) => this.link?.setQueueSocket?.(i + 1, q.fd));
  }
}
