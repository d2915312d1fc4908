/**
 * A `system` netdev: a Linux network interface the datapath switches
 * frames to and from, as OVS's netdev-linux "system" class on the
 * userspace datapath. The netdev only opens and configures the
 * interface's AF_PACKET socket (linux/socket.ts); once it is a port, the
 * PMD receives and sends on that socket itself (the fd number is handed
 * over through the shared port table), so frames never pass through this
 * thread or the port's rings.
 *
 * `open` fails with a one-line error naming the interface when it does
 * not exist or cannot be opened.
 */
import { closePacketSocket, LinuxError, openPacketSocket, type PacketSocket } from "./linux/mod.ts";
import { Netdev, type NetdevPortLink } from "./netdev.ts";

export interface SystemNetdevOptions {
  /** Exchange frames with a virtio_net_hdr (checksum and TSO offloads); default true. */
  offloads?: boolean;
}

export class SystemNetdev extends Netdev {
  #socket?: PacketSocket;
  readonly #vnetHdr: boolean;

  private constructor(name: string, socket: PacketSocket) {
    super(name, "system");
    this.#socket = socket;
    this.#vnetHdr = socket.vnetHdr;
  }

  /** Opens interface `name`; throws an Error naming it when that fails. */
  static open(name: string, options: SystemNetdevOptions = {}): SystemNetdev {
    try {
      return new SystemNetdev(
        name,
        openPacketSocket(name, { vnetHdr: options.offloads ?? true }),
      );
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
  }

  override detach(): void {
    this.link?.setSocket?.(-1, false);
    super.detach();
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
    this.link?.setSocket?.(-1, false);
    this.#socket = undefined;
    closePacketSocket(s);
  }

  /**
   * The interface is back (under a new ifindex, maybe): opens it again
   * as it was opened and hands the new socket to the PMD; throws a
   * LinuxError when it cannot.
   */
  resume(): void {
    if (this.#socket) return;
    const s = openPacketSocket(this.name, { vnetHdr: this.#vnetHdr });
    this.#socket = s;
    this.link?.setSocket?.(s.fd, s.vnetHdr);
  }
}
