/**
 * Linux bindings for `system` ports, the room where udpif talks to the
 * kernel through libc (Deno.dlopen, --allow-ffi) as OVS's netdev-linux
 * does:
 *
 * - libc.ts: the symbol table, errno and a one-line LinuxError.
 * - ioctl.ts: interface index, flags (up, promiscuous), MTU and MAC.
 * - socket.ts: the AF_PACKET socket of a port (bound to the interface,
 *   promiscuous membership, own frames ignored, VLAN auxdata, optional
 *   virtio_net_hdr for offloads), and PACKET_FANOUT groups for several rx
 *   queues.
 * - batch.ts: burst receive (recvmmsg) and send (sendmmsg) with buffers
 *   allocated once; the virtio_net_hdr constants.
 * - wait.ts: poll(2) over a set of fds, and the eventfd that wakes it.
 * - rtnetlink.ts: an interface's flags, MTU, address and counters
 *   (RTM_GETLINK), and link notifications (`LinkNotifier`).
 * - tap.ts: tap devices (/dev/net/tun) for internal ports, their
 *   read/write burst batches, and the batch interfaces the PMD uses for
 *   sockets and taps alike (`FrameRxBatch`, `FrameTxBatch`).
 *
 * As a provider interface: `openPacketSocket` / `closePacketSocket` and
 * `openTap` / `closeTap` and the ioctl helpers are control operations (they block only for their
 * system call and may be called by any thread; the netdev's owner, the
 * main thread, calls them). `PacketRxBatch.recv`, `PacketTxBatch.flush`
 * never block (MSG_DONTWAIT) and are called by the one thread that owns
 * the batch (the PMD). `FdPoller.poll` blocks up to its timeout and is
 * called only by a thread with nothing else to do (an idle PMD).
 * `eventfdSignal` never blocks and may be called by any thread.
 *
 * Thread-safety: fds are process-wide numbers, so a socket opened on the
 * main thread is used by the PMD worker; each thread binds libc itself
 * on first use. Batches and pollers belong to one thread.
 */
export { addressOf, errno, libc, LinuxError, strerror } from "./libc.ts";
export { type LinkInfo, LinkNotifier, type LinkStats, queryLink } from "./rtnetlink.ts";
export {
  IFF_LOWER_UP,
  IFF_PROMISC,
  IFF_RUNNING,
  IFF_UP,
  interfaceFlags,
  interfaceIndex,
  interfaceMac,
  interfaceMtu,
  updateInterfaceFlags,
} from "./ioctl.ts";
export {
  closePacketSocket,
  joinFanout,
  openPacketSocket,
  type PacketSocket,
  type PacketSocketOptions,
} from "./socket.ts";
export {
  PacketRxBatch,
  PacketTxBatch,
  VNET_F_DATA_VALID,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_GSO_UDP,
  VNET_HDR_LEN,
} from "./batch.ts";
export {
  closeTap,
  type FrameRxBatch,
  type FrameTxBatch,
  openTap,
  type TapDevice,
  TapRxBatch,
  TapTxBatch,
} from "./tap.ts";
export { closeFd, eventfdCreate, eventfdDrain, eventfdSignal, FdPoller } from "./wait.ts";
export { adviseHugePages } from "./memory.ts";
