/**
 * Tap devices, as OVS's netdev-linux "tap" class makes them for the
 * userspace datapath's internal ports (netdev_linux_construct_tap): a
 * file descriptor on /dev/net/tun attached with TUNSETIFF to a new
 * IFF_TAP | IFF_NO_PI interface of the port's name. The host's frames out
 * of that interface are read from the fd, and frames written to the fd
 * arrive at the host as received on it. The device is not made
 * persistent, so it goes away when the fd is closed (the daemon exits or
 * dies). IFF_TUN_EXCL refuses a name that exists already rather than
 * taking over someone else's tap. With offloads (`vnetHdr`), as OVS with
 * userspace-tso-enable: IFF_VNET_HDR puts a virtio_net_hdr in front of
 * every frame both ways, and TUNSETOFFLOAD lets the host hand over
 * partial checksums and TCP super-frames (the same facts a system port's
 * PACKET_VNET_HDR carries).
 *
 * The PMD moves frames in bursts as netdev_linux_batch_rxq_recv_tap and
 * netdev_linux_tap_batch_send do, one read(2) or write(2) per frame (a
 * tap fd has no recvmmsg). `TapRxBatch` and `TapTxBatch` offer the same
 * operations as the packet socket batches (`FrameRxBatch`,
 * `FrameTxBatch`), so the PMD treats both alike; their slots, one view
 * per slot, and the errno view are made once, so a burst allocates
 * nothing.
 *
 * Thread-safety: `openTap`/`closeTap` run on the netdev's owner (main);
 * a batch belongs to the one thread that calls it (the PMD).
 */
import { interfaceIndex } from "./ioctl.ts";
import { addressOf, check, cString, errno, libc, LinuxError } from "./libc.ts";

const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_TUN_EXCL = 0x8000;
const IFF_VNET_HDR = 0x4000;
const TUNSETOFFLOAD = 0x400454d0;
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
const TUN_F_TSO_ECN = 0x08;
const VNET_HDR_LEN = 10;
const HEADER_SLOT = 16;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const EAGAIN = 11;
const EINTR = 4;
const EBUSY = 16;
const ENOENT = 2;
/** Room for the largest frame a tap's MTU (at most 65521) allows. */
const TAP_SLOT = 65536 + 64;

/** What the PMD needs of a receive batch (packet socket or tap). */
export interface FrameRxBatch {
  readonly hdrLen: number;
  readonly data: Uint8Array;
  readonly data32: Uint32Array;
  readonly header: Uint8Array;
  lastError: number;
  offset(k: number): number;
  recv(fd: number): number;
  frameLength(k: number): number;
  vlanTag(k: number): number;
}

/** What the PMD needs of a send batch (packet socket or tap). */
export interface FrameTxBatch {
  readonly hdrLen: number;
  readonly data: Uint8Array;
  readonly data32: Uint32Array;
  readonly header: Uint8Array;
  readonly full: boolean;
  count: number;
  lastError: number;
  nextOffset(): number;
  push(len: number): void;
  flush(fd: number): number;
}

/** An open tap device. */
export interface TapDevice {
  readonly fd: number;
  readonly ifindex: number;
  /** True when frames carry a virtio_net_hdr both ways. */
  readonly vnetHdr: boolean;
}

/**
 * Creates tap interface `name`; throws a one-line Error naming it (the
 * name is taken, no /dev/net/tun, not permitted) and leaves nothing open.
 */
