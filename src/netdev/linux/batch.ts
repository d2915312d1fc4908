/**
 * Batched frame I/O on a packet socket with recvmmsg(2) and sendmmsg(2),
 * as OVS's netdev_linux_batch_rxq_recv_sock and
 * netdev_linux_sock_batch_send do: one system call moves up to a burst of
 * frames. Every buffer, iovec and mmsghdr is allocated once, at
 * construction; a call allocates nothing.
 *
 * Each slot holds an optional virtio_net_hdr (when the socket has
 * PACKET_VNET_HDR) followed by the frame. On receive, the PACKET_AUXDATA
 * control message of each frame tells whether the kernel stripped a VLAN
 * tag (`vlanTci`).
 *
 * Thread-safety: a batch belongs to the one thread that calls it (the
 * PMD); the socket it is called with may have been opened elsewhere.
 */
import { addressOf, errno, libc } from "./libc.ts";
import { PACKET_AUXDATA, SOL_PACKET } from "./socket.ts";

/** struct virtio_net_hdr, as PACKET_VNET_HDR puts it in front of frames. */
export const VNET_HDR_LEN = 10;
export const VNET_F_NEEDS_CSUM = 1;
export const VNET_F_DATA_VALID = 2;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_ECN = 0x80;

const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const MMSG_SIZE = 64;
const CMSG_SPACE = 64;
const HEADER_SLOT = 16;
const TP_STATUS_VLAN_VALID = 0x10;
const TP_STATUS_VLAN_TPID_VALID = 0x40;
const ETH_TYPE_VLAN = 0x8100;

/**
 * `burst` mmsghdrs, each with up to two iovecs: the slot's virtio_net_hdr
 * (in `header`, 16 bytes a slot; left out without one) and its frame (in
 * `data`, `slotSize` bytes a slot, 64-byte aligned so frames can be copied
 * a word at a time).
 */
class MmsgArray {
  readonly mmsg: Uint8Array<ArrayBuffer>;
  readonly m32: Uint32Array;
  readonly m64: BigUint64Array;
  readonly header: Uint8Array<ArrayBuffer>;
  readonly data: Uint8Array<ArrayBuffer>;
  readonly data32: Uint32Array;
  readonly iov: BigUint64Array<ArrayBuffer>;
  /** `iov` as 32-bit words: lengths are written to the low word, never as BigInts (no allocation). */
  readonly iov32: Uint32Array;
  readonly nIov: number;

  constructor(readonly burst: number, frameCapacity: number, readonly hdrLen: number) {
    this.slotSize = (frameCapacity + 63) & ~63;
    this.nIov = hdrLen ? 2 : 1;
    this.header = new Uint8Array(burst * HEADER_SLOT);
    this.data = new Uint8Array(burst * this.slotSize);
    this.data32 = new Uint32Array(this.data.buffer);
    this.iov = new BigUint64Array(burst * 4);
    this.iov32 = new Uint32Array(this.iov.buffer);
    this.mmsg = new Uint8Array(burst * MMSG_SIZE);
    this.m32 = new Uint32Array(this.mmsg.buffer);
    this.m64 = new BigUint64Array(this.mmsg.buffer);
    const hdrBase = addressOf(this.header), base = addressOf(this.data);
    const iovBase = addressOf(this.iov);
    for (let k = 0; k < burst; k++) {
      let v = k * 4;
      if (hdrLen) {
        this.iov[v++] = hdrBase + BigInt(k * HEADER_SLOT);
        this.iov[v++] = BigInt(hdrLen);
      }
      this.iov[v++] = base + BigInt(k * this.slotSize);
      this.iov[v] = BigInt(this.slotSize);
      // msghdr: msg_iov at +16, msg_iovlen at +24.
      this.m64[(k * MMSG_SIZE + 16) / 8] = iovBase + BigInt(k * 32);
      this.m64[(k * MMSG_SIZE + 24) / 8] = BigInt(this.nIov);
    }
  }

  readonly slotSize: number;

  /** Sets the frame length of slot k's last iovec (little-endian low word; the high one stays 0). */
  setFrameLength(k: number, len: number): void {
    this.iov32[(k * 4 + this.nIov * 2 - 1) * 2] = len;
  }
}

/** A burst of receive slots for one packet socket. */
export class PacketRxBatch {
  readonly #m: MmsgArray;
  readonly #ctrl: Uint8Array<ArrayBuffer>;
  readonly #c16: Uint16Array;
  readonly #c32: Int32Array;
  /** Bytes of virtio_net_hdr in front of each frame (0 without one). */
  readonly hdrLen: number;
  /** The errno of the last failed receive other than EAGAIN. */
  lastError = 0;

