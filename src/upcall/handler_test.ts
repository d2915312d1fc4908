import assert from "node:assert/strict";
import { F } from "../flow/mod.ts";
import { clockStop, clockWarp, coverageTotal } from "../lib/mod.ts";
import { Handler } from "./handler.ts";
import { tcpFrame, testUdpif } from "../../tests/support/upcall/test_support.ts";
import { UKEY_OPERATIONAL } from "./ukey_table.ts";
import { DpifUpcall } from "../dpif/mod.ts";

const count = (n: string) => coverageTotal(n) ?? 0;
clockStop();

function dumpAll(t: ReturnType<typeof testUdpif>) {
  const out = Array.from({ length: 50 }, () => t.binding.newDumpedFlow());
  t.binding.dumpStart();
  t.binding.dumpThreadStart(0, false);
  const flows = [];
  for (let n; (n = t.binding.dumpNext(0, out, 50)) > 0;) {
    for (let i = 0; i < n; i++) {
      flows.push({
        key: out[i].key.slice(),
        mask: out[i].mask.slice(),
        actions: t.binding.flowActions(out[i]),
        packets: out[i].packets,
      });
    }
  }
  return flows;
}

Deno.test("a miss installs a megaflow masked by what translation looked at, and forwards the packet", () => {
  const t = testUdpif();
  t.xlate.add(10, { nw_proto: 6, tp_dst: 80 }, [{ type: "output", port: 2 }]);
  t.xlate.add(0, {}, []);
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  assert.equal(h.runOnce(), 1);
  const flows = dumpAll(t);
  assert.equal(flows.length, 1);
  const m = new Uint8Array(flows[0].mask.buffer);
  assert.equal(m[F.tp_dst.off], 0xff, "tp_dst is matched");
  assert.equal(m[F.tp_src.off], 0, "tp_src stays wildcarded");
  assert.equal(m[F.nw_src.off], 0, "nw_src stays wildcarded");
  assert.equal(m[F.in_port.off + 3], 0xff, "in_port is always exact");
  assert.deepEqual(flows[0].actions, [{ type: "output", port: 2 }]);
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 1, "the upcalled packet was executed");
  const slot = t.ctx.ukeys.lookup(h.batch[0].ufid, 0);
  assert.ok(slot >= 0);
  assert.equal(t.ctx.ukeys.state(slot), UKEY_OPERATIONAL);
  // A second packet of another connection to port 80 hits the megaflow.
  t.p1.receive([tcpFrame(3, 4, 2000, 80)]);
  t.pump();
  assert.equal(h.runOnce(), 0);
  assert.equal(dumpAll(t)[0].packets, 1);
  t.destroy();
});

Deno.test("duplicate upcalls in a batch translate once, install once and forward every packet", () => {
  const t = testUdpif();
  const rule = t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const dup = count("handler_duplicate_upcall");
  const f = tcpFrame(1, 2, 1000, 80);
  t.p1.receive([f, f, f]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  assert.equal(h.runOnce(), 3);
  assert.equal(t.xlate.translations, 1);
  assert.equal(dumpAll(t).length, 1);
  assert.equal(t.ctx.ukeys.count(), 1);
  assert.equal(count("handler_duplicate_upcall"), dup + 2);
  assert.equal(t.xlate.nPackets(rule), 3, "every packet is credited to the rule");
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 3);
  t.destroy();
});

Deno.test("a ukey another handler already installed makes the upcall a duplicate", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const f = tcpFrame(1, 2, 1000, 80);
  t.p1.receive([f]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  h.runOnce();
  // The same upcall again, as a second handler queue would deliver it.
  const again = new Handler(t.ctx, 0);
  (again.batch[0] as DpifUpcall).type = h.batch[0].type;
  again.batch[0].ufid.set(h.batch[0].ufid);
  again.batch[0].key.set(h.batch[0].key);
  again.batch[0].packet.set(f);
  again.batch[0].packetLen = f.length;
  const dup = count("handler_duplicate_upcall");
  again.handleBatch(1);
  assert.equal(count("handler_duplicate_upcall"), dup + 1);
  assert.equal(t.ctx.ukeys.count(), 1);
  t.destroy();
});

Deno.test("at the flow limit a handler forwards but installs nothing, and says so", () => {
  const t = testUdpif();
  // A rule on tp_src makes every megaflow exact on it: one flow per connection.
  t.xlate.add(10, { tp_src: 9999 }, []);
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  t.ctx.shared.flowLimit = 2;
  const hit = count("upcall_flow_limit_hit");
  const h = new Handler(t.ctx, 0);
  for (let i = 0; i < 4; i++) {
    clockWarp(101);
    t.p1.receive([tcpFrame(1, 2, 1000 + i, 80)]);
    t.pump();
    h.runOnce();
  }
  assert.equal(dumpAll(t).length, 2);
  assert.equal(t.ctx.ukeys.count(), 2);
  assert.equal(count("upcall_flow_limit_hit"), hit + 2);
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 4);
  t.destroy();
});

