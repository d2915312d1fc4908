/**
 * Two udpif daemons joined by a bond of two links (dummy ports over Unix
 * stream sockets, A listening, B connecting): LACP negotiates between
 * them (lib/lacp.c), A's balance-tcp bond sends through
 * `hash(l4(0)),recirc(N)` and its post-recirculation rules, B's
 * balance-slb bond takes the traffic in, and when one of A's members goes
 * down B's partner on that link expires and then defaults (B's clock
 * stepped with time/warp), and B disables that member.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import { ok, TestDaemon } from "./_run.ts";

const FAST = "other_config:lacp-time=fast";

function tcp(srcPort: number): string {
  return "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
    "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no)," +
    `tcp(src=${srcPort},dst=80)`;
}

/** TX packets of `port` in dpctl/show -s. */
async function txPackets(d: TestDaemon, port: string): Promise<number> {
  const text = await ok(d, ["dpctl/show", "-s"]);
  const m = new RegExp(`: ${port} \\(dummy\\)\\n.*\\n\\s+TX packets:(\\d+)`).exec(text);
  return m ? Number(m[1]) : -1;
}

Deno.test("two daemons negotiate LACP over a two-link bond and carry traffic through it", async () => {
  const sockets = await Deno.makeTempDir({ prefix: "udpif-bond-" });
  let a: TestDaemon | undefined, b: TestDaemon | undefined;
  try {
    a = await TestDaemon.start(["--datapath-type", "dummy"], {
      ports: [
        "p1:1",
        `a1:4,pstream=punix:${sockets}/l1`,
        `a2:5,pstream=punix:${sockets}/l2`,
        `bond0,type=bond,members=a1+a2,bond_mode=balance-tcp,lacp=active,${FAST},` +
        "other_config:lacp-system-id=02:00:00:00:00:0a,other_config:bond-rebalance-interval=1000",
      ],
    });
    b = await TestDaemon.start(["--datapath-type", "dummy"], {
      ports: [
        "p1:1",
        `b1:4,stream=unix:${sockets}/l1`,
        `b2:5,stream=unix:${sockets}/l2`,
        `bond0,type=bond,members=b1+b2,bond_mode=balance-slb,lacp=active,${FAST},` +
        "other_config:lacp-system-id=02:00:00:00:00:0b",
      ],
    });
    const [da, db] = [a, b];
    for (const d of [da, db]) await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);

    for (const [d, m] of [[da, "a"], [db, "b"]] as const) {
      await pollUntilAsync(async () => {
        const lacp = await ok(d, ["lacp/show", "bond0"]);
        return lacp.includes("status: active negotiated") &&
          lacp.includes(`member: ${m}1: current attached`) &&
          lacp.includes(`member: ${m}2: current attached`) &&
          (await ok(d, ["bond/show", "bond0"])).includes("lacp_status: negotiated");
      }, `daemon ${m} negotiating LACP`);
    }
    const lacpA = await ok(da, ["lacp/show"]);
    assert.match(lacpA, /partner sys_id: 02:00:00:00:00:0b\n/);
    // Both ends: a member B has not enabled yet drops what A sends on it
    // (bond_check_admissibility), whatever LACP says.
    for (const [d, m] of [[da, "a"], [db, "b"]] as const) {
      await pollUntilAsync(async () => {
        const show = await ok(d, ["bond/show", "bond0"]);
        return show.includes(`member ${m}1: enabled`) && show.includes(`member ${m}2: enabled`);
      }, `${m.toUpperCase()} enabling both members`);
    }

    const packets = Array.from({ length: 8 }, (_, i) => tcp(1000 + i));
    await ok(da, ["netdev-dummy/receive", "p1", ...packets]);
    await ok(da, ["revalidator/wait"]);
    const flows = await ok(da, ["dpctl/dump-flows"]);
    assert.match(flows, /in_port\(1\),.*actions:hash\(l4\(0\)\),recirc\(0x1\)/);
    assert.match(
      flows,
      /recirc_id\(0x1\),dp_hash\(0x[0-9a-f]+\/0xff\),in_port\(1\),.*actions:[23]\n/,
    );
    await pollUntilAsync(
      async () => await txPackets(db, "p1") === 8,
      "B sending A's 8 packets out of p1",
    );

    // Rebalancing counts a balance-tcp bucket's bytes from its
    // post-recirculation rule (bond_recirculation_account), shows them in
    // bond/show, and halves them at each rebalance (every second here).
    const big = Array.from({ length: 40 }, () => [tcp(2000), "--len", "1500"]).flat();
    await ok(da, ["netdev-dummy/receive", "p1", ...big]);
    const load = /\n {2}hash (\d+): (\d+) kB load\n/;
    let first = 0;
    await pollUntilAsync(async () => {
      await ok(da, ["revalidator/wait"]);
      const m = load.exec(await ok(da, ["bond/show", "bond0"]));
      first = m ? Number(m[2]) : 0;
      return first > 0;
    }, "A's bond/show showing the bucket's load");
    assert.ok(first <= 59, `${first} kB: at most the 60000 bytes sent`);
    await pollUntilAsync(
      async () => !load.test(await ok(da, ["bond/show", "bond0"])),
      "the load halving away at each rebalance",
    );

    // A's a1 goes down: A stops sending on it; B's partner there expires, then defaults.
    await ok(da, ["ofctl", "mod-port", "br0", "a1", "down"]);
    assert.match(
      await ok(da, ["bond/show", "bond0"]),
      /member a1: disabled\n {2}may_enable: false\n/,
    );
    await ok(db, ["time/stop"]);
    await pollUntilAsync(async () => {
      await ok(db, ["time/warp", "3100"]);
      return (await ok(db, ["lacp/show", "bond0"])).includes("member: b1: defaulted detached");
    }, "B's b1 partner defaulting");
    const showB = await ok(db, ["bond/show", "bond0"]);
    assert.match(showB, /member b1: disabled\n {2}may_enable: false\n/);
  } finally {
    await b?.stop();
    await a?.stop();
    await Deno.remove(sockets, { recursive: true });
  }
});
