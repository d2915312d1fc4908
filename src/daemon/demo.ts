/**
 * The switch behind `udpif demo`: a bridge with four ports, a small but
 * realistic rule set, and synthetic traffic with thousands of distinct
 * flows, run in-process. Each method is one step of the story the demo
 * tells (`src/cli/demo.ts` narrates it); they only use the same Bridge,
 * udpif and clock the daemon uses.
 *
 * Thread-safety: main thread; the datapath and udpif workers run as in
 * the daemon.
 */
import { clockIsStopped, clockStop, clockWarp, coverageTotal, timeMsec } from "../lib/mod.ts";
import { dpctlDumpFlows } from "../dpif/mod.ts";
import { type DummyNetdev, parseReceivePackets } from "../netdev/mod.ts";
import { Bridge } from "./bridge.ts";
import { OtherConfig } from "./other_config.ts";
import { parsePortSpecs } from "./port_spec.ts";

/** The rule set: web and DNS steering, a drop, ARP and the rest by NORMAL. */
export const DEMO_RULES = `\
priority=100,arp,actions=normal
priority=90,tcp,nw_dst=10.0.0.0/24,tp_dst=80,actions=output:2
priority=90,tcp,nw_dst=10.0.0.0/24,tp_dst=443,actions=output:3
priority=80,udp,tp_dst=53,actions=output:4
priority=10,ip,nw_dst=10.0.0.0/24,actions=drop
priority=0,actions=normal
`;

/** A snapshot of what the demo shows. */
export interface DemoStats {
  /** Packets that hit a datapath flow / went up as upcalls. */
  hit: number;
  missed: number;
  /** Datapath flows (megaflows) installed now. */
  flows: number;
  /** The udpif's dynamic flow limit. */
  limit: number;
  /** Upcalls refused a flow because of the limit (coverage upcall_flow_limit_hit). */
  limitHits: number;
}

const mac = (n: number) =>
  `52:54:${
    [(n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) =>
      b.toString(16).padStart(2, "0")
    ).join(":")
  }`;

/** Flow `i` of the web/DNS mix: many clients, a few servers and services. */
function mixFlow(i: number): string {
  const src = `10.1.${(i >> 8) & 255}.${i & 255}`;
  const dst = `10.0.0.${1 + (i % 7)}`;
  const sport = 1024 + (i * 7919) % 60000;
  const eth = `eth(src=${mac(0x1000 + (i % 50))},dst=50:54:00:00:00:02)`;
  const service = i % 4;
  if (service === 3) {
    return `in_port(1),${eth},eth_type(0x0800),ipv4(src=${src},dst=${dst},proto=17,tos=0,ttl=64,frag=no),udp(src=${sport},dst=53)`;
  }
  const dport = [80, 443, 22][service];
  return `in_port(1),${eth},eth_type(0x0800),ipv4(src=${src},dst=${dst},proto=6,tos=0,ttl=64,frag=no),tcp(src=${sport},dst=${dport})`;
}

/** Flow `i` of the burst: hosts NORMAL has never seen, each its own megaflow. */
function burstFlow(i: number): string {
  return `in_port(1),eth(src=${mac(0x200000 + i)},dst=${
    mac(0x300000 + i)
  }),eth_type(0x0800),ipv4(src=192.168.${(i >> 8) & 255}.${
    i & 255
  },dst=192.168.200.1,proto=17,tos=0,ttl=64,frag=no),udp(src=5000,dst=6000)`;
}

export class DemoSwitch {
  readonly bridge: Bridge;
  readonly config: OtherConfig;
  #sent = 0;

  private constructor(bridge: Bridge, config: OtherConfig) {
    this.bridge = bridge;
    this.config = config;
  }

  /** br0 with p1..p4 on the dummy datapath, the demo rules loaded. */
  static async start(): Promise<DemoSwitch> {
    const config = new OtherConfig();
    const bridge = await Bridge.create({
      name: "br0",
      datapathType: "dummy",
      ports: parsePortSpecs(["p1", "p2", "p3", "p4"], "br0"),
      config,
    });
    bridge.loadFlows(DEMO_RULES);
    return new DemoSwitch(bridge, config);
  }