Deno.test("with megaflows disabled the flow matches every field the packet has", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  t.ctx.shared.megaflows = false;
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  new Handler(t.ctx, 0).runOnce();
  const m = new Uint8Array(dumpAll(t)[0].mask.buffer);
  for (const f of [F.nw_src, F.nw_dst, F.tp_src, F.tp_dst, F.tcp_flags, F.dl_src, F.recirc_id]) {
    assert.equal(m[f.off], 0xff);
  }
  assert.equal(m[F.ipv6_src.off], 0, "fields an IPv4 packet lacks stay wildcarded");
  assert.equal(m[F.regs.off], 0);
  t.destroy();
});

Deno.test("a slow-path flow gets a userspace action with a slow-path cookie", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }], 1 << 5);
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  new Handler(t.ctx, 0).runOnce();
  const a = dumpAll(t)[0].actions;
  assert.equal(a.length, 1);
  assert.equal(a[0].type, "userspace");
  const ud = (a[0] as { userdata: Uint8Array }).userdata;
  assert.equal(ud.length, 48);
  assert.equal(ud[0], 2, "USER_ACTION_COOKIE_SLOW_PATH");
  assert.equal(ud[28], 1 << 5, "reason: action");
  t.destroy();
});

Deno.test("a translation that throws drops the packet and the handler goes on", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const translate = t.xlate.translate.bind(t.xlate);
  t.xlate.translate = (req) => {
    if (new Uint8Array(req.key.buffer)[F.tp_src.off + 1] === 0x01) throw new Error("boom");
    return translate(req);
  };
  t.p1.receive([tcpFrame(1, 2, 1, 80), tcpFrame(1, 2, 2, 80)]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  assert.equal(h.runOnce(), 2);
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 1, "only the packet that translated was forwarded");
  t.destroy();
});

/** A controller cookie (type 5) with dont_send at byte 24. */
function controllerCookie(dontSend: boolean): Uint8Array {
  const c = new Uint8Array(48);
  c[0] = 5;
  c[24] = dontSend ? 1 : 0;
  return c;
}

Deno.test("a controller action's upcall is a datapath drop unless the cookie says dont_send", () => {
  for (const dontSend of [false, true]) {
    const t = testUdpif();
    const userdata = controllerCookie(dontSend);
    t.xlate.add(0, {}, [{ type: "userspace", pid: 0, userdata }]);
    t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
    t.pump();
    const h = new Handler(t.ctx, 0);
    const before = count("datapath_drop_userspace_action_error");
    assert.equal(h.runOnce(), 1, "the miss");
    t.pump();
    assert.equal(h.runOnce(), 1, "the executed packet's controller upcall");
    assert.equal(count("datapath_drop_userspace_action_error") - before, dontSend ? 0 : 1);
    t.destroy();
  }
});

Deno.test("a missed packet whose translation has no actions counts as dropped by the pipeline", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, []);
  t.p1.receive([tcpFrame(1, 2, 1000, 80), tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  const before = count("drop_action_of_pipeline");
  assert.equal(new Handler(t.ctx, 0).runOnce(), 2);
  assert.equal(count("drop_action_of_pipeline") - before, 2, "the duplicate too");
  t.destroy();
});

Deno.test("a controller action followed by other actions keeps its packet: a failed upcall drops nothing", () => {
  const t = testUdpif();
  const userdata = controllerCookie(false);
  t.xlate.add(0, {}, [{ type: "userspace", pid: 0, userdata }, { type: "output", port: 2 }]);
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  const before = count("datapath_drop_userspace_action_error");
  assert.equal(h.runOnce(), 1, "the miss");
  t.pump();
  assert.equal(h.runOnce(), 1, "the executed packet's controller upcall");
  assert.equal(count("datapath_drop_userspace_action_error") - before, 0);
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 1, "the packet still left by port 2");
  t.destroy();
});

Deno.test("a translation's side effects are announced only once the batch's flows are installed", () => {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const h = new Handler(t.ctx, 0);
  // What a revalidation woken at the announcement would find.
  const seen: { flows: number; state: number }[] = [];
  t.xlate.upcallsInstalled = () => {
    const slot = t.ctx.ukeys.lookup(h.batch[0].ufid, 0);
    seen.push({ flows: dumpAll(t).length, state: slot >= 0 ? t.ctx.ukeys.state(slot) : -1 });
  };
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  assert.equal(h.runOnce(), 1);
  assert.deepEqual(seen, [{ flows: 1, state: UKEY_OPERATIONAL }]);
  t.destroy();
});

Deno.test("a miss whose translation avoids caching is installed all the same, as OVS 3.1's handlers do", () => {
  // upcall_xlate, should_install_flow and ukey_install never read
  // xout->avoid_caching; only revalidate_ukey__ does. A handler translates
  // with side effects, where a learn learns and cannot set it anyway.
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const translate = t.xlate.translate.bind(t.xlate);
  t.xlate.translate = (req) => ({ ...translate(req), avoidCaching: true });
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  const h = new Handler(t.ctx, 0);
  assert.equal(h.runOnce(), 1);
  assert.equal(dumpAll(t).length, 1);
  t.p2.pollTx();
  assert.equal(t.p2.txFrames.length, 1);
  t.destroy();
});
