/**
 * The datapath's ports: odp port numbers chosen as dpif-netdev does
 * (`choose_port`: for the dummy class a number in the name is taken, plus
 * 100 for names starting with "br"; otherwise the lowest free number), a
 * port index into the shared port table and rings, and the netdev
 * attached to it. Only the thread that created the datapath uses this.
 */
import type { Netdev } from "../netdev/mod.ts";
import {
  C_PORTS_SEQ,
  type DatapathShared,
  MAX_PORTS,
  MAX_RXQ,
  P_ACTIVE,
  P_FD,
  P_N_RXQ,
  P_ODP,
  P_RECORD_TX,
  PF_RX_BYTES,
  PF_RX_DROPPED,
  PF_RX_PACKETS,
  PF_TX_BYTES,
  PF_TX_DROPPED,
  PF_TX_PACKETS,
} from "./_shared.ts";
import { handOverPortFd, handOverQueueFd, withdrawPortFd, withdrawQueueFd } from "./_port_fd.ts";
import { EEXIST, EINVAL } from "./protocol.ts";
import type { DpifPort } from "./provider.ts";
import { type RxqAssign, scheduleRxqs } from "./rxq_sched.ts";

/** The port counters `stats` reports, in its order. */
const PORT_COUNTERS = [
  PF_RX_PACKETS,
  PF_RX_BYTES,
  PF_TX_PACKETS,
  PF_TX_BYTES,
  PF_RX_DROPPED,
  PF_TX_DROPPED,
];

interface PortEntry extends DpifPort {
  index: number;
  netdev?: Netdev;
  nRxq: number;
  /** Per queue id: the core it is pinned to (pmd-rxq-affinity). */
  affinity?: (number | undefined)[];
}

/** Ports polled the way OVS's main thread polls non-PMD netdevs: always by the first PMD. */
const NON_PMD_TYPES = new Set(["dummy-internal", "tap", "internal"]);

/** A port operation that failed, with its errno. */
export class DpifError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

export class DatapathPorts {
  private readonly ports = new Map<number, PortEntry>();
  /** other_config:pmd-rxq-assign. */
  rxqAssign: RxqAssign = "cycles";
  /** other_config:pmd-rxq-isolate. */
  rxqIsolate = true;
  /** The PMDs polling only queues pinned to them, at the last assignment. */
  isolated: ReadonlySet<number> = new Set();

  constructor(
    private readonly type: string,
    private readonly dpName: string,
    private readonly shared: DatapathShared,
    private readonly wake: () => void,
  ) {}

  /** Port 0, the datapath's local port, named after the datapath. */
  addLocal(): void {
    this.addPort(0, `ovs-${this.type}`, this.type === "dummy" ? "dummy-internal" : "tap");
  }

  private choosePort(name: string): number {
    if (this.type === "dummy") {
      const m = /\d/.exec(name);
      if (m) {
        const no = (name.startsWith("br") ? 100 : 0) + parseInt(name.slice(m.index), 10);
        if (no > 0 && no < 65536 && !this.ports.has(no)) return no;
      }
    }
    for (let no = 1; no < 65536; no++) if (!this.ports.has(no)) return no;
    return -1;
  }

  private addPort(portNo: number, name: string, type: string, netdev?: Netdev): number {
    const sh = this.shared;
    let index = 0;
    while (index < MAX_PORTS && sh.portI32[sh.portI(index, P_ACTIVE)] !== 0) index++;
    if (index === MAX_PORTS) {
      throw new RangeError(`datapath ${this.dpName} is full (${MAX_PORTS} ports)`);
    }
    const nRxq = netdev?.nRxq ?? 1;
    if (nRxq < 1 || nRxq > MAX_RXQ) {
      throw new DpifError(EINVAL, `${name}: n_rxq must be 1..${MAX_RXQ}, not ${nRxq}`);
    }
    for (const p of sh.pmds) for (const f of PORT_COUNTERS) p.portF64[sh.portF(index, f)] = 0;
    sh.rxqTime.fill(0, sh.rxqT(index * MAX_RXQ), sh.rxqT((index + 1) * MAX_RXQ));
    Atomics.store(sh.portI32, sh.portI(index, P_FD), 0);
    sh.rxqFd.fill(0, sh.rxqIndex(index, 0), sh.rxqIndex(index + 1, 0));
    sh.portI32[sh.portI(index, P_ODP)] = portNo;
    sh.portI32[sh.portI(index, P_N_RXQ)] = nRxq;
    sh.odpToIndex[portNo] = index;
    this.ports.set(portNo, { portNo, name, type, index, netdev, nRxq });
    netdev?.attach({
      rx: sh.rx.slice(index * MAX_RXQ, (index + 1) * MAX_RXQ),
      tx: sh.pmds.map((_, k) => sh.tx[sh.txqIndex(index, k)]),
      wake: () => this.wake(),
      setRecordTx: (on) => Atomics.store(sh.portI32, sh.portI(index, P_RECORD_TX), on ? 1 : 0),
      pollTx: () => {
        for (const p of this.ports.values()) p.netdev?.pollTx();
      },
      setSocket: (fd, vnetHdr, kind) => {
        if (fd < 0) withdrawPortFd(sh, index, name);
        else handOverPortFd(sh, index, fd, vnetHdr, kind === "tap");
      },
      setQueueSocket: (q, fd) => {
        if (q < 1 || q >= nRxq) throw new DpifError(EINVAL, `${name}: no rx queue ${q}`);
        if (fd < 0) withdrawQueueFd(sh, index, q, name);
        else handOverQueueFd(sh, index, q, fd);
      },
    });
    this.schedule();
    Atomics.store(sh.portI32, sh.portI(index, P_ACTIVE), 1);
    Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
    return portNo;
  }