  /** `frameCapacity` is the largest frame taken whole; longer ones are truncated. */
  constructor(burst: number, frameCapacity: number, vnetHdr: boolean) {
    this.hdrLen = vnetHdr ? VNET_HDR_LEN : 0;
    this.#m = new MmsgArray(burst, frameCapacity, this.hdrLen);
    this.#ctrl = new Uint8Array(burst * CMSG_SPACE);
    this.#c16 = new Uint16Array(this.#ctrl.buffer);
    this.#c32 = new Int32Array(this.#ctrl.buffer);
    const ctrlBase = addressOf(this.#ctrl);
    for (let k = 0; k < burst; k++) {
      this.#m.m64[(k * MMSG_SIZE + 32) / 8] = ctrlBase + BigInt(k * CMSG_SPACE);
    }
  }

  /** The frames: slot k's starts at `offset(k)` (a multiple of 64). */
  get data(): Uint8Array {
    return this.#m.data;
  }

  /** `data` as words. */
  get data32(): Uint32Array {
    return this.#m.data32;
  }

  /** The virtio_net_hdrs: slot k's starts at k * 16. */
  get header(): Uint8Array {
    return this.#m.header;
  }

  offset(k: number): number {
    return k * this.#m.slotSize;
  }

  /**
   * Receives up to a burst without blocking; returns how many slots were
   * filled (0 when nothing waits), or -1 on an error (in `lastError`).
   */
  recv(fd: number): number {
    const m = this.#m;
    for (let k = 0; k < m.burst; k++) {
      // msg_controllen's low word (the high one stays 0): no BigInt per call.
      m.m32[(k * MMSG_SIZE + 40) / 4] = CMSG_SPACE;
      m.m32[(k * MMSG_SIZE + 48) / 4] = 0;
    }
    const n = libc().recvmmsg(fd, m.mmsg, m.burst, MSG_DONTWAIT, null);
    if (n >= 0) return n;
    const err = errno();
    if (err === EAGAIN || err === EINTR) return 0;
    this.lastError = err;
    return -1;
  }

  /** The length of slot k's frame (its vnet header not included); -1 if it did not fit. */
  frameLength(k: number): number {
    const m = this.#m;
    if (m.m32[(k * MMSG_SIZE + 48) / 4] & MSG_TRUNC) return -1;
    return m.m32[(k * MMSG_SIZE + 56) / 4] - this.hdrLen;
  }

  /**
   * The VLAN tag the kernel took off slot k's frame as tpid * 0x10000 +
   * tci, or -1 when it took none.
   */
  vlanTag(k: number): number {
    const m = this.#m;
    const ctrlLen = m.m32[(k * MMSG_SIZE + 40) / 4];
    const c = k * CMSG_SPACE;
    if (ctrlLen < 36) return -1;
    if (this.#c32[c / 4 + 2] !== SOL_PACKET || this.#c32[c / 4 + 3] !== PACKET_AUXDATA) return -1;
    const status = this.#c32[c / 4 + 4];
    if ((status & TP_STATUS_VLAN_VALID) === 0) return -1;
    const tci = this.#c16[(c + 32) / 2];
    const tpid = status & TP_STATUS_VLAN_TPID_VALID ? this.#c16[(c + 34) / 2] : ETH_TYPE_VLAN;
    return tpid * 0x10000 + tci;
  }
}

/** A burst of send slots for one packet socket. */
export class PacketTxBatch {
  readonly #m: MmsgArray;
  /** Frames queued. */
  count = 0;
  /** The errno of the last failed send. */
  lastError = 0;
  readonly hdrLen: number;

  constructor(readonly burst: number, frameCapacity: number, vnetHdr: boolean) {
    this.hdrLen = vnetHdr ? VNET_HDR_LEN : 0;
    this.#m = new MmsgArray(burst, frameCapacity, this.hdrLen);
  }

  get data(): Uint8Array {
    return this.#m.data;
  }

  get data32(): Uint32Array {
    return this.#m.data32;
  }

  get header(): Uint8Array {
    return this.#m.header;
  }

  get full(): boolean {
    return this.count === this.burst;
  }

  /** Where the next slot's frame goes in `data` (its vnet header at count * 16 in `header`). */
  nextOffset(): number {
    return this.count * this.#m.slotSize;
  }

  /** Queues the next slot with a frame of `len` bytes. */
  push(len: number): void {
    this.#m.setFrameLength(this.count, len);
    this.count++;
  }

  /**
   * Sends every queued slot; returns how many the kernel took. A frame the
   * kernel refuses is skipped (and the rest still sent); a full socket
   * buffer drops what is left.
   */
  flush(fd: number): number {
    const m = this.#m;
    let sent = 0, at = 0;
    while (at < this.count) {
      const n = libc().sendmmsg(
        fd,
        at ? m.mmsg.subarray(at * MMSG_SIZE) : m.mmsg,
        this.count - at,
        MSG_DONTWAIT,
      );
      if (n > 0) {
        sent += n;
        at += n;
        continue;
      }
      const err = errno();
      if (err === EINTR) continue;
      this.lastError = err;
      if (err === EAGAIN || err === ENOBUFS) break;
      at++;
    }
    this.count = 0;
    return sent;
  }
}
