/**
 * The timing of dpif_vs_ovs_bench.ts, the same for udpif's daemon and for
 * OVS: a cold pass (N distinct-flow frames, each a new megaflow, into the
 * switch just started), a miss pass (N other new flows) and a hit pass
 * (the miss pass's frames again), each timed from the
 * injector's first frame (its `t_start`) until the switch itself reports
 * the pass done in `dpctl/show`: N flows installed for the miss pass, N
 * more lookups for the hit pass. One unixctl connection, opened before
 * the first pass and kept, polls every POLL_MS while the injector runs,
 * so no process start-up (a Python `wait-flows` per pass, as measure.sh
 * and the bench used before) falls inside the timed span.
 *
 * Run as a script inside an ovs-oracle.sh instance (`! ...` line):
 * `_switch_passes.ts CTL SOCK N` prints `passes: cold S miss S hit S`.
 */
import { encodeRequest, JsonStreamReader, toJsonRpcMessage } from "../src/unixctl/mod.ts";

const INJECT = "/work/shared/oracle/perf/ovs_inject.py";
/** Between two polls (setTimeout: about 2-4 ms in practice), both switches alike. */
const POLL_MS = 10;
const PASS_TIMEOUT_MS = 60_000;

/** One long-lived unixctl (JSON-RPC) connection: one request at a time. */
class UnixctlSession {
  private readonly reader = new JsonStreamReader();
  private readonly buf = new Uint8Array(65536);
  private id = 0;

  private constructor(private readonly conn: Deno.UnixConn) {}

  static async open(path: string): Promise<UnixctlSession> {
    return new UnixctlSession(await Deno.connect({ transport: "unix", path }));
  }

  async call(method: string, args: string[]): Promise<string> {
    const id = ++this.id;
    const req = encodeRequest(method, args, id);
    for (let off = 0; off < req.length;) off += await this.conn.write(req.subarray(off));
    for (;;) {
      const n = await this.conn.read(this.buf);
      if (n === null) throw new Error(`${method}: connection closed before the reply`);
      for (const value of this.reader.push(this.buf.subarray(0, n))) {
        const m = toJsonRpcMessage(value);
        if (m.kind !== "reply" || m.msg.id !== id) continue;
        if (m.msg.error !== null) throw new Error(`${method}: ${JSON.stringify(m.msg.error)}`);
        return String(m.msg.result);
      }
    }
  }

  close(): void {
    this.conn.close();
  }
}

/** Flows and lookups (hit + missed + lost) of the first datapath `dpctl/show` lists. */
async function dpCounts(s: UnixctlSession): Promise<{ flows: number; lookups: number }> {
  const text = await s.call("dpctl/show", []);
  const flows = /^\s*flows: (\d+)/m.exec(text);
  const look = /^\s*lookups: hit:(\d+) missed:(\d+) lost:(\d+)/m.exec(text);
  if (!flows || !look) throw new Error(`dpctl/show: no flows/lookups line in ${text}`);
  return { flows: Number(flows[1]), lookups: Number(look[1]) + Number(look[2]) + Number(look[3]) };
}

/**
 * Seconds from the injector's first frame until `done` holds for the
 * switch's counts, polled on `s` while the injector writes.
 */
async function timedPass(
  s: UnixctlSession,
  sock: string,
  n: number,
  done: (c: { flows: number; lookups: number }) => boolean,
  first = 0,
): Promise<number> {
  const inj = new Deno.Command("/usr/bin/python3", {
    args: [INJECT, "stream", "--sock", sock, "--first", String(first), String(n)],
    stderr: "piped",
    stdout: "null",
  }).spawn();
  const output = inj.output();
  const deadline = Date.now() + PASS_TIMEOUT_MS;
  let end = 0;
  for (;;) {
    const c = await dpCounts(s);
    if (done(c)) {
      end = Date.now();
      break;
    }
    if (Date.now() > deadline) {
      throw new Error(`pass not done after ${PASS_TIMEOUT_MS} ms: ${JSON.stringify(c)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const out = await output;
  const stderr = new TextDecoder().decode(out.stderr);
  const start = /t_start=([0-9.]+)/.exec(stderr);
  if (!out.success || !start) throw new Error(`injector failed: ${stderr}`);
  return (end - Number(start[1]) * 1000) / 1000;
}

/** Seconds each pass took (switchPasses). */
export interface Passes {
  /** N new flows into a switch just started (JIT, caches and memory cold). */
  cold: number;
  /** N more new flows, the figure: the switch's steady rate of flow setups. */
  miss: number;
  /** The miss pass's frames again, all megaflow hits. */
  hit: number;
  /** `dpctl/dump-flows` of the 2N flows the passes left, the fastest of DUMPS, request to reply. */
  dump: number;
}

/** How many times the flows are dumped; the fastest counts (the first also warms the code). */
const DUMPS = 3;

/**
 * The passes of the switch whose control socket is `ctl`, frames into
 * `sock`: the cold pass (frames N..2N-1), then the miss pass (frames
 * 0..N-1), then the hit pass (frames 0..N-1 again).
 */
export async function switchPasses(ctl: string, sock: string, n: number): Promise<Passes> {
  const s = await UnixctlSession.open(ctl);
  try {
    // As measure.sh sets OVS: a flow limit the passes never reach.
    await s.call("upcall/set-flow-limit", ["1000000"]);
    const flows0 = (await dpCounts(s)).flows;
    const cold = await timedPass(s, sock, n, (c) => c.flows >= flows0 + n, n);
    const flows1 = (await dpCounts(s)).flows;
    const miss = await timedPass(s, sock, n, (c) => c.flows >= flows1 + n);
    const base = (await dpCounts(s)).lookups;
    const hit = await timedPass(s, sock, n, (c) => c.lookups >= base + n);
    let dump = Infinity;
    for (let i = 0; i < DUMPS; i++) {
      const t0 = performance.now();
      const text = await s.call("dpctl/dump-flows", []);
      const t = (performance.now() - t0) / 1000;
      const lines = text.split("\n").filter((l) =>
        l.startsWith("recirc_id") || l.includes(" actions:")
      ).length;
      if (lines < 2 * n) throw new Error(`dpctl/dump-flows: ${lines} flows, expected ${2 * n}`);
      dump = Math.min(dump, t);
    }
    return { cold, miss, hit, dump };
  } finally {
    s.close();
  }
}

if (import.meta.main) {
  const [ctl, sock, n] = Deno.args;
  const p = await switchPasses(ctl, sock, Number(n));
  console.log(
    `passes: cold ${p.cold.toFixed(3)} miss ${p.miss.toFixed(3)} hit ${p.hit.toFixed(3)} ` +
      `dump ${p.dump.toFixed(3)}`,
  );
}
