/**
 * A bond's gratuitous learning packets (ofproto/bond.c
 * bond_compose_learning_packet): after bond/set-active-member moves an
 * active-backup bond to p5, every MAC learned on another port (p1) is
 * announced out of p5 with a RARP from it, tagged with its VLAN, and
 * back out of p4 when p4 is active again. The frames are OVS 3.1's (seen
 * with ovs-pcap on the same steps).
 */
import assert from "node:assert/strict";
import { readPcapPrefix, toHex } from "../../src/packet/mod.ts";
import { pollUntil } from "../poll.ts";
import { ok, TestDaemon } from "./_run.ts";

const RARP_05 =
  "ffffffffffff505400000005803500010800060400035054000000050000000050540000000500000000";
const RARP_06 =
  "ffffffffffff5054000000068100000a803500010800060400035054000000060000000050540000000600000000";

function sent(path: string): string[] {
  try {
    return readPcapPrefix(Deno.readFileSync(path)).packets.map((p) => toHex(p.data));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

Deno.test("a bond failover announces the MACs learned elsewhere out of the new member", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-bond-learn-" });
  let d: TestDaemon | undefined;
  try {
    d = await TestDaemon.start(["--datapath-type", "dummy"], {
      ports: [
        "p1:1",
        `p4:4,tx_pcap=${dir}/p4.pcap`,
        `p5:5,tx_pcap=${dir}/p5.pcap`,
        "bond0,type=bond,members=p4+p5,bond_mode=active-backup",
      ],
    });
    await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);
    await ok(d, [
      "netdev-dummy/receive",
      "p1",
      "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
      "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)",
      "in_port(1),eth(src=50:54:00:00:00:06,dst=50:54:00:00:00:07),eth_type(0x8100),vlan(vid=10,pcp=0)," +
      "encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80))",
    ]);
    await ok(d, ["revalidator/wait"]);
    assert.match(await ok(d, ["fdb/show", "br0"]), /1 +10 +50:54:00:00:00:06/);
    assert.deepEqual(sent(`${dir}/p5.pcap`), [], "nothing leaves the backup member");

    assert.equal(await ok(d, ["bond/set-active-member", "bond0", "p5"]), "done\n");
    await pollUntil(() => sent(`${dir}/p5.pcap`).length >= 2, "learning packets out of p5");
    assert.deepEqual(sent(`${dir}/p5.pcap`), [RARP_05, RARP_06]);

    assert.equal(await ok(d, ["bond/set-active-member", "bond0", "p4"]), "done\n");
    await pollUntil(() => sent(`${dir}/p4.pcap`).length >= 4, "learning packets out of p4");
    assert.deepEqual(sent(`${dir}/p4.pcap`).slice(2), [RARP_05, RARP_06]);
    assert.equal(sent(`${dir}/p5.pcap`).length, 2, "no more out of p5");
  } finally {
    await d?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
