/**
 * Interface queries and settings through SIOC* ioctls on a throwaway
 * AF_INET datagram socket, as OVS's netdev-linux does with
 * af_inet_ioctl: ifindex, flags (up, promiscuous), MTU and MAC. Each call
 * opens and closes its own socket so callers need no state.
 *
 * Thread-safety: any thread with FFI; each call is independent and
 * blocks only for the ioctl itself.
 */
import { coverageCounter } from "../../lib/mod.ts";
import { check, cString, libc, LinuxError } from "./libc.ts";

/* OVS's netdev-linux counts the ioctls that fetch an ifindex and an Ethernet address. */
const covGetIfindex = coverageCounter("netdev_get_ifindex");
const covGetHwaddr = coverageCounter("netdev_get_hwaddr");

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const SIOCGIFINDEX = 0x8933;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFMTU = 0x8921;
const SIOCGIFHWADDR = 0x8927;

export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_PROMISC = 0x100;
export const IFF_LOWER_UP = 0x10000;

function ifreq(name: string): Uint8Array<ArrayBuffer> {
  const nameBytes = cString(name);
  if (nameBytes.length > IFNAMSIZ) throw new Error(`${name}: interface name too long`);
  const req = new Uint8Array(IFREQ_SIZE);
  req.set(nameBytes);
  return req;
}

function ifIoctl(name: string, request: number, req: Uint8Array<ArrayBuffer>, what: string): void {
  const c = libc();
  const fd = check(c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket(AF_INET)");
  try {
    check(c.ioctl(fd, BigInt(request), req), `${name}: ${what}`);
  } finally {
    c.close(fd);
  }
}

/** The interface's index; throws a LinuxError (ENODEV) naming it when there is none. */
export function interfaceIndex(name: string): number {
  covGetIfindex.inc();
  const req = ifreq(name);
  ifIoctl(name, SIOCGIFINDEX, req, "no such network interface");
  return new DataView(req.buffer).getInt32(IFNAMSIZ, true);
}

/** The interface's IFF_* flags. */
export function interfaceFlags(name: string): number {
  const req = ifreq(name);
  ifIoctl(name, SIOCGIFFLAGS, req, "SIOCGIFFLAGS");
  return new DataView(req.buffer).getUint32(IFNAMSIZ, true);
}

/** Sets the bits of `on` and clears those of `off` in the interface's flags. */
export function updateInterfaceFlags(name: string, on: number, off: number): void {
  const req = ifreq(name);
  ifIoctl(name, SIOCGIFFLAGS, req, "SIOCGIFFLAGS");
  const dv = new DataView(req.buffer);
  const flags = dv.getUint16(IFNAMSIZ, true);
  const next = (flags | on) & ~off & 0xffff;
  if (next === flags) return;
  dv.setUint16(IFNAMSIZ, next, true);
  ifIoctl(name, SIOCSIFFLAGS, req, "SIOCSIFFLAGS");
}

/** The interface's MTU. */
export function interfaceMtu(name: string): number {
  const req = ifreq(name);
  ifIoctl(name, SIOCGIFMTU, req, "SIOCGIFMTU");
  return new DataView(req.buffer).getInt32(IFNAMSIZ, true);
}

/** The interface's Ethernet address (6 bytes). */
export function interfaceMac(name: string): Uint8Array {
  covGetHwaddr.inc();
  const req = ifreq(name);
  ifIoctl(name, SIOCGIFHWADDR, req, "SIOCGIFHWADDR");
  // struct sockaddr: 2-byte family, then the address.
  return req.slice(IFNAMSIZ + 2, IFNAMSIZ + 8);
}

export { LinuxError };