export function openTap(name: string, vnetHdr: boolean): TapDevice {
  const nameBytes = cString(name);
  if (nameBytes.length > IFNAMSIZ) {
    throw new Error(`cannot create tap device ${name}: name longer than ${IFNAMSIZ - 1} bytes`);
  }
  const c = libc();
  const fd = c.open(cString("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    const err = errno();
    const why = err === ENOENT ? "no /dev/net/tun" : new LinuxError("/dev/net/tun", err).message;
    throw new Error(`cannot create tap device ${name}: ${why}`);
  }
  try {
    const req = new Uint8Array(IFREQ_SIZE);
    req.set(nameBytes);
    const flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL | (vnetHdr ? IFF_VNET_HDR : 0);
    new DataView(req.buffer).setUint16(IFNAMSIZ, flags, true);
    if (c.ioctl(fd, BigInt(TUNSETIFF), req) < 0) {
      const err = errno();
      throw new Error(
        `cannot create tap device ${name}: ${
          err === EBUSY
            ? "a network device of that name exists already"
            : new LinuxError("TUNSETIFF", err).message
        }`,
      );
    }
    if (vnetHdr) {
      const offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
      check(c.ioctlValue(fd, BigInt(TUNSETOFFLOAD), BigInt(offloads)), `${name}: TUNSETOFFLOAD`);
    }
    return { fd, ifindex: interfaceIndex(name), vnetHdr };
  } catch (e) {
    c.close(fd);
    throw e;
  }
}

/** Closes the tap's fd, which removes the (non-persistent) device. */
export function closeTap(tap: TapDevice): void {
  check(libc().close(tap.fd), `close(${tap.fd})`);
}

let errnoCell: Int32Array | undefined;

/** errno read through a view of this thread's errno cell, so a check allocates nothing. */
function lastErrno(): number {
  if (!errnoCell) {
    const p = libc().__errno_location()!;
    errnoCell = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
  }
  return errnoCell[0];
}

/**
 * `burst` frame slots of TAP_SLOT bytes, each with up to two iovecs (its
 * virtio_net_hdr in `header`, 16 bytes a slot, when there is one; its
 * frame), written once but for the frame length (through a 32-bit view),
 * and a pointer to them for readv/writev.
 */
class TapSlots {
  readonly data: Uint8Array<ArrayBuffer>;
  readonly data32: Uint32Array;
  readonly len: Int32Array;
  readonly header: Uint8Array<ArrayBuffer>;
  /** Bytes of virtio_net_hdr in front of each frame (0 without one). */
  readonly hdrLen: number;
  protected readonly nIov: number;
  protected readonly iov32: Uint32Array;
  protected readonly iovAt: Deno.PointerValue[];

  constructor(readonly burst: number, vnetHdr: boolean) {
    this.hdrLen = vnetHdr ? VNET_HDR_LEN : 0;
    this.nIov = vnetHdr ? 2 : 1;
    this.data = new Uint8Array(burst * TAP_SLOT);
    this.data32 = new Uint32Array(this.data.buffer);
    this.header = new Uint8Array(burst * HEADER_SLOT);
    this.len = new Int32Array(burst);
    const iov = new BigUint64Array(burst * 4);
    this.iov32 = new Uint32Array(iov.buffer);
    const base = addressOf(this.data), hdrBase = addressOf(this.header);
    const iovBase = addressOf(iov);
    this.iovAt = [];
    for (let k = 0; k < burst; k++) {
      let v = k * 4;
      if (vnetHdr) {
        iov[v++] = hdrBase + BigInt(k * HEADER_SLOT);
        iov[v++] = BigInt(VNET_HDR_LEN);
      }
      iov[v++] = base + BigInt(k * TAP_SLOT);
      iov[v] = BigInt(TAP_SLOT);
      this.iovAt.push(Deno.UnsafePointer.create(iovBase + BigInt(k * 32)));
    }
  }

  /** Sets slot k's frame iovec length (its low word: frames are < 4 GiB). */
  protected setFrameLength(k: number, len: number): void {
    this.iov32[(k * 4 + this.nIov * 2 - 1) * 2] = len;
  }
}

/** A burst of receive slots for one tap fd. */
export class TapRxBatch extends TapSlots implements FrameRxBatch {
  lastError = 0;

  offset(k: number): number {
    return k * TAP_SLOT;
  }

  /**
   * Reads up to a burst without blocking; returns how many frames were
   * read (0 when none waits), or -1 on an error before any (in `lastError`).
   */
  recv(fd: number): number {
    const c = libc();
    let k = 0;
    while (k < this.burst) {
      const n = c.readv(fd, this.iovAt[k], this.nIov);
      if (n >= this.hdrLen) {
        this.len[k++] = n - this.hdrLen;
        continue;
      }
      if (n >= 0) continue;
      const err = lastErrno();
      if (err === EINTR) continue;
      if (err === EAGAIN) break;
      this.lastError = err;
      return k || -1;
    }
    return k;
  }

  frameLength(k: number): number {
    return this.len[k];
  }

  /** A tap hands frames over with their VLAN tags in place. */
  vlanTag(_k: number): number {
    return -1;
  }
}

/** A burst of send slots for one tap fd. */
export class TapTxBatch extends TapSlots implements FrameTxBatch {
  count = 0;
  lastError = 0;

  get full(): boolean {
    return this.count === this.burst;
  }

  nextOffset(): number {
    return this.count * TAP_SLOT;
  }

  push(len: number): void {
    this.len[this.count++] = len;
  }

  /** Writes every queued frame; returns how many the device took (a refused one is dropped). */
  flush(fd: number): number {
    const c = libc();
    let sent = 0;
    for (let k = 0; k < this.count; k++) {
      this.setFrameLength(k, this.len[k]);
      let n = c.writev(fd, this.iovAt[k], this.nIov);
      while (n < 0 && lastErrno() === EINTR) n = c.writev(fd, this.iovAt[k], this.nIov);
      if (n >= 0) sent++;
      else this.lastError = lastErrno();
    }
    this.count = 0;
    return sent;
  }
}
