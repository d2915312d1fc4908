/**
 * Handing a port's fd (a system port's packet socket, a tap) to the PMD
 * and taking it back, through the shared port table. The owner (main
 * thread) opens and closes the fd; the PMD only uses the fds of its last
 * port refresh, and after each refresh publishes the port change it
 * applied (C_PORTS_ACK). So taking an fd back is: clear the port's fd,
 * bump C_PORTS_SEQ, wake the PMD, and wait until its acknowledgment
 * reaches that change; only then may the fd be closed (closing it
 * earlier could let the PMD read a new file that reused the number), as
 * OVS's port removal waits for the PMD to reload before closing rxqs.
 *
 * Thread-safety: called by the datapath's owner only. `withdrawPortFd`
 * blocks up to its timeout (the PMD acknowledges within one poll round);
 * it returns at once when no PMD worker polls (in-process datapath,
 * stopping, exited).
 */
import { getLogger } from "../lib/mod.ts";
import {
  C_PORTS_SEQ,
  C_STOP,
  type DatapathShared,
  P_FD,
  P_TAP,
  P_VNET,
  PC_PMD_EXITED,
  PC_PMD_GEN,
  PC_PMD_RUNNING,
  PC_PORTS_ACK,
  type PmdShared,
} from "./_shared.ts";

const log = getLogger("dpif_netdev");
const WITHDRAW_TIMEOUT_MS = 2000;

/** Gives the PMD `fd` to do port index `i`'s I/O on. */
export function handOverPortFd(
  sh: DatapathShared,
  i: number,
  fd: number,
  vnetHdr: boolean,
  tap: boolean,
): void {
  Atomics.store(sh.portI32, sh.portI(i, P_VNET), vnetHdr ? 1 : 0);
  Atomics.store(sh.portI32, sh.portI(i, P_TAP), tap ? 1 : 0);
  Atomics.store(sh.portI32, sh.portI(i, P_FD), fd + 1);
  Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
  sh.ringAll();
}

/**
 * Gives the PMDs `fd` as rx queue q (>= 1) of port index `i`: a socket of
 * the port's PACKET_FANOUT group, receive only.
 */
export function handOverQueueFd(sh: DatapathShared, i: number, q: number, fd: number): void {
  Atomics.store(sh.rxqFd, sh.rxqIndex(i, q), fd + 1);
  Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
  sh.ringAll();
}

/** Takes rx queue q's fd of port index `i` back, as withdrawPortFd does the port's. */
export function withdrawQueueFd(sh: DatapathShared, i: number, q: number, what: string): void {
  Atomics.store(sh.rxqFd, sh.rxqIndex(i, q), 0);
  withdrawPortFd(sh, i, what, false);
}

function pmdPolling(sh: DatapathShared, pmd: PmdShared): boolean {
  const ctl = pmd.ctl;
  return Atomics.load(ctl, PC_PMD_RUNNING) !== 0 && Atomics.load(sh.ctl, C_STOP) === 0 &&
    Atomics.load(ctl, PC_PMD_EXITED) !== Atomics.load(ctl, PC_PMD_GEN) + 1;
}

/**
 * Takes port index `i`'s fd back (with `port` false, only waits for the
 * PMDs to apply an rx queue fd's withdrawal); returns once no PMD uses it
 * (every PMD may send on it),
 * or after WITHDRAW_TIMEOUT_MS with a warning naming `what` when it did
 * not acknowledge (a PMD stuck that long is itself the fault to report).
 */
export function withdrawPortFd(sh: DatapathShared, i: number, what: string, port = true): void {
  if (port) Atomics.store(sh.portI32, sh.portI(i, P_FD), 0);
  const seq = Atomics.add(sh.ctl, C_PORTS_SEQ, 1) + 1;
  const deadline = performance.now() + WITHDRAW_TIMEOUT_MS;
  for (const pmd of sh.pmds) {
    for (;;) {
      if (!pmdPolling(sh, pmd)) break;
      const ack = Atomics.load(pmd.ctl, PC_PORTS_ACK);
      if (ack - seq >= 0) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        log.warn(`${what}: the PMD did not release the port's fd within ${WITHDRAW_TIMEOUT_MS} ms`);
        return;
      }
      pmd.ring();
      Atomics.wait(pmd.ctl, PC_PORTS_ACK, ack, Math.min(left, 50));
    }
  }
}