  stats(): DemoStats {
    const s = this.bridge.dp.getStats();
    return {
      hit: s.hit,
      missed: s.missed,
      flows: s.flows,
      limit: this.bridge.udpif.shared.flowLimit,
      limitHits: coverageTotal("upcall_flow_limit_hit") ?? 0,
    };
  }

  /** Sends flows `from..to` of the mix (or the burst) into p1, `batch` packets at a time. */
  async send(
    kind: "mix" | "burst",
    from: number,
    to: number,
    onBatch: (sent: number) => void,
    batch = 250,
  ): Promise<void> {
    const netdev = this.bridge.portByName("p1")!.netdev as DummyNetdev;
    const make = kind === "mix" ? mixFlow : burstFlow;
    for (let i = from; i < to; i += batch) {
      const specs: string[] = [];
      for (let j = i; j < Math.min(to, i + batch); j++) specs.push(make(j));
      const frames = parseReceivePackets(specs);
      let queued = 0;
      while (queued < frames.length) {
        const n = netdev.receive(frames.slice(queued));
        queued += n;
        this.#sent += n;
        // A full rx ring: let the datapath and the handlers catch up.
        if (queued < frames.length) await this.settled();
      }
      await this.settled();
      onBatch(Math.min(to, i + batch) - from);
    }
  }

  /**
   * Resolves once the datapath has looked up every packet sent and the
   * handlers have dealt with every upcall. Polls: this paces a live
   * display, it is not a test.
   */
  async settled(): Promise<void> {
    let last = "", since = Date.now();
    for (;;) {
      const s = this.bridge.dp.getStats();
      const handled = this.bridge.udpif.shared.upcallsHandled;
      if (s.hit + s.missed + s.lost >= this.#sent && handled >= s.missed - s.lost) return;
      // Nothing moving for two seconds: whatever is left was dropped; go on.
      const now = `${s.hit},${s.missed},${handled}`;
      if (now !== last) [last, since] = [now, Date.now()];
      else if (Date.now() - since > 2000) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Two complete revalidator passes (`revalidator/wait` twice). On a
   * stopped clock the revalidators sleep in virtual time, so the clock is
   * pushed on in 100 ms steps until they have run, as OVS's tests do
   * with `time/warp`.
   */
  async revalidated(): Promise<void> {
    for (let pass = 0; pass < 2; pass++) {
      let done = false;
      const dump = this.bridge.udpif.waitDump().then(() => (done = true));
      while (!done && clockIsStopped()) {
        clockWarp(100);
        this.bridge.run();
        await Promise.race([dump, new Promise((resolve) => setTimeout(resolve, 10))]);
      }
      await dump;
    }
  }

  /** The installed megaflows, as `dpctl/dump-flows` lines. */
  megaflows(): string[] {
    return dpctlDumpFlows(this.bridge.dp, []).split("\n").filter((l) =>
      l && !l.startsWith("flow-dump from")
    );
  }

  /** Changes the port-80 rule to send to p4 (`ofctl mod-flows`). */
  changeWebRule(): void {
    this.bridge.tablesChanged(
      this.bridge.tables.modFlows(
        "tcp,nw_dst=10.0.0.0/24,tp_dst=80,actions=output:4",
        false,
        timeMsec(),
      ),
    );
  }

  /** Stops the clock and moves it past max-idle (`time/stop`, `time/warp`). */
  idleOut(): number {
    const idle = this.config.get("max-idle")!;
    clockStop();
    clockWarp(idle + 1000);
    this.bridge.run();
    return idle;
  }

  /** Lowers other_config:flow-limit, as `udpif set-config flow-limit=N` does. */
  setFlowLimit(limit: number): void {
    this.config.set([`flow-limit=${limit}`]);
  }

  async stop(): Promise<void> {
    await this.bridge.destroy();
  }
}
