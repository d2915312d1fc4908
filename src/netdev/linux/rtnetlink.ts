/**
 * One interface's state and counters from the kernel with an rtnetlink
 * RTM_GETLINK request by name, as OVS's netdev-linux reads them
 * (get_stats_via_netlink, and the flags, MTU and address it caches from
 * the same messages): ifindex, IFF_* flags, MTU, Ethernet address and
 * the rtnl_link_stats64 counters. The answer is for the calling thread's
 * network namespace.
 *
 * Thread-safety: any thread with FFI; each call opens and closes its own
 * netlink socket and blocks only for the kernel's answer.
 */
import { check, cString, errno, libc, LinuxError } from "./libc.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_STATS64 = 23;
const ENODEV = 19;
const NLMSG_HDR = 16;
const IFINFO = 16;

/** struct rtnl_link_stats64, the fields OVS's netdev_stats shows. */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
  rxOverErrors: number;
  rxCrcErrors: number;
  rxMissedErrors: number;
  rxFrameErrors: number;
  txAbortedErrors: number;
  txCarrierErrors: number;
}

export interface LinkInfo {
  ifindex: number;
  /** IFF_* flags (IFF_UP: administratively up; IFF_RUNNING: carrier). */
  flags: number;
  mtu: number;
  /** "aa:bb:cc:dd:ee:ff", or "" without an Ethernet address. */
  mac: string;
  stats: LinkStats;
}

const STATS_ORDER = [
  "rxPackets",
  "txPackets",
  "rxBytes",
  "txBytes",
  "rxErrors",
  "txErrors",
  "rxDropped",
  "txDropped",
  "multicast",
  "collisions",
  "",
  "rxOverErrors",
  "rxCrcErrors",
  "rxFrameErrors",
  "",
  "rxMissedErrors",
  "txAbortedErrors",
  "txCarrierErrors",
] as const;

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Interface `name`'s state and counters; throws a LinuxError naming it
 * (errno ENODEV: "No such device") when there is none.
 */
export function queryLink(name: string): LinkInfo {
  const nameBytes = cString(name);
  const attrLen = 4 + nameBytes.length;
  const len = NLMSG_HDR + IFINFO + align4(attrLen);
  const req = new Uint8Array(len);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, RTM_GETLINK, true);
  dv.setUint16(6, NLM_F_REQUEST, true);
  dv.setUint32(8, 1, true);
  dv.setUint16(NLMSG_HDR + IFINFO, attrLen, true);
  dv.setUint16(NLMSG_HDR + IFINFO + 2, IFLA_IFNAME, true);
  req.set(nameBytes, NLMSG_HDR + IFINFO + 4);
  const c = libc();
  const fd = check(c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "netlink socket");
  try {
    const kernel = new Uint8Array(12);
    new DataView(kernel.buffer).setUint16(0, AF_NETLINK, true);
    check(c.sendto(fd, req, BigInt(len), 0, kernel, 12), `${name}: RTM_GETLINK`);
    const buf = new Uint8Array(1 << 16);
    const n = Number(c.read(fd, buf, BigInt(buf.length)));
    if (n < 0) throw new LinuxError(`${name}: RTM_GETLINK`, errno());
    return parseLink(name, new DataView(buf.buffer, 0, n));
  } finally {
    c.close(fd);
  }
}

function parseLink(name: string, m: DataView): LinkInfo {
  const type = m.getUint16(4, true);
  if (type === NLMSG_ERROR) {
    const err = -m.getInt32(NLMSG_HDR, true);
    throw new LinuxError(name, err || ENODEV);
  }
  if (type !== RTM_NEWLINK) throw new Error(`${name}: unexpected netlink message ${type}`);
  const msgLen = Math.min(m.getUint32(0, true), m.byteLength);
  const info: LinkInfo = {
    ifindex: m.getInt32(NLMSG_HDR + 4, true),
    flags: m.getUint32(NLMSG_HDR + 8, true),
    mtu: 0,
    mac: "",
    stats: Object.fromEntries(
      STATS_ORDER.filter(Boolean).map((k) => [k, 0]),
    ) as unknown as LinkStats,
  };
  for (let at = NLMSG_HDR + IFINFO; at + 4 <= msgLen;) {
    const alen = m.getUint16(at, true), atype = m.getUint16(at + 2, true) & 0x3fff;
    if (alen < 4) break;
    const body = at + 4;
    if (atype === IFLA_MTU) info.mtu = m.getUint32(body, true);
    else if (atype === IFLA_ADDRESS && alen - 4 === 6) {
      const b: string[] = [];
      for (let i = 0; i < 6; i++) b.push(m.getUint8(body + i).toString(16).padStart(2, "0"));
      info.mac = b.join(":");
    } else if (atype === IFLA_STATS64) {
      const stats = info.stats as unknown as Record<string, number>;
      STATS_ORDER.forEach((k, i) => {
        if (k && body + i * 8 + 8 <= at + alen) {
          stats[k] = Number(m.getBigUint64(body + i * 8, true));
        }
      });
    }
    at += align4(alen);
  }
  return info;
}

const SOCK_NONBLOCK = 0o4000;
const RTMGRP_LINK = 1;

/**
 * A netlink socket subscribed to link notifications (RTMGRP_LINK: an
 * interface appeared, changed or went away), as OVS's netdev-linux
 * listens for RTM_NEWLINK/RTM_DELLINK. Non-blocking: `changed` drains
 * what arrived and says whether anything did; the caller then looks at
 * the interfaces it cares about (the messages themselves are not parsed).
 */
export class LinkNotifier {
  readonly #fd: number;
  readonly #buf = new Uint8Array(1 << 16);

  /** Opens the subscription; throws a LinuxError when netlink refuses it. */
  constructor() {
    const c = libc();
    this.#fd = check(
      c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE),
      "netlink socket",
    );
    const addr = new DataView(new ArrayBuffer(12));
    addr.setUint16(0, AF_NETLINK, true);
    addr.setUint32(8, RTMGRP_LINK, true);
    if (c.bind(this.#fd, new Uint8Array(addr.buffer), 12) < 0) {
      const err = errno();
      c.close(this.#fd);
      throw new LinuxError("netlink RTMGRP_LINK", err);
    }
  }

  /** True when link notifications arrived since the last call (or were lost to an overrun). */
  changed(): boolean {
    let any = false;
    for (;;) {
      const n = Number(libc().read(this.#fd, this.#buf, BigInt(this.#buf.length)));
      if (n > 0) {
        any = true;
        continue;
      }
      // EAGAIN: drained. ENOBUFS: notifications were lost, so look anyway.
      if (n < 0 && errno() === 105) any = true;
      return any;
    }
  }

  close(): void {
    libc().close(this.#fd);
  }
}
