/**
 * A `tap` netdev: the bridge's internal port on the netdev datapath, a
 * tap device of the port's name through which the host talks to the
 * switch, as OVS's netdev-linux "tap" class (netdev_linux_construct_tap).
 * Like a system port, the netdev only creates the device (linux/tap.ts);
 * once it is a port the PMD reads and writes its fd itself (handed over
 * through the shared port table), so frames never pass through this
 * thread.
 *
 * `open` fails with a one-line error naming the device when it cannot be
 * created (the name is taken, no /dev/net/tun, not permitted). Closing
 * the netdev removes the device.
 */
import { closeTap, openTap, type TapDevice } from "./linux/mod.ts";
import { Netdev, type NetdevPortLink } from "./netdev.ts";

export class TapNetdev extends Netdev {
  #tap?: TapDevice;
  readonly #vnetHdr: boolean;

  private constructor(name: string, tap: TapDevice) {
    super(name, "tap");
    this.#tap = tap;
    this.#vnetHdr = tap.vnetHdr;
  }

  /**
   * Creates tap device `name`, exchanging frames with a virtio_net_hdr
   * (checksum and TSO offloads) unless `offloads` is false; throws an
   * Error naming it when that fails.
   */
  static open(name: string, options: { offloads?: boolean } = {}): TapNetdev {
    return new TapNetdev(name, openTap(name, options.offloads ?? true));
  }

  get ifindex(): number {
    return this.#tap?.ifindex ?? 0;
  }

  override attach(link: NetdevPortLink): void {
    super.attach(link);
    const t = this.#tap;
    if (t) link.setSocket?.(t.fd, t.vnetHdr, "tap");
  }

  override detach(): void {
    this.link?.setSocket?.(-1, false);
    super.detach();
  }

  override close(): void {
    super.close();
    const t = this.#tap;
    this.#tap = undefined;
    if (t) closeTap(t);
  }

  /** True while the tap is open (not suspended). */
  get open(): boolean {
    return this.#tap !== undefined;
  }

  /** The device went away: takes the fd back from the PMD and closes it. */
  suspend(): void {
    const t = this.#tap;
    if (!t) return;
    this.link?.setSocket?.(-1, false);
    this.#tap = undefined;
    closeTap(t);
  }

  /** Creates the tap again and hands its fd to the PMD; throws when it cannot. */
  resume(): void {
    if (this.#tap) return;
    const t = openTap(this.name, this.#vnetHdr);
    this.#tap = t;
    this.link?.setSocket?.(t.fd, t.vnetHdr, "tap");
  }
}
