/**
 * The AF_PACKET socket behind a `system` port, set up as OVS's
 * netdev-linux sets up its rx socket (netdev_linux_rxq_construct): bound
 * to one interface for every protocol, PACKET_AUXDATA on (the kernel
 * reports the VLAN tag it stripped), PACKET_VNET_HDR on when offloads are
 * wanted (each frame carries a virtio_net_hdr: partial checksums and
 * TSO/GSO super-frames pass as they are), the interface in promiscuous
 * mode through a PACKET_MR_PROMISC membership, and the frames the socket
 * itself sends not received again (PACKET_IGNORE_OUTGOING, where OVS
 * attaches a BPF filter for PACKET_OUTGOING). A port with several rx
 * queues has one socket per queue in a PACKET_FANOUT group (`joinFanout`).
 * The socket is non-blocking:
 * the PMD waits for it in poll(2).
 *
 * Thread-safety: opened and closed by the thread that owns the netdev
 * (main); the fd number is process-wide, so the PMD does the I/O on it.
 */
import { interfaceIndex } from "./ioctl.ts";
import { check, errno, libc, LinuxError } from "./libc.ts";

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 3;
const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
export const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_PROMISC = 1;
export const PACKET_AUXDATA = 8;
const PACKET_VNET_HDR = 15;
const PACKET_IGNORE_OUTGOING = 23;
const PACKET_FANOUT = 18;
/** Fanout by the flow hash (the kernel's skb hash over the 5-tuple): one flow, one socket. */
const PACKET_FANOUT_HASH = 0;
/** Socket buffers big enough for a burst of 64 KiB GSO frames. */
const SOCKET_BUFFER = 8 << 20;

export interface PacketSocketOptions {
  /** Ask for a virtio_net_hdr in front of every frame (offloads). */
  vnetHdr: boolean;
  /** Put the interface in promiscuous mode (default true). */
  promisc?: boolean;
}

/** An open AF_PACKET socket bound to one interface. */
export interface PacketSocket {
  readonly fd: number;
  readonly ifindex: number;
  /** True when frames carry a virtio_net_hdr both ways. */
  readonly vnetHdr: boolean;
}

function setInt(fd: number, level: number, opt: number, value: number): number {
  const v = new Int32Array([value]);
  return libc().setsockopt(fd, level, opt, new Uint8Array(v.buffer), 4);
}

/**
 * Opens the socket for interface `name`; throws a LinuxError naming the
 * interface (ENODEV when it does not exist) and leaves nothing open.
 */
export function openPacketSocket(name: string, options: PacketSocketOptions): PacketSocket {
  const ifindex = interfaceIndex(name);
  const c = libc();
  // Protocol 0 receives nothing until bind chooses the interface.
  const fd = check(
    c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
    `${name}: socket(AF_PACKET)`,
  );
  try {
    check(setInt(fd, SOL_PACKET, PACKET_AUXDATA, 1), `${name}: PACKET_AUXDATA`);
    check(setInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1), `${name}: PACKET_IGNORE_OUTGOING`);
    if (options.vnetHdr) {
      check(setInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1), `${name}: PACKET_VNET_HDR`);
    }
    // Without CAP_NET_ADMIN the kernel's default buffers stay.
    setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUFFER);
    setInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUFFER);
    const sll = new DataView(new ArrayBuffer(20));
    sll.setUint16(0, AF_PACKET, true);
    sll.setUint16(2, ETH_P_ALL, false);
    sll.setInt32(4, ifindex, true);
    check(c.bind(fd, new Uint8Array(sll.buffer), 20), `${name}: bind`);
    if (options.promisc ?? true) {
      const mreq = new DataView(new ArrayBuffer(16));
      mreq.setInt32(0, ifindex, true);
      mreq.setUint16(4, PACKET_MR_PROMISC, true);
      check(
        c.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, new Uint8Array(mreq.buffer), 16),
        `${name}: PACKET_ADD_MEMBERSHIP`,
      );
    }
  } catch (e) {
    c.close(fd);
    throw e;
  }
  return { fd, ifindex, vnetHdr: options.vnetHdr };
}

/**
 * Puts the socket in PACKET_FANOUT group `id` (16 bits) of its interface,
 * spreading received frames over the group's sockets by flow hash
 * (PACKET_FANOUT_HASH); throws a LinuxError (EINVAL when group `id` is
 * another interface's or mode's).
 */
export function joinFanout(s: PacketSocket, id: number, name: string): void {
  check(
    setInt(s.fd, SOL_PACKET, PACKET_FANOUT, (id & 0xffff) | (PACKET_FANOUT_HASH << 16)),
    `${name}: PACKET_FANOUT`,
  );
}

/** Closes the socket (dropping its promiscuous membership). */
export function closePacketSocket(s: PacketSocket): void {
  if (libc().close(s.fd) < 0) throw new LinuxError(`close(${s.fd})`, errno());
}
