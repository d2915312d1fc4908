/**
 * Ofconn against real ovs-ofctl conversations recorded from OVS
 * (fixtures/openflow/*.txt, scripts/capture-openflow.sh): each request
 * ovs-ofctl sent is fed in order, over real OfTables; the replies must
 * decode (ovs-ofctl ofp-print is the check in tests/interop) and the
 * tables must end up as OVS's did.
 */
import assert from "node:assert/strict";
import { type FlowMod, OfTables, type Rule } from "../ofproto/mod.ts";
import { decodeHeader, OFPT_ERROR } from "../openflow/mod.ts";
import { Ofconn, type OfSwitch } from "./ofconn.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** The client's messages of a recorded step, one list per connection ovs-ofctl opened. */
export function clientMessages(name: string): Uint8Array[][] {
  const text = Deno.readTextFileSync(new URL(`${name}.txt`, FIXTURES));
  return text.split("# connection\n").slice(1).map((conn) =>
    conn.split("\n").filter((l) => l.startsWith("C ")).map((l) => fromHex(l.slice(2)))
  );
}

export class TablesSwitch implements OfSwitch {
  tables = new OfTables();
  now = 1000;
  features() {
    return { datapathId: 1n, nTables: 254, ports: this.ports() };
  }
  ports() {
    return [{ portNo: 1, name: "p1", hwAddr: 0xaa55aa550001n, config: 0, linkDown: false }];
  }
  desc() {
    return { manufacturer: "m", hardware: "h", software: "s", serial: "n", datapath: "d" };
  }
  tableStats() {
    return [{ tableId: 0, activeCount: this.tables.nRules, lookupCount: 0n, matchedCount: 0n }];
  }
  flowMod(fm: FlowMod) {
    this.tables.flowMods([fm], fm.strict, this.now);
  }
  selectRules(filter: FlowMod): Rule[] {
    return this.tables.selectRules(filter);
  }
  nowMs() {
    return this.now;
  }
}

/** Plays `names` conversations on fresh connections to `sw`; returns every reply. */
export function play(sw: OfSwitch, ...names: string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of names) {
    for (const conn of clientMessages(name)) {
      const c = new Ofconn(name, sw, "service");
      c.hello();
      for (const m of conn) out.push(...c.receive(m));
      assert.equal(c.state, "active", name);
    }
  }
  return out;
}

Deno.test("ovs-ofctl's add-flow, add-flows and mod-flows over OF1.0, NXM and OF1.3 build OVS's table", () => {
  const sw = new TablesSwitch();
  const replies = play(sw, "add_of10", "add_nxm", "add_of13", "add_flows", "mod_flows");
  assert.ok(replies.every((r) => decodeHeader(r).type !== OFPT_ERROR));
  const dump = sw.tables.dumpFlows({ noTimes: true });
  const expected = Deno.readTextFileSync(new URL("dump_flows.out", FIXTURES))
    .replace(/ \(xid=0x[0-9a-f]+\)/, "")
    .replace(/ duration=Xs,/g, "")
    .replace(/ idle_age=\d+,/g, "")
    .replace(/ hard_age=\d+,/g, "")
    .replace(/## exit 0\n$/, "");
  assert.equal(dump, expected);
});