  /**
   * Assigns the rx queues to the active PMDs (pmd-rxq-rebalance, port and
   * PMD changes): PMD ports by `rxqAssign`, the others to the first PMD.
   */
  schedule(): void {
    const sh = this.shared;
    const pmdPorts = [];
    const pmds = sh.activePmds();
    for (const p of this.ports.values()) {
      if (NON_PMD_TYPES.has(p.type)) {
        for (let q = 0; q < p.nRxq; q++) {
          Atomics.store(sh.rxqPmd, sh.rxqIndex(p.index, q), pmds[0] ?? -1);
        }
      } else pmdPorts.push(p);
    }
    this.isolated = scheduleRxqs(sh, pmdPorts, this.rxqAssign, pmds, this.rxqIsolate);
  }

  /**
   * Pins port `portNo`'s queues to cores (`affinity[q]`, undefined for
   * none), as Interface other_config:pmd-rxq-affinity, and reassigns.
   */
  setRxqAffinity(portNo: number, affinity: (number | undefined)[]): void {
    const p = this.ports.get(portNo);
    if (!p) throw new DpifError(EINVAL, `no port ${portNo}`);
    p.affinity = affinity.some((c) => c !== undefined) ? affinity.slice(0, p.nRxq) : undefined;
    this.schedule();
  }

  /** The PMD ports' rx queues and the PMD index polling each, by port name then queue (pmd-rxq-show). */
  rxqs(): { name: string; queue: number; ring: number; pmd: number }[] {
    const sh = this.shared;
    const out = [];
    for (const p of this.ports.values()) {
      if (NON_PMD_TYPES.has(p.type)) continue;
      for (let q = 0; q < p.nRxq; q++) {
        const ring = sh.rxqIndex(p.index, q);
        out.push({ name: p.name, queue: q, ring, pmd: Atomics.load(sh.rxqPmd, ring) });
      }
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : a.queue - b.queue);
  }

  add(netdev: Netdev, portNo?: number): number {
    for (const p of this.ports.values()) {
      if (p.name === netdev.name) {
        throw new DpifError(EEXIST, `${netdev.name}: port already exists`);
      }
    }
    const no = portNo ?? this.choosePort(netdev.name);
    if (no < 0 || this.ports.has(no)) throw new DpifError(EEXIST, `port ${no} already in use`);
    return this.addPort(no, netdev.name, this.portOpenType(netdev.type), netdev);
  }

  /** dpif_netdev_port_open_type: internal ports are "dummy-internal" or "tap". */
  private portOpenType(type: string): string {
    if (type !== "internal" && type !== "dummy-internal" && type !== "tap") return type;
    return this.type === "dummy" ? "dummy-internal" : "tap";
  }

  del(portNo: number): void {
    const p = this.ports.get(portNo);
    if (!p || portNo === 0) throw new DpifError(EINVAL, `no port ${portNo}`);
    const sh = this.shared;
    Atomics.store(sh.portI32, sh.portI(p.index, P_ACTIVE), 0);
    Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
    sh.odpToIndex[portNo] = -1;
    p.netdev?.detach();
    this.ports.delete(portNo);
    for (let q = 0; q < MAX_RXQ; q++) Atomics.store(sh.rxqPmd, sh.rxqIndex(p.index, q), -1);
    this.schedule();
  }

  queryByNumber(portNo: number): DpifPort | undefined {
    const p = this.ports.get(portNo);
    return p && { portNo: p.portNo, name: p.name, type: p.type };
  }

  queryByName(name: string): DpifPort | undefined {
    for (const p of this.ports.values()) {
      if (p.name === name) return this.queryByNumber(p.portNo);
    }
    return undefined;
  }

  list(): DpifPort[] {
    return [...this.ports.values()].sort((a, b) => a.portNo - b.portNo).map((p) => ({
      portNo: p.portNo,
      name: p.name,
      type: p.type,
    }));
  }

  /** [rx packets, rx bytes, tx packets, tx bytes, rx dropped, tx dropped] of a port. */
  stats(portNo: number): number[] {
    const p = this.ports.get(portNo);
    if (!p) return PORT_COUNTERS.map(() => 0);
    const sh = this.shared, i = p.index;
    return PORT_COUNTERS.map((f) => sh.pmds.reduce((n, p) => n + p.portF64[sh.portF(i, f)], 0));
  }

  /** The rx queues of port `portNo`. */
  nRxqOf(portNo: number): number {
    const p = this.ports.get(portNo);
    if (!p) throw new DpifError(EINVAL, `no port ${portNo}`);
    return p.nRxq;
  }

  netdevOf(portNo: number): Netdev | undefined {
    return this.ports.get(portNo)?.netdev;
  }

  detachAll(): void {
    for (const p of this.ports.values()) p.netdev?.detach();
  }
}
