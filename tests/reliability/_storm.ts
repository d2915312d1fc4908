/**
 * Upcall storm (issue 13, item 4): ten times what the handlers' upcall
 * queues hold, of distinct new flows, pushed at once through a stream
 * port; meanwhile the control socket is asked `dpctl/show` over and over
 * and each answer timed; afterwards the lost upcalls are read where OVS
 * counts them (dpctl/show `lost`, coverage `datapath_drop_upcall_error`), the daemon's peak RSS from /proc, and
 * every installed flow is checked against a fresh translation.
 *
 * The flows are distinct by source MAC and the rules look at dl_src, so
 * every frame misses and becomes an upcall. The queue holds fewer upcalls
 * of bigger frames: a test uses big frames to fill it with few flows, the
 * bench minimal ones for the most flows.
 */
import { upcallQueueCapacity } from "../../src/dpif/mod.ts";
import { framed } from "../stream_peer.ts";
import { TestDaemon } from "../cli/_run.ts";
import { appctl, daemonPid, memoryOf } from "./_daemon.ts";
import { checkFlows, settle, type Violation } from "./_churn_check.ts";

export interface StormResult {
  frames: number;
  frameBytes: number;
  handlers: number;
  /** Upcalls the handlers' queues hold together. */
  queueCapacity: number;
  lookups: { hit: number; missed: number; lost: number };
  /** Coverage datapath_drop_upcall_error. */
  covUpcallError: number;
  flowsInstalled: number;
  flowsChecked: number;
  violations: Violation[];
  /** Peak resident set (VmHWM) of the daemon, before and after the storm, kB. */
  hwmBeforeKb: number;
  hwmAfterKb: number;
  /** Slowest and count of the control commands answered during the storm, ms. */
  slowestReplyMs: number;
  replies: number;
  seconds: number;
}

const STORM_PORT_NAME = "storm";

/** `n` distinct UDP frames of `len` bytes (>= 60), frame i from source MAC 02:00:<i>. */
export function stormFrames(n: number, len: number): Uint8Array[] {
  const tpl = new Uint8Array(len);
  tpl.set([0x50, 0x54, 0, 0, 0, 7, 2, 0, 0, 0, 0, 0, 0x08, 0x00], 0);
  const ipLen = len - 14;
  // IPv4 10.0.0.1 -> 10.0.0.2, UDP 1000 -> 80; checksums 0 (not verified by the datapath).
  tpl.set(
    [0x45, 0, ipLen >> 8, ipLen & 255, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
    14,
  );
  tpl.set([0x03, 0xe8, 0, 80, (ipLen - 20) >> 8, (ipLen - 20) & 255, 0, 0], 34);
  return Array.from({ length: n }, (_, i) => {
    const f = tpl.slice();
    f[8] = i >>> 24, f[9] = (i >>> 16) & 255, f[10] = (i >>> 8) & 255, f[11] = i & 255;
    return f;
  });
}

function counter(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) throw new Error(`no ${re} in:\n${text}`);
  return Number(m[1]);
}

/**
 * Runs a storm of `factor` times the queues' capacity of `frameBytes`-byte
 * frames against a fresh daemon; `checkAll` false checks a sample of the
 * installed flows (every 50th) instead of all.
 */
export async function storm(
  opts: { frameBytes: number; factor: number; checkAll: boolean; replyTimeoutMs: number },
): Promise<StormResult> {
  const dir = await Deno.makeTempDir({ prefix: "udpif-storm-" });
  const streamSock = `${dir}/storm.sock`;
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--port",
    `${STORM_PORT_NAME},pstream=punix:${streamSock}`,
  ]);
  try {
    const s = d.socket;
    const pid = await daemonPid(`${d.dir}/udpif.pid`);
    await appctl(s, "ofctl/add-flow", [
      "br0",
      "priority=10,dl_src=02:00:00:00:00:00,actions=output:1",
    ]);
    await appctl(s, "ofctl/add-flow", ["br0", "priority=0,actions=output:2"]);
    const handlers = counter(await appctl(s, "memory/show"), /handlers:(\d+)/);
    const queueCapacity = handlers * upcallQueueCapacity(opts.frameBytes);
    const n = opts.factor * queueCapacity;
    const bytes = framed(stormFrames(n, opts.frameBytes));
    const hwmBeforeKb = (await memoryOf(pid)).hwmKb;

    const conn = await Deno.connect({ transport: "unix", path: streamSock });
    const t0 = performance.now();
    let writing = true;
    const write = (async () => {
      try {
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      } finally {
        writing = false;
      }
    })();
    // The control socket while the storm runs, each reply with the caller's deadline.
    let slowestReplyMs = 0, replies = 0;
    const lookedUp = async () => {
      const t = performance.now();
      const show = await appctl(s, "dpctl/show", [], opts.replyTimeoutMs);
      slowestReplyMs = Math.max(slowestReplyMs, performance.now() - t);
      replies++;
      return counter(show, /hit:(\d+)/) + counter(show, /missed:(\d+)/) +
        counter(show, /lost:(\d+)/);
    };
    while (writing || await lookedUp() < n) {
      if (writing) await lookedUp();
      await new Promise((r) => setTimeout(r, 20));
    }
    await write;
    conn.close();
    // A packet received after the storm returns once every earlier upcall was handled.
    await appctl(s, "netdev-dummy/receive", [
      "p1",
      "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
      "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)",
    ]);
    const seconds = (performance.now() - t0) / 1000;
    const hwmAfterKb = (await memoryOf(pid)).hwmKb;
    const show = await appctl(s, "dpctl/show");
    const lookups = {
      hit: counter(show, /hit:(\d+)/),
      missed: counter(show, /missed:(\d+)/),
      lost: counter(show, /lost:(\d+)/),
    };
    const covUpcallError = Number(
      await appctl(s, "coverage/read-counter", ["datapath_drop_upcall_error"]),
    );
    await settle(s);
    const check = await checkFlows(s, opts.checkAll ? 1 : 50);
    return {
      frames: n,
      frameBytes: opts.frameBytes,
      handlers,
      queueCapacity,
      lookups,
      covUpcallError,
      flowsInstalled: check.flows,
      flowsChecked: check.checked,
      violations: check.violations,
      hwmBeforeKb,
      hwmAfterKb,
      slowestReplyMs,
      replies,
      seconds,
    };
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
