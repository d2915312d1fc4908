/**
 * What OVS learned after 3.1, through the command line, as OVS's own
 * testsuite expects it (no newer OVS runs here to record from):
 * "ofproto-dpif - Cleanup missing datapath flows" (tests/ofproto-dpif.at,
 * OVS 3.5) and the ofproto/detrace checks of tests/system-traffic.at
 * (OVS 3.4), each also run with `ovs-compat=3.1` where 3.1 differs.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

const ICMP_PKT = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.10.10.2,dst=10.10.10.1,proto=1,tos=1,ttl=128,frag=no),icmp(type=8,code=0)";
const TCP_PKT = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

/** The `(keys N)` figures of upcall/show. */
async function keys(d: TestDaemon): Promise<number[]> {
  const show = await ok(d, ["upcall/show"]);
  return [...show.matchAll(/\(keys (\d+)\)/g)].map((m) => Number(m[1]));
}

async function coverage(d: TestDaemon, name: string): Promise<number> {
  const show = await ok(d, ["coverage/show"]);
  const m = new RegExp(`^${name} .*total: (\\d+)$`, "m").exec(show);
  return m ? Number(m[1]) : 0;
}

/** The testsuite's ofctl_strip, for the lines detrace prints. */
function ofctlStrip(s: string): string {
  return s.replace(/ duration=[0-9.]*s,/g, "").replace(/ cookie=0x0,/g, "")
    .replace(/ n_packets=0,/g, "").replace(/ n_offload_packets=[0-9]*,/g, "")
    .replace(/ n_bytes=0,/g, "").replace(/ n_offload_bytes=[0-9]*,/g, "");
}

async function cleanupMissing(extra: string[]): Promise<{ keys: number[]; missing: number }> {
  const d = await TestDaemon.start(["--datapath-type", "dummy", ...extra]);
  try {
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["netdev-dummy/receive", "p1", ICMP_PKT]);
    const flows = await ok(d, ["dpctl/dump-flows"]);
    assert.match(flows, /^recirc_id\(0\),in_port\(1\),.*actions:/m);
    assert.ok((await keys(d)).some((k) => k === 1), "the ukey exists");
    await ok(d, ["dpctl/del-flows"]);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), "");
    // At least 4 * 500 ms.
    await ok(d, ["time/warp", "3000", "300"]);
    return { keys: await keys(d), missing: await coverage(d, "revalidate_missing_dp_flow") };
  } finally {
    await d.stop();
  }
}

Deno.test("ofproto-dpif - Cleanup missing datapath flows (OVS 3.5, 180ab2fd6)", async () => {
  const r = await cleanupMissing([]);
  assert.ok(r.keys.every((k) => k === 0), `no more ukeys: ${r.keys}`);
  assert.equal(r.missing, 1);
});

Deno.test("Cleanup missing datapath flows with ovs-compat=3.1: the stale ukey stays, as in OVS 3.1", async () => {
  const r = await cleanupMissing(["--other-config", "ovs-compat=3.1"]);
  assert.ok(r.keys.some((k) => k === 1), `the ukey stays: ${r.keys}`);
  assert.equal(r.missing, 0);
});

/**
 * "dpif-netdev - revalidators handle dp modification fail correctly"
 * (tests/dpif-netdev.at, OVS 3.2, cf11766cb), step for step. udpif's sweep
 * fetches a flow before translating it again (its ukeys do not keep the
 * key), so here the missing flow is deleted there and no modify is tried
 * (no "failed to put" line): the ukey goes in both modes. Ports by number
 * (udpif's ofctl takes no port names). A modify that
 * does fail is provoked in src/upcall/post31_modify_fail_test.ts.
 */
Deno.test("dpif-netdev - revalidators handle dp modification fail correctly (OVS 3.2)", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, ["ofctl", "add-flow", "br0", "table=0,in_port=1,actions=2"]);
    await ok(d, ["netdev-dummy/receive", "p1", TCP_PKT]);
    await ok(d, ["netdev-dummy/receive", "p1", TCP_PKT]);
    assert.match(await ok(d, ["dpctl/dump-flows"]), /actions:2$/m);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/pause"]);
    await ok(d, ["dpctl/del-flows"]);
    await ok(d, ["revalidator/resume"]);
    // replace-flows, which udpif's ofctl lacks, as the two changes it makes.
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, ["ofctl", "add-flow", "br0", "table=0,in_port=1,ip actions=ct(commit)"]);
    await ok(d, ["revalidator/wait"]);
    assert.ok((await keys(d)).every((k) => k === 0), "the inconsistent ukey is gone");
  } finally {
    await d.stop();
  }
});

Deno.test("upcall/show --reasons counts the deletion, under flow_missing_dp", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["netdev-dummy/receive", "p1", ICMP_PKT]);
    await ok(d, ["dpctl/del-flows"]);
    await ok(d, ["time/warp", "3000", "300"]);
    const show = await ok(d, ["upcall/show", "--reasons"]);
    assert.match(show, /^ {2}ukeys deleted, by reason:\n {4}none {12}: 0\n/m);
    assert.match(show, /^ {4}flow_missing_dp : 1$/m);
    assert.match(show, /^ {4}flow_idle {7}: 0$/m);
    const json = JSON.parse(await ok(d, ["upcall/show", "--reasons", "--format", "json"]));
    assert.equal(json[0].deletion_reasons.flow_missing_dp, 1);
    const bad = await d.run(["upcall/show", "--why"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--why/);
  } finally {
    await d.stop();
  }
});

Deno.test("ofproto/detrace: the rules behind a datapath flow, from its xlate cache (OVS 3.4)", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(
      d,
      ["ofctl", "add-flows", "br0", "-"],
      "cookie=0x12345678,priority=100,ip,in_port=1,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
        "table=1,priority=200,tcp,actions=resubmit(,2)\n" +
        "table=1,priority=100,ip,actions=output:2\n",
    );
    await ok(d, ["netdev-dummy/receive", "p1", TCP_PKT]);
    await ok(d, ["revalidator/wait"]);
    const ufid = (await ok(d, ["dpctl/dump-flows", "-m"])).match(/^ufid:[0-9a-f-]+/m)![0];
    // No packet since the upcall and no rule change: no revalidator has cached it.
    assert.equal(
      await ok(d, ["ofproto/detrace", ufid]),
      "Cache was not found for dummy@ovs-dummy\n",
    );
    // An unrelated change: the next revalidation fills the cache.
    await ok(d, ["ofctl", "add-flow", "br0", "table=15,ip,actions=drop"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/pause"]);
    const out = await ok(d, ["ofproto/detrace", ufid]);
    assert.equal(
      ofctlStrip(out),
      "br0\n" +
        "  cookie=0x12345678, n_packets=1, n_bytes=118, priority=100,ip,in_port=1,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
        "  table_id=1, n_packets=1, n_bytes=118, priority=200,tcp,actions=resubmit(,2)\n" +
        "  table_id=2, no match\n",
    );
    assert.match(
      out,
      /^ {2}cookie=0x12345678, duration=\d+s, n_packets=1, n_bytes=118, n_offload_packets=0, n_offload_bytes=0, /m,
    );
    assert.equal(
      ofctlStrip(await ok(d, ["ofproto/detrace", ufid, "pmd=-1"])),
      ofctlStrip(out),
      "pmd=-1 is the main thread",
    );
    assert.equal(
      await ok(d, ["ofproto/detrace", ufid, "pmd=3"]),
      "UFID was not found for dummy@ovs-dummy\n",
    );
    assert.equal(
      await ok(d, ["ofproto/detrace", "ufid:00000000-0000-0000-0000-000000000000"]),
      "UFID was not found for dummy@ovs-dummy\n",
    );
    const bad = await d.run(["ofproto/detrace", ufid.slice(5)]);
    assert.deepEqual([bad.code, bad.stderr.trim()], [2, "failed to parse ufid"]);
    const badPmd = await d.run(["ofproto/detrace", ufid, "core=1"]);
    assert.deepEqual(
      [badPmd.code, badPmd.stderr.trim()],
      [2, "Invalid pmd argument format. Expecting 'pmd=PMD-ID'"],
    );
    const json = JSON.parse(await ok(d, ["ofproto/detrace", ufid, "--format", "json"]));
    assert.deepEqual(Object.keys(json), ["reply-format", "reply"], "OVS wraps the text");
    assert.equal(ofctlStrip(json.reply), ofctlStrip(out));
    await ok(d, ["revalidator/resume"]);
  } finally {
    await d.stop();
  }
});
